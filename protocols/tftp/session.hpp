// One TFTP transfer: its own ephemeral UDP socket (the server's TID for this transfer), an
// IoWatcher and a Timer on the worker's loop (made once per pooled session, never per packet), and
// the state machine of a read (RRQ: we send DATA, the client ACKs) or a write (WRQ: the client
// sends DATA, we ACK).
//
// Block numbers are kept as 64-bit counters internally (block 1 = first) and only their low
// 16 bits go on the wire, so transfers roll over past 65535 blocks.
//
// Read: a window of `windowsize` blocks leaves in one sendmmsg (octet: iovecs straight into a
// shared read-only mapping of the file, or one pread for the whole window into the shared send
// buffer where mapping fails). An ACK inside the window moves its start and
// sends the next window at once (RFC 7440, also for partial-window ACKs); an ACK for the block
// before the window start is a duplicate and is ignored: data is only resent on a timeout
// (the Sorcerer's Apprentice fix). Netascii blocks are rebuilt from (file offset, pending
// byte) checkpoints, so a retransmission re-encodes exactly the same bytes.
//
// Sockets: the transfer socket is connect()ed to the client, so the kernel caches the route
// both ways (no route lookup per DATA sent, early demux for each ACK received) and only the
// client's packets reach it. A second, unconnected socket bound to the same port (SO_REUSEADDR,
// set after the first bind picked a free port) receives every other source's packets and
// answers them with error 5 (unknown TID), as RFC 1350 asks. The pair costs one more fd, so
// it is used while the worker has fds to spare (SessionHost::maxConnected); beyond that a
// session runs on one unconnected socket and checks the source of each packet itself.
//
// Write: DATA is written in order into an Upload (temp file); an ACK goes out every
// `windowsize` blocks, on the last (short) block, or once when a gap or duplicate shows the
// client missed our ACK. The file is linked into place when the short block arrives; the
// session then dallies for a while to re-ACK a retransmitted last block.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "protocols/tftp/config.hpp"
#include "protocols/tftp/files.hpp"
#include "protocols/tftp/mapped_files.hpp"
#include "protocols/tftp/netascii.hpp"
#include "protocols/tftp/packet.hpp"
#include "shm/counters.hpp"
#include "worker/io_watcher.hpp"
#include "worker/timer.hpp"

namespace manifold::tftp {

class Session;

// Worker-wide state every session uses: settings, counters, and scratch buffers reused by all
// sessions (the loop runs one session at a time).
struct SessionHost {
  const TftpSettings* settings = nullptr;
  struct ev_loop* loop = nullptr;
  shm::CounterSlot counters;
  int rootFd = -1;
  std::vector<uint8_t> sendBuffer;  // a window of DATA payloads (grown on demand)
  std::vector<uint8_t> readBuffer;  // netascii: raw file bytes of one block
  std::vector<uint8_t> recvBuffer;  // kRecvBatch datagrams of kMaxDatagram bytes
  std::vector<uint8_t> decodeBuffer;
  std::vector<uint8_t> headers;  // 4 bytes per block of a window
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::vector<sockaddr_storage> from;
  MappedFiles mapped;       // octet reads send straight from these
  size_t connected = 0;     // sessions running on a connected socket pair
  size_t maxConnected = 0;  // ... at most (fd budget)
  bool draining = false;    // graceful stop: unverified sessions end at their next timeout
  // The session is over (closed, socket gone): return it to the pool. `wasActive`: it had not
  // been reported idle() before.
  std::function<void(Session*, bool wasActive)> finished;
  std::function<void(Session*)> idle;      // upload done, dallying: no longer in flight
  std::function<void(Session*)> verified;  // the peer answered for the first time

  void count(Counter c, uint64_t n = 1) { counters.add(c, n); }
};

inline constexpr size_t kMaxDatagram = kMaxBlockSize + kHeaderSize;
inline constexpr unsigned kRecvBatch = 32;

class Session {
 public:
  explicit Session(SessionHost& host);
  ~Session();
  Session(const Session&) = delete;

  // Starts a transfer for `request` from `peer`, answering from a new socket bound to `local`
  // (port 0). Returns true if the session took off (it calls host.finished() when it ends,
  // possibly already before returning); false if it was refused, with an ERROR packet for the
  // listen socket to send written to `reply` (replyLen bytes), and the session is still idle.
  bool start(const Request& request, const std::string& path, const sockaddr* peer,
             socklen_t peerLen, const sockaddr* local, socklen_t localLen, uint8_t* reply,
             size_t replyCap, size_t& replyLen);

  bool dallying() const { return state_ == State::Dally; }
  // The peer has answered (RRQ: ACKed the OACK or data; WRQ: sent DATA), so it receives at its
  // source address; until then the source may be spoofed, and the session resends at most
  // unverified_retries times and ends without an ERROR.
  bool verified() const { return verified_; }
  // Graceful stop: an unverified session that has already resent ends now; a younger one ends
  // without resending at its next timeout (host.draining), within a second, which leaves a real
  // client its round trip.
  void drain();
  const sockaddr_storage& peer() const { return peer_; }
  socklen_t peerLen() const { return peerLen_; }
  uint64_t clientKey = 0;  // per-source accounting, kept by the service

 private:
  enum class State : uint8_t { Idle, Oack, Transfer, Dally };

  bool openSocket(const sockaddr* local, socklen_t localLen);
  void connectSocket(const sockaddr* local, socklen_t localLen);
  void answerStrays();
  void receive();
  void handle(const uint8_t* data, size_t len);
  void onTimeout();
  void armTimer();
  void markVerified();

  // read side
  void onAck(uint16_t wire);
  void sendWindow(bool retransmit);
  size_t buildOctetWindow(unsigned& blocks);
  size_t buildNetasciiWindow(unsigned& blocks);
  // write side
  void onData(uint16_t wire, const uint8_t* payload, size_t len);
  bool flushWrites();  // false: failed (session closed)
  void sendAck(uint64_t block);
  bool finishUpload();

  void sendControl();  // (re)sends control_ (OACK / last ACK)
  void sendError(ErrorCode code, std::string_view message, const sockaddr* to, socklen_t toLen);
  void fail(ErrorCode code, std::string_view message, bool notifyPeer = true);
  void succeed();
  void close();

  SessionHost& host_;
  State state_ = State::Idle;
  bool reading_ = true;
  bool verified_ = false;
  bool drainGrace_ = false;  // drain() shortened the timer already
  Mode mode_ = Mode::Octet;
  int sock_ = -1;
  int stray_ = -1;  // unconnected twin of a connected sock_, for unknown TIDs (else -1)
  int file_ = -1;
  IoWatcher io_;
  IoWatcher strayIo_;
  Timer timer_;
  sockaddr_storage peer_{};
  socklen_t peerLen_ = 0;
  uint32_t blksize_ = kDefaultBlockSize;
  uint32_t window_ = 1;
  double timeout_ = 1;
  unsigned timeouts_ = 0;  // consecutive, reset by progress
  std::string path_;       // for logs
  uint8_t control_[256];   // OACK or ACK to resend on timeout
  size_t controlLen_ = 0;

  // read
  uint64_t fileSize_ = 0;
  const uint8_t* map_ = nullptr;         // the file's mapping (octet), else pread into sendBuffer
  uint64_t base_ = 1;                    // first block not yet acknowledged
  uint64_t sentUpTo_ = 0;                // highest block sent
  uint64_t lastBlock_ = 0;               // the short final block, once known (0: not yet)
  std::vector<NetasciiCursor> cursors_;  // netascii: start of block base_ + i

  // write
  Upload upload_;
  NetasciiDecoder decoder_;
  uint64_t received_ = 0;  // highest block received in order
  uint64_t acked_ = 0;     // highest block we ACKed
  uint64_t written_ = 0;   // bytes in the temp file
  bool replace_ = false;
  bool nudged_ = false;  // ACK already resent for a gap/duplicate since the last progress
  bool ackDue_ = false, finalDue_ = false, progress_ = false;  // decided per received batch
  std::vector<iovec> pendingWrites_;
  size_t pendingBytes_ = 0;
};

}  // namespace manifold::tftp
