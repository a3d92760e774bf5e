// One side of a warp transport: a pure state machine, no sockets and no clock of its own.
// The tunnel session feeds it inner packets from the tun device (send) and decrypted frames from
// the wire (receive), and calls poll() when the deadline it asked for (nextDeadline) comes. It
// answers through a Sink: frames to encrypt and send, inner packets to write to the tun device,
// in their original order, each exactly once.
//
// Reliability: every DATA frame has a packet number (pn, per transmission) and a data sequence
// number (seq, per inner packet). The receiver acknowledges pn ranges (selective ACKs, the
// newest 16 ranges) plus a cumulative seq. A pn is lost when 3 later pns are acknowledged or
// 9/8 RTT has passed since a later one was (fast retransmission), or on a probe timeout when
// ACKs stop; its inner packet is then sent again under a new pn. The receiver holds packets
// that arrive after a gap in a reorder buffer and hands them to the tun device in seq order, so
// TCP inside the tunnel sees no loss and no reordering, only delay.
// Congestion: Bbr (bbr.hpp) sets a pacing rate and a window; loss does not slow it down.
// FEC (optional): after every `fecGroup` new DATA frames a PARITY frame carries their XOR, so
// the receiver rebuilds a single lost packet of the group without waiting a round trip.
// Memory: the send buffer and the reorder buffer hold at most `window` packets each, from one
// PacketPool; inner packets that would exceed the queue limit are refused (the tun side drops
// them, which is what TCP inside reads as congestion).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocols/tunnel/warp/bbr.hpp"
#include "protocols/tunnel/warp/compress.hpp"
#include "protocols/tunnel/warp/frame.hpp"
#include "protocols/tunnel/warp/packet_pool.hpp"

namespace manifold::tunnel::warp {

inline constexpr Micros kNever = UINT64_MAX;

struct Config {
  uint32_t mtu = 1400;       // largest inner packet accepted
  uint32_t window = 4096;    // packets in the send buffer, and in the reorder buffer
  uint32_t queue = 0;        // unsent packets accepted; 0 = 2 BDP, >= 1024, <= window / 2
  bool fecAdaptive = false;  // parity only while little waits to be sent
  uint8_t fecGroup = 0;      // DATA frames per PARITY frame, 2..32; 0 = no FEC
  Compression compress = Compression::Off;
  Micros maxAckDelay = 5000;  // an ACK waits at most this long
  uint32_t ackEvery = 2;      // ... or for this many ack-eliciting frames
  // Frames due in this span leave together: a loop timer wakes ~1 ms late, and a sender that
  // only caught up one frame per wake-up would fall behind its own pacing rate.
  Micros pacingQuantum = 2000;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void sendFrame(std::span<const uint8_t> frame) = 0;  // to encrypt and send
  virtual void deliver(std::span<const uint8_t> inner) = 0;    // to the tun device
};

struct Stats {
  uint64_t accepted = 0, refused = 0, oversize = 0;  // inner packets from the tun side
  uint64_t dataSent = 0, retransmits = 0, paritySent = 0, acksSent = 0;
  uint64_t framesSent = 0, frameBytesSent = 0;
  uint64_t framesReceived = 0, badFrames = 0, duplicates = 0;
  uint64_t delivered = 0, deliveredBytes = 0, recovered = 0, lost = 0, probes = 0;
  uint64_t compressed = 0, badPayloads = 0;
};

class Endpoint {
 public:
  explicit Endpoint(const Config& config);

  // An inner packet from the tun side. False when it is refused (queue full, or larger than
  // mtu); nothing is sent until poll() or receive().
  bool send(std::span<const uint8_t> inner, Micros now);
  // A decrypted frame from the peer; emits what it makes due (ACKs, deliveries, sends).
  void receive(std::span<const uint8_t> frame, Micros now, Sink& sink);
  // Emits whatever is due at `now`: ACKs, retransmissions, paced sends.
  void poll(Micros now, Sink& sink);
  // When poll() has something to do next; kNever when only an event from outside helps.
  Micros nextDeadline() const;

  bool canSend() const;  // send() would accept a packet now
  const Stats& stats() const { return stats_; }
  const Bbr& congestion() const { return bbr_; }
  Micros smoothedRtt() const { return srtt_; }
  uint64_t bytesInFlight() const { return inflight_; }
  size_t memoryBytes() const;  // every buffer this endpoint holds
  size_t buffered() const { return pool_.inUse(); }

 private:
  enum class PnState : uint8_t { Free, InFlight, Acked, Lost };
  struct SendSlot {
    uint32_t buf = PacketPool::kNone;
    uint16_t len = 0;
    uint8_t flags = 0;
    bool acked = false, queued = false;
  };
  struct PnInfo {
    uint64_t seq = 0;
    Micros sent = 0, deliveredTime = 0, firstSent = 0;
    uint64_t delivered = 0;
    uint32_t size = 0;
    PnState state = PnState::Free;
    bool parity = false, appLimited = false;
  };
  struct RecvSlot {
    uint32_t buf = PacketPool::kNone;
    uint16_t len = 0;
    uint8_t flags = 0;
  };
  struct Group {
    uint64_t id = UINT64_MAX;
    uint32_t mask = 0;
    uint16_t accLen = 0;
    bool parity = false;
  };

  // sender
  void processAck(const Frame& f, Micros now);
  void detectLosses(Micros now);
  void markLost(uint64_t pn);
  void ackSeq(uint64_t seq);
  bool sendOne(Micros now, Sink& sink);
  void emit(std::span<const uint8_t> frame, Micros now, Sink& sink, bool parity, uint64_t seq);
  Micros lossDelay() const;
  Micros ptoDeadline() const;
  size_t queueLimit() const;
  bool hasSomethingToSend() const;
  // receiver
  void recordPn(uint64_t pn, Micros now);
  void acceptData(uint64_t seq, uint8_t flags, std::span<const uint8_t> payload, Sink& sink);
  void deliverInOrder(Sink& sink);
  void fecAccumulate(uint64_t seq, uint8_t flags, std::span<const uint8_t> payload);
  void fecParity(uint64_t first, std::span<const uint8_t> bytes, Sink& sink);
  void fecTryRecover(uint64_t group, Sink& sink);
  Group* fecGroup(uint64_t id, uint8_t*& acc);
  void sendAck(Micros now, Sink& sink);

  Config cfg_;
  PacketPool pool_;
  Compressor compressor_;
  Bbr bbr_;
  Stats stats_;
  std::vector<uint8_t> frame_, scratch_;

  // sender state
  std::vector<SendSlot> sendSlots_;
  uint64_t sndUna_ = 0, sndFresh_ = 0, sndNext_ = 0;
  std::vector<uint64_t> retx_;  // ring of seqs to send again
  size_t retxHead_ = 0, retxCount_ = 0;
  std::vector<PnInfo> pns_;
  uint64_t pnUna_ = 0, nextPn_ = 0, largestAcked_ = 0;
  bool anyAcked_ = false;
  uint64_t inflight_ = 0, delivered_ = 0, appLimitedUntil_ = 0;
  Micros deliveredTime_ = 0, firstSentTime_ = 0;
  Micros srtt_ = 0, rttvar_ = 0, latestRtt_ = 0;
  Micros nextSend_ = 0, lossTime_ = kNever, lastEliciting_ = 0;
  unsigned ptoCount_ = 0, probeCredit_ = 0;
  std::vector<uint8_t> fecOut_;  // XOR of the group being sent
  uint16_t fecOutLen_ = 0;
  bool parityPending_ = false;
  uint64_t parityFirst_ = 0;

  // receiver state
  std::vector<RecvSlot> recvSlots_;
  uint64_t rcvNext_ = 0;
  std::vector<AckRange> recvRanges_;  // newest first
  bool anyReceived_ = false;
  Micros largestRecvTime_ = 0;
  uint32_t ackEliciting_ = 0;
  bool ackNow_ = false;
  Micros ackDeadline_ = kNever;
  std::vector<uint64_t> recoveredSeqs_;
  std::vector<Group> groups_;
  std::vector<uint8_t> groupAcc_;
};

}  // namespace manifold::tunnel::warp
