#include "protocols/tunnel/warp/endpoint.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace manifold::tunnel::warp {

namespace {
constexpr Micros kInitialRtt = 333'000;  // before any sample (QUIC's default)
constexpr Micros kGranularity = 1000;
constexpr uint64_t kPacketThreshold = 3;
constexpr size_t kKeptRanges = kMaxAckRanges + 1;
}  // namespace

Endpoint::Endpoint(const Config& config)
    : cfg_(config),
      pool_(config.mtu, 2 * config.window + 2),
      compressor_(config.compress),
      bbr_(config.mtu + kDataHeader) {
  if (cfg_.fecGroup == 1 || cfg_.fecGroup > kMaxGroup) cfg_.fecGroup = 0;
  if (cfg_.ackEvery == 0) cfg_.ackEvery = 1;
  frame_.resize(kDataHeader + kRecordHeader + cfg_.mtu + kAckHeader + 8 * (kMaxAckRanges + 1));
  scratch_.resize(cfg_.mtu);
  sendSlots_.resize(cfg_.window);
  retx_.resize(cfg_.window);
  pns_.resize(2 * size_t(cfg_.window));
  recvSlots_.resize(cfg_.window);
  recvRanges_.reserve(kKeptRanges + 1);
  recoveredSeqs_.reserve(kMaxRecovered);
  if (cfg_.fecGroup) {
    fecOut_.assign(kRecordHeader + cfg_.mtu, 0);
    groups_.resize(cfg_.window / cfg_.fecGroup + 4);
    groupAcc_.assign(groups_.size() * (kRecordHeader + cfg_.mtu), 0);
  }
}

size_t Endpoint::memoryBytes() const {
  return pool_.memoryBytes() + frame_.capacity() + scratch_.capacity() +
         sendSlots_.capacity() * sizeof(SendSlot) + retx_.capacity() * sizeof(uint64_t) +
         pns_.capacity() * sizeof(PnInfo) + recvSlots_.capacity() * sizeof(RecvSlot) +
         recvRanges_.capacity() * sizeof(AckRange) + fecOut_.capacity() +
         groups_.capacity() * sizeof(Group) + groupAcc_.capacity() +
         recoveredSeqs_.capacity() * sizeof(uint64_t);
}

// ---- sender ---------------------------------------------------------------------------------

size_t Endpoint::queueLimit() const {
  if (cfg_.queue) return cfg_.queue;
  // Two BDPs, at least 1024 packets: TCP inside reads a refusal as loss, and CUBIC keeps the
  // link full after its back-off (to 0.7 of its window) only with a queue that large.
  size_t bdp = bbr_.bdp() / (cfg_.mtu + kDataHeader);
  return std::min<size_t>(std::max<size_t>(2 * bdp, 1024), cfg_.window / 2);
}

bool Endpoint::canSend() const {
  return sndNext_ - sndUna_ < cfg_.window && sndNext_ - sndFresh_ < queueLimit();
}

bool Endpoint::send(std::span<const uint8_t> inner, Micros) {
  if (inner.empty() || inner.size() > cfg_.mtu) {
    ++stats_.oversize;
    return false;
  }
  uint32_t buf = canSend() ? pool_.take() : PacketPool::kNone;
  if (buf == PacketPool::kNone) {
    ++stats_.refused;
    return false;
  }
  SendSlot& s = sendSlots_[sndNext_ % cfg_.window];
  uint8_t* out = pool_.data(buf);
  size_t n = 0;
  Compression used = compressor_.compress(inner, {out, cfg_.mtu}, n);
  if (used == Compression::Off) {
    std::memcpy(out, inner.data(), inner.size());
    n = inner.size();
  } else {
    ++stats_.compressed;
  }
  s = SendSlot{buf, uint16_t(n), uint8_t(used), false, false};
  ++sndNext_;
  ++stats_.accepted;
  return true;
}

bool Endpoint::hasSomethingToSend() const {
  return parityPending_ || retxCount_ > 0 || sndFresh_ < sndNext_;
}

Micros Endpoint::lossDelay() const {
  Micros rtt = std::max(srtt_ ? srtt_ : kInitialRtt, latestRtt_);
  return std::max<Micros>(rtt * 9 / 8, kGranularity);
}

Micros Endpoint::ptoDeadline() const {
  if (inflight_ == 0) return kNever;
  Micros srtt = srtt_ ? srtt_ : kInitialRtt;
  Micros pto = srtt + std::max<Micros>(4 * rttvar_, kGranularity) + cfg_.maxAckDelay;
  return lastEliciting_ + (pto << std::min(ptoCount_, 10u));
}

void Endpoint::emit(std::span<const uint8_t> frame, Micros now, Sink& sink, bool parity,
                    uint64_t seq) {
  uint64_t pn = nextPn_++;
  PnInfo& p = pns_[pn % pns_.size()];
  if (inflight_ == 0) firstSentTime_ = deliveredTime_ = now;
  p = PnInfo{seq,
             now,
             deliveredTime_,
             firstSentTime_,
             delivered_,
             uint32_t(frame.size()),
             PnState::InFlight,
             parity,
             appLimitedUntil_ > delivered_};
  inflight_ += frame.size();
  lastEliciting_ = now;
  ++stats_.framesSent;
  stats_.frameBytesSent += frame.size();
  sink.sendFrame(frame);
  // Pacing: the next frame leaves size/rate later; a short burst is allowed after idling.
  double rate = std::max(bbr_.pacingRate(), 1000.0);
  Micros quantum = std::min<Micros>(cfg_.pacingQuantum, Micros(16.0 * cfg_.mtu * 1e6 / rate));
  nextSend_ = std::max(nextSend_, now > quantum ? now - quantum : 0) +
              Micros(double(frame.size()) * 1e6 / rate);
  // The pn window is full only if an old pn was neither acked nor found lost: give it up.
  if (nextPn_ - pnUna_ >= pns_.size()) markLost(pnUna_);
}

bool Endpoint::sendOne(Micros now, Sink& sink) {
  uint8_t* f = frame_.data();
  if (parityPending_) {
    parityPending_ = false;
    uint64_t pn = nextPn_;
    size_t h = writeParityHeader(frame_, cfg_.fecGroup, pn, parityFirst_);
    std::memcpy(f + h, fecOut_.data(), fecOutLen_);
    emit({f, h + fecOutLen_}, now, sink, true, parityFirst_);
    ++stats_.paritySent;
    return true;
  }
  uint64_t seq;
  bool retransmit = false;
  for (;;) {
    if (retxCount_ > 0) {
      seq = retx_[retxHead_];
      retxHead_ = (retxHead_ + 1) % retx_.size();
      --retxCount_;
      SendSlot& s = sendSlots_[seq % cfg_.window];
      s.queued = false;
      if (seq < sndUna_ || s.acked) continue;  // acknowledged after it was queued
      retransmit = true;
    } else if (sndFresh_ < sndNext_) {
      seq = sndFresh_++;
    } else {
      return false;
    }
    break;
  }
  SendSlot& s = sendSlots_[seq % cfg_.window];
  size_t h = writeDataHeader(frame_, s.flags, nextPn_, seq);
  std::memcpy(f + h, pool_.data(s.buf), s.len);
  if (retransmit) {
    ++stats_.retransmits;
  } else {
    ++stats_.dataSent;
    if (cfg_.fecGroup) {
      // XOR this record into the group's parity; the group's last member releases it.
      unsigned k = cfg_.fecGroup;
      if (seq % k == 0) {
        std::memset(fecOut_.data(), 0, fecOutLen_);
        fecOutLen_ = 0;
      }
      uint8_t* acc = fecOut_.data();
      acc[0] ^= uint8_t(s.len >> 8);
      acc[1] ^= uint8_t(s.len);
      acc[2] ^= s.flags;
      const uint8_t* src = pool_.data(s.buf);
      for (size_t i = 0; i < s.len; ++i) acc[kRecordHeader + i] ^= src[i];
      fecOutLen_ = std::max<uint16_t>(fecOutLen_, uint16_t(kRecordHeader + s.len));
      if (seq % k == k - 1) {
        // Adaptive: parity only while the link has room (little waits to be sent). Then it
        // costs no goodput and spares TCP inside a round trip of delay per loss, which its
        // HyStart would read as the end of slow start; once packets queue here, it would.
        size_t backlog = (sndNext_ - sndFresh_) * (cfg_.mtu + kDataHeader);
        parityPending_ = !cfg_.fecAdaptive || backlog < bbr_.bdp() / 4;
        parityFirst_ = seq - (k - 1);
      }
    }
  }
  emit({f, h + s.len}, now, sink, false, seq);
  return true;
}

void Endpoint::markLost(uint64_t pn) {
  PnInfo& p = pns_[pn % pns_.size()];
  if (p.state != PnState::InFlight) return;
  p.state = PnState::Lost;
  inflight_ -= p.size;
  ++stats_.lost;
  if (p.parity) return;  // parity is never sent again
  SendSlot& s = sendSlots_[p.seq % cfg_.window];
  if (p.seq < sndUna_ || s.acked || s.queued) return;
  s.queued = true;
  retx_[(retxHead_ + retxCount_) % retx_.size()] = p.seq;
  ++retxCount_;
}

void Endpoint::detectLosses(Micros now) {
  lossTime_ = kNever;
  if (!anyAcked_) return;
  Micros delay = lossDelay();
  for (uint64_t pn = pnUna_; pn < largestAcked_; ++pn) {
    PnInfo& p = pns_[pn % pns_.size()];
    if (p.state != PnState::InFlight) continue;
    if (largestAcked_ - pn >= kPacketThreshold || p.sent + delay <= now)
      markLost(pn);
    else
      lossTime_ = std::min(lossTime_, p.sent + delay);
  }
  while (pnUna_ < nextPn_ && pns_[pnUna_ % pns_.size()].state != PnState::InFlight) ++pnUna_;
}

void Endpoint::ackSeq(uint64_t seq) {
  if (seq < sndUna_ || seq >= sndNext_) return;
  sendSlots_[seq % cfg_.window].acked = true;
}

void Endpoint::processAck(const Frame& f, Micros now) {
  if (nextPn_ == 0) return;
  uint64_t largest = expandSequence(f.pn, nextPn_ - 1);
  uint64_t cum = expandSequence(f.seq, sndUna_);
  if (largest >= nextPn_ || cum > sndNext_) {
    ++stats_.badFrames;  // acknowledges what was never sent
    return;
  }
  AckRange ranges[kMaxAckRanges + 1];
  size_t n = ackRanges(f, largest, ranges);
  const PnInfo* newest = nullptr;
  uint64_t newestPn = 0;
  for (size_t i = 0; i < n; ++i) {
    for (uint64_t pn = std::max(ranges[i].low, pnUna_); pn <= ranges[i].high; ++pn) {
      PnInfo& p = pns_[pn % pns_.size()];
      if (p.state != PnState::InFlight && p.state != PnState::Lost) continue;
      if (p.state == PnState::InFlight) inflight_ -= p.size;
      p.state = PnState::Acked;
      delivered_ += p.size;
      if (!p.parity) ackSeq(p.seq);
      if (!newest || pn > newestPn) {
        newest = &p;
        newestPn = pn;
      }
    }
  }
  for (uint64_t seq = sndUna_; seq < cum; ++seq) ackSeq(seq);
  for (size_t i = 0; i < f.recoveredCount; ++i) ackSeq(expandSequence(ackRecovered(f, i), sndUna_));
  while (sndUna_ < sndNext_ && sendSlots_[sndUna_ % cfg_.window].acked) {
    SendSlot& s = sendSlots_[sndUna_ % cfg_.window];
    pool_.give(s.buf);
    s = SendSlot{};
    ++sndUna_;
  }
  if (sndFresh_ < sndUna_) sndFresh_ = sndUna_;  // cannot happen with an honest peer

  if (newest) {
    if (!anyAcked_ || largest > largestAcked_) largestAcked_ = largest;
    anyAcked_ = true;
    if (newestPn == largest) {
      Micros rtt = now - newest->sent;
      Micros ackDelay = std::min<Micros>(Micros(f.delay) * 8, cfg_.maxAckDelay);
      if (rtt > ackDelay + kGranularity / 4) rtt -= ackDelay;
      latestRtt_ = rtt;
      if (srtt_ == 0) {
        srtt_ = rtt;
        rttvar_ = rtt / 2;
      } else {
        Micros diff = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
        rttvar_ = (3 * rttvar_ + diff) / 4;
        srtt_ = (7 * srtt_ + rtt) / 8;
      }
    }
    RateSample sample;
    sample.delivered = delivered_;
    sample.priorDelivered = newest->delivered;
    Micros sendElapsed = newest->sent - newest->firstSent;
    Micros ackElapsed = now - newest->deliveredTime;
    sample.interval = std::max(sendElapsed, ackElapsed);
    sample.rtt = now - newest->sent;
    sample.appLimited = newest->appLimited;
    firstSentTime_ = newest->sent;
    deliveredTime_ = now;
    ptoCount_ = 0;
    detectLosses(now);
    bbr_.onAck(sample, inflight_, now);
  }
}

// ---- receiver -------------------------------------------------------------------------------

void Endpoint::recordPn(uint64_t pn, Micros now) {
  auto& r = recvRanges_;
  if (r.empty() || pn > r[0].high) {
    if (!r.empty() && pn == r[0].high + 1) {
      r[0].high = pn;
    } else {
      if (!r.empty()) ackNow_ = true;  // a gap: tell the sender at once
      r.insert(r.begin(), AckRange{pn, pn});
    }
    largestRecvTime_ = now;
  } else {
    ackNow_ = true;  // out of order
    size_t i = 0;
    while (i < r.size() && pn < r[i].low) ++i;
    if (i < r.size() && pn <= r[i].high) return;  // duplicate
    if (i < r.size() && pn == r[i].high + 1) {
      r[i].high = pn;
    } else if (i > 0 && pn + 1 == r[i - 1].low) {
      r[i - 1].low = pn;
    } else {
      r.insert(r.begin() + long(i), AckRange{pn, pn});
    }
    // Merge neighbours that now touch.
    for (size_t j = 0; j + 1 < r.size(); ++j)
      if (r[j + 1].high + 1 >= r[j].low) {
        r[j].low = std::min(r[j].low, r[j + 1].low);
        r.erase(r.begin() + long(j) + 1);
        --j;
      }
  }
  if (r.size() > kKeptRanges) r.pop_back();
  anyReceived_ = true;
}

void Endpoint::acceptData(uint64_t seq, uint8_t flags, std::span<const uint8_t> payload,
                          Sink& sink) {
  if (seq < rcvNext_ || seq >= rcvNext_ + cfg_.window || payload.size() > cfg_.mtu) {
    ++stats_.duplicates;
    return;
  }
  RecvSlot& slot = recvSlots_[seq % cfg_.window];
  if (slot.buf != PacketPool::kNone) {
    ++stats_.duplicates;
    return;
  }
  uint32_t buf = pool_.take();
  if (buf == PacketPool::kNone) return;  // cannot happen: the pool holds both windows
  std::memcpy(pool_.data(buf), payload.data(), payload.size());
  slot = RecvSlot{buf, uint16_t(payload.size()), flags};
  if (cfg_.fecGroup) fecAccumulate(seq, flags, payload);
  deliverInOrder(sink);
}

void Endpoint::deliverInOrder(Sink& sink) {
  for (;;) {
    RecvSlot& slot = recvSlots_[rcvNext_ % cfg_.window];
    if (slot.buf == PacketPool::kNone) break;
    std::span<const uint8_t> data{pool_.data(slot.buf), slot.len};
    if (slot.flags & kCompressMask) {
      size_t n = compressor_.decompress(Compression(slot.flags & kCompressMask), data, scratch_);
      data = {scratch_.data(), n};
    }
    if (data.empty()) {
      ++stats_.badPayloads;
    } else {
      ++stats_.delivered;
      stats_.deliveredBytes += data.size();
      sink.deliver(data);
    }
    pool_.give(slot.buf);
    slot = RecvSlot{};
    ++rcvNext_;
  }
}

Endpoint::Group* Endpoint::fecGroup(uint64_t id, uint8_t*& acc) {
  size_t index = id % groups_.size();
  Group& g = groups_[index];
  acc = groupAcc_.data() + index * (kRecordHeader + cfg_.mtu);
  if (g.id == id) return &g;
  if (g.id != UINT64_MAX && g.id > id) return nullptr;  // slot already reused by a newer group
  std::memset(acc, 0, g.accLen);
  g = Group{id, 0, 0, false};
  return &g;
}

void Endpoint::fecAccumulate(uint64_t seq, uint8_t flags, std::span<const uint8_t> payload) {
  uint8_t* acc;
  Group* g = fecGroup(seq / cfg_.fecGroup, acc);
  uint32_t bit = 1u << (seq % cfg_.fecGroup);
  if (!g || (g->mask & bit)) return;
  g->mask |= bit;
  acc[0] ^= uint8_t(payload.size() >> 8);
  acc[1] ^= uint8_t(payload.size());
  acc[2] ^= flags;
  for (size_t i = 0; i < payload.size(); ++i) acc[kRecordHeader + i] ^= payload[i];
  g->accLen = std::max<uint16_t>(g->accLen, uint16_t(kRecordHeader + payload.size()));
}

void Endpoint::fecParity(uint64_t first, std::span<const uint8_t> bytes, Sink& sink) {
  if (first % cfg_.fecGroup || first + cfg_.fecGroup <= rcvNext_ ||
      bytes.size() > kRecordHeader + cfg_.mtu)
    return;
  uint8_t* acc;
  Group* g = fecGroup(first / cfg_.fecGroup, acc);
  if (!g || g->parity) return;
  g->parity = true;
  for (size_t i = 0; i < bytes.size(); ++i) acc[i] ^= bytes[i];
  g->accLen = std::max<uint16_t>(g->accLen, uint16_t(bytes.size()));
  fecTryRecover(g->id, sink);
}

void Endpoint::fecTryRecover(uint64_t id, Sink& sink) {
  uint8_t* acc;
  Group* g = fecGroup(id, acc);
  unsigned k = cfg_.fecGroup;
  uint32_t full = k == 32 ? UINT32_MAX : (1u << k) - 1;
  if (!g || !g->parity || std::popcount(g->mask) != int(k) - 1) return;
  unsigned missing = unsigned(std::countr_zero(~g->mask & full));
  uint64_t seq = id * k + missing;
  size_t len = load16(acc);
  uint8_t flags = acc[2];
  g->mask = full;
  if (seq < rcvNext_ || len == 0 || len > cfg_.mtu || kRecordHeader + len > g->accLen ||
      (flags & ~kCompressMask) || (flags & kCompressMask) == kCompressMask)
    return;
  if (recvSlots_[seq % cfg_.window].buf != PacketPool::kNone) return;
  ++stats_.recovered;
  if (recoveredSeqs_.size() == kMaxRecovered) recoveredSeqs_.erase(recoveredSeqs_.begin());
  recoveredSeqs_.push_back(seq);
  // acceptData would XOR it into the (now complete) group again; the mask stops that.
  acceptData(seq, flags, {acc + kRecordHeader, len}, sink);
}

void Endpoint::sendAck(Micros now, Sink& sink) {
  std::erase_if(recoveredSeqs_, [&](uint64_t s) { return s < rcvNext_; });
  uint64_t delay = (now - largestRecvTime_) / 8;
  size_t n = writeAck(frame_, recvRanges_, uint16_t(std::min<uint64_t>(delay, 0xffff)), rcvNext_,
                      recoveredSeqs_);
  ackEliciting_ = 0;
  ackNow_ = false;
  ackDeadline_ = kNever;
  if (n == 0) return;
  ++stats_.acksSent;
  ++stats_.framesSent;
  stats_.frameBytesSent += n;
  sink.sendFrame({frame_.data(), n});
}

void Endpoint::receive(std::span<const uint8_t> bytes, Micros now, Sink& sink) {
  Frame f;
  if (!parseFrame(bytes, f)) {
    ++stats_.badFrames;
    return;
  }
  ++stats_.framesReceived;
  if (f.type == FrameType::Ack) {
    processAck(f, now);
  } else {
    uint64_t expected = recvRanges_.empty() ? 0 : recvRanges_[0].high + 1;
    recordPn(expandSequence(f.pn, expected), now);
    if (f.type == FrameType::Data) {
      acceptData(expandSequence(f.seq, rcvNext_), f.flags, f.payload, sink);
    } else if (cfg_.fecGroup && f.flags == cfg_.fecGroup) {
      fecParity(expandSequence(f.seq, rcvNext_), f.payload, sink);
    }
    if (++ackEliciting_ >= cfg_.ackEvery) ackNow_ = true;
    if (ackDeadline_ == kNever) ackDeadline_ = now + cfg_.maxAckDelay;
  }
  poll(now, sink);
}

// ---- timers ---------------------------------------------------------------------------------

void Endpoint::poll(Micros now, Sink& sink) {
  if (lossTime_ != kNever && now >= lossTime_) detectLosses(now);
  if (now >= ptoDeadline()) {
    // Probe timeout: the ACKs stopped. Send the oldest outstanding packet again, past the window.
    ++stats_.probes;
    ++ptoCount_;
    for (uint64_t pn = pnUna_; pn < nextPn_; ++pn)
      if (pns_[pn % pns_.size()].state == PnState::InFlight) {
        markLost(pn);
        break;
      }
    detectLosses(now);
    lastEliciting_ = now;
    probeCredit_ = 2;
    nextSend_ = now;
  }
  if (anyReceived_ && (ackNow_ || now >= ackDeadline_)) sendAck(now, sink);
  while (hasSomethingToSend() && nextSend_ <= now) {
    bool allowed = inflight_ + cfg_.mtu + kDataHeader <= bbr_.cwnd();
    if (!allowed && probeCredit_ == 0) break;
    if (!allowed) --probeCredit_;
    if (!sendOne(now, sink)) break;
  }
  // Nothing to send and less than a BDP in flight: rate samples until what is in flight now is
  // delivered say more about the source than the path. (BBR counts any unused cwnd; behind a
  // TCP sender that never fills 2.89 BDP it would then stay in Startup for good.)
  if (!hasSomethingToSend() && inflight_ < bbr_.bdp())
    appLimitedUntil_ = delivered_ + inflight_ + 1;
}

Micros Endpoint::nextDeadline() const {
  Micros t = std::min({lossTime_, ptoDeadline(), anyReceived_ ? ackDeadline_ : kNever});
  if (hasSomethingToSend() &&
      (inflight_ + cfg_.mtu + kDataHeader <= bbr_.cwnd() || probeCredit_ > 0))
    t = std::min(t, nextSend_);
  return t;
}

}  // namespace manifold::tunnel::warp
