// A TCP connection on a worker's loop: input buffer, output queue (bytes, then file ranges sent
// with sendfile), timeouts, and flow control. Protocols plug in a ConnectionHandler.
//
// Contract with handlers:
//  - onReadable(): new bytes are in pendingInput(). Consume what was parsed with consume(n);
//    append responses to output() (and queueFile() for sendfile bodies). The connection
//    flushes once after the handler returns, so every response produced from one read leaves
//    in as few syscalls as the kernel allows (one send for all byte responses).
//  - While output is blocked the connection stops reading (a pipelining client cannot make us
//    buffer without bound) and re-arms reading when drained, calling onDrained() so streaming
//    handlers can queue the next part.
//  - closeAfterFlush()/abort() only set flags; the connection closes itself when the handler
//    returns, so handlers never see a dangling `this`.
//  - upgrade(next) hands the connection (socket, unread input, output queue, timeouts) to another
//    handler: effective when the current callback returns; the old handler is then destroyed
//    (without onClose: it handed over, nothing closed) and the new one gets onReadable() at once
//    if input is pending (bytes that arrived in the same read as an HTTP Upgrade request).
//
// Lingering close (as nginx's lingering_close): when a close was asked for while the peer may
// still be sending (unread input buffered or waiting in the socket, or lingerOnClose() was
// called because the request was cut short by an error), closing at once would make the kernel
// answer the next bytes with a reset, and the reset can destroy the response still unread in the
// peer's receive buffer. So once the output is flushed the connection half-closes (shutdown
// SHUT_WR: the peer sees the response and then EOF), reads and discards input without calling the
// handler, and closes on the peer's EOF, after kLingeringTimeout without input, or after
// kLingeringTime in total, whichever comes first (defaults in connection.cpp: 2 s and 10 s; nginx
// uses 5 s and 30 s). Graceful stop closes lingering connections at once.
//
// TLS: startTls() before start() puts a worker/tls.hpp session between the socket and the
// buffers. The handshake runs on the connection's own events (its timeouts apply); the handler
// is called once it is complete and sees plaintext only; close sends close_notify.
//
// Outbound: a Connection may also wrap a socket that worker/connector.hpp connected; it then works
// the same (the handler reads the response, writes requests to output()).
//
// Internal: a Connection may have no socket at all, only a ConnectionPeer inside the worker
// (the HTTP/2 gateway's, protocols/http/h2_session.hpp): the peer brings input with deliver()
// and takes the output (bytes, and queued files as ranges, not read) through its own calls; the
// handler cannot tell. No syscall, no watcher: timeouts and close flags work as for a socket.
#pragma once

#include <ev.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace manifold {

class WorkerRuntime;
class Connection;
class TlsSession;

// An open file shared by the fd cache and the output queues that still send from it.
struct OpenFile {
  int fd = -1;
  explicit OpenFile(int f) : fd(f) {}
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
};

// The far end of an internal connection (see the header comment).
class ConnectionPeer {
 public:
  virtual ~ConnectionPeer() = default;
  // As send(2): bytes taken (all or part), or -1 with errno EAGAIN while full
  // (Connection::resumeOutput() when room is made).
  virtual ssize_t take(const char* data, size_t length) = 0;
  // A queued file range, as sendfile(2): advances *offset by what was taken (the peer keeps
  // `file` and reads the range itself when it sends it on).
  virtual ssize_t takeFile(const std::shared_ptr<OpenFile>& file, off_t* offset, size_t length) = 0;
  // The connection is closing (it is destroyed when this returns): forget it.
  virtual void closed(Connection& conn) = 0;
  // Its handler stopped pausing input (pauseReading(false)): deliver() takes bytes again.
  virtual void readable(Connection&) {}
};

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void onReadable(Connection& conn) = 0;
  virtual void onDrained(Connection&) {}
  // A request is partly received or being answered: graceful stop waits for it.
  virtual bool busy() const { return false; }
  // An answer is being prepared off the loop (a parked HTTP request): the connection stays open
  // through the peer's half-close until that answer has been sent.
  virtual bool awaitingAnswer() const { return false; }
  // Graceful stop began (once per connection, outside its callbacks): a multiplexing protocol
  // may queue a last message (HTTP/2 GOAWAY) and return true; the connection then sends it
  // and lives on while busy(). False: closed at once if idle, as other connections.
  virtual bool onDrain(Connection&) { return false; }
  virtual void onClose(Connection&) {}
};

class Connection {
 public:
  Connection(WorkerRuntime& runtime, int fd, const sockaddr_storage& peer, socklen_t peerLen);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // An internal connection (see the header comment): `peer` outlives it or is told by closed().
  Connection(WorkerRuntime& runtime, ConnectionPeer& peer, const sockaddr_storage& peerAddress,
             socklen_t peerLen);
  // Internal: input as if read from a socket (the handler runs, the output goes to the peer);
  // returns the bytes taken (fewer while the handler leaves input unconsumed, none while it
  // pauses reading: see ConnectionPeer::readable). The connection
  // may be destroyed before this returns (the handler closed it).
  size_t deliver(std::string_view bytes);
  // Internal: the peer has room again; the rest of the output goes on the next loop turn.
  void resumeOutput();
  bool internal() const { return internalPeer_ != nullptr; }

  void start(std::unique_ptr<ConnectionHandler> handler);
  // Before start(): the connection speaks TLS through `session` (see the header comment).
  void startTls(std::unique_ptr<TlsSession> session);
  TlsSession* tls() const { return tls_.get(); }
  // Hands the connection to `next` (see the contract above). Outside a callback of this
  // connection it takes effect at once, and the connection may then be closed before this
  // returns (the new handler asked for it): do not touch it afterwards.
  void upgrade(std::unique_ptr<ConnectionHandler> next);
  ConnectionHandler* handler() const { return handler_.get(); }

  WorkerRuntime& runtime() { return runtime_; }
  int fd() const { return fd_; }
  const sockaddr* peerAddress() const { return &peer_.any; }
  // For callers that take sockaddr_storage: only the family's own fields may be read.
  const sockaddr_storage& peer() const { return reinterpret_cast<const sockaddr_storage&>(peer_); }
  socklen_t peerLength() const { return peerLen_; }

  std::string_view pendingInput() const {
    return std::string_view(in_.data() + inStart_, inEnd_ - inStart_);
  }
  void consume(size_t n) { inStart_ += n; }

  std::string& output();  // taken from the worker's pool on first use after idling
  // Send `length` bytes of `file` from `offset` after everything appended to output() so far.
  void queueFile(std::shared_ptr<OpenFile> file, off_t offset, uint64_t length);
  bool outputPending() const { return outSent_ < out_.size() || hasFiles(); }

  void closeAfterFlush() { closeAfterFlush_ = true; }
  // The close that follows should linger even if no input is visible yet: the peer was cut off
  // mid-request (an error answered before its request ended) and is probably still sending.
  void lingerOnClose() { lingerOnClose_ = true; }
  void abort() { abort_ = true; }
  bool closing() const { return closeAfterFlush_ || abort_; }
  bool lingering() const { return lingering_; }
  // Closes now (handler's onClose runs); inside one of this connection's callbacks it only sets
  // the abort flag. For owners outside the connection (connection pools, probes).
  void close();

  // Timeouts while waiting for input: an idle timeout is extended by every read; a deadline is
  // fixed from now (slow senders cannot stretch it a byte at a time). 0 disables.
  void setIdleTimeout(double seconds);
  void setDeadline(double seconds);
  // Applies while output is blocked: a client that stops reading is dropped.
  void setSendTimeout(double seconds) { sendTimeout_ = static_cast<float>(seconds); }
  // A new exchange starts on a connection that sat idle (taken from a keep-alive pool): idle
  // timeouts count from now, not from the last byte of the previous exchange.
  void markActive();

  // Graceful stop: close now if nothing is in flight, else when the current work ends.
  void closeIfIdle();
  // Hands the input already received to the handler again, outside an I/O event (a parked HTTP
  // request resuming once work off the loop is done), then flushes and re-arms as after an
  // event. The connection may be destroyed before this returns.
  void reprocess();
  double lastActivity() const { return lastActivity_; }
  // Relaying between two connections (a proxy): output appended from outside this connection's
  // own callbacks leaves with send(), which also applies close flags (the connection may be
  // destroyed before it returns; inside its own callbacks it does nothing, the flush follows).
  // While reading is paused the connection reads nothing, so a peer that outruns the other side
  // fills its own socket buffers, not ours.
  void send();
  void pauseReading(bool paused);

 private:
  friend class WorkerRuntime;
  void onIo(int events);
  void onTimer();
  double now() const;  // the loop's cached time
  static void onIoEvent(struct ev_loop*, ev_io* watcher, int events);
  static void onTimerEvent(struct ev_loop*, ev_timer* watcher, int);
  void handleRead();
  bool makeRoom();  // input space after the unread bytes; false at kInputMax
  void flush();
  void afterEvent();  // applies close flags, re-arms watchers
  void armTimer();
  double expiry() const;  // loop time at which the current timeout closes, 0 for none
  void destroy();
  void applyUpgrade();  // installs a pending next_ handler once the current callback returned
  bool startLingering();
  void discardInput();
  bool idle() const;
  void releaseBuffers();  // idle connections hold no buffers: a few hundred bytes each
  bool hasFiles() const { return files_ && !files_->empty(); }
  // The socket calls, through TLS when it is on (read(2)/send(2)/sendfile(2) contracts).
  ssize_t readSome(char* buffer, size_t length);
  ssize_t sendSome(const char* data, size_t length, int flags);
  ssize_t sendFileSome(int fd, off_t* offset, size_t length);
  bool tlsHandshake();  // false while the handshake is not complete (or failed: abort_ set)

  struct FileChunk {
    size_t position;  // offset in out_ before which this file goes
    std::shared_ptr<OpenFile> file;
    off_t offset;
    uint64_t remaining;
  };

  // Members ordered by size: every idle keep-alive connection carries this object, so it is
  // kept small (buffers are pooled, file chunks allocated only when a file is queued).
  WorkerRuntime& runtime_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::unique_ptr<ConnectionHandler> next_;  // upgrade asked for during a callback
  std::unique_ptr<std::vector<FileChunk>> files_;
  std::unique_ptr<TlsSession> tls_;
  ConnectionPeer* internalPeer_ = nullptr;  // an internal connection's far end (no socket)
  // Raw libev watchers, not IoWatcher/Timer: worker/ owns libev, and their std::function
  // callbacks would add 80 bytes to every idle keep-alive connection.
  ev_io io_;
  ev_timer timer_;
  std::string in_;  // size() is the allocated space; [inStart_, inEnd_) holds unread bytes
  std::string out_;
  double deadlineStart_ = 0;  // the input deadline's start, or lingering's once it began
  double lastActivity_ = 0;
  union {  // 28 bytes instead of sockaddr_storage's 128
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } peer_{};
  socklen_t peerLen_;
  int fd_;
  uint32_t inStart_ = 0;
  uint32_t inEnd_ = 0;
  uint32_t outSent_ = 0;
  uint32_t liveIndex_ = 0;  // position in the runtime's live list
  float timeout_ = 0;
  float sendTimeout_ = 60;
  uint8_t ioEvents_ = 0;
  bool outTaken_ = false;  // out_ is a pooled buffer (an empty string still has SSO capacity)
  bool absoluteDeadline_ = false;
  bool readClosed_ = false;
  bool closeAfterFlush_ = false;
  bool abort_ = false;
  bool inEvent_ = false;
  bool timerSending_ = false;
  bool lingerOnClose_ = false;
  bool lingering_ = false;
  bool readPaused_ = false;
  bool drainNoticed_ = false;
};

}  // namespace manifold
