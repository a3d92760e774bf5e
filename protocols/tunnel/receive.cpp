// TunnelWorker: everything that arrives on the listen sockets. Anything that does not
// authenticate is dropped without an answer and counted; the only unauthenticated answer is a
// cookie reply, and only to a message with a valid mac1 while under load.
#include <sodium.h>

#include <cstring>

#include "protocols/tunnel/worker.hpp"
#include "worker/clock.hpp"

namespace manifold::tunnel {

namespace {
constexpr double kCookieSecretLifetime = 120;

}  // namespace

size_t TunnelWorker::onDatagram(const uint8_t* in, size_t len, const sockaddr* from,
                                socklen_t fromLen, uint8_t* out, size_t outCap) {
  Message m;
  if (!parseMessage({in, len}, m)) {
    counters_.inc(kDropMalformed);
    return 0;
  }
  size_t reply = 0;
  switch (m.type) {
    case MessageType::Data:
      reply = onData(m, from, fromLen, out, outCap);
      break;
    case MessageType::Initiation:
      reply = onInitiation(m, from, fromLen, out, outCap);
      break;
    case MessageType::Response:
      reply = onResponse(m, from, fromLen, out, outCap);
      break;
    case MessageType::CookieReply:
      onCookieReply(m);
      break;
  }
  tx_.flush();  // handshakes, staged packets and probe answers this message set off
  return reply;
}

void TunnelWorker::roam(PeerState& peer, const sockaddr* from, socklen_t fromLen) {
  if (peer.paths.size() > 1 || peer.endpoint.sameAs(from, fromLen)) return;
  if (peer.endpoint.valid()) counters_.inc(kRoamed);
  peer.endpoint.set(from, fromLen);
}

size_t TunnelWorker::onData(const Message& m, const sockaddr* from, socklen_t fromLen, uint8_t* out,
                            size_t outCap) {
  auto it = indices_.find(m.index);
  if (it == indices_.end() || !it->second.keypair) {
    if (!relay(m, from, fromLen)) counters_.inc(kDropUnknownIndex);
    return 0;
  }
  PeerState& peer = *it->second.peer;
  Keypair& kp = *it->second.keypair;
  const double now = timer_.now();
  size_t payloadLen = m.bytes.size() - kMinDataSize;
  if (payloadLen > outCap || now - kp.created >= settings().rejectAfterTime) {
    counters_.inc(kDropDecrypt);
    return 0;
  }
  if (!open(out, kp.keys.receive.data(), m.counter, m.bytes.subspan(kDataHeaderSize), {})) {
    counters_.inc(kDropDecrypt);
    return 0;
  }
  if (!kp.replay.accept(m.counter)) {
    counters_.inc(kDropReplay);
    return 0;
  }
  peer.lastReceived = now;
  if (peer.next.get() == &kp) {
    // The initiator used the session we answered: it is confirmed, and ours to send with.
    dropKeypair(peer.previous);
    peer.previous = std::move(peer.current);
    peer.current = std::move(peer.next);
    counters_.inc(kHandshakesCompleted);
    flushStaged(peer, now);
  }
  std::span<const uint8_t> payload(out, payloadLen);
  if (!payload.empty() && (payload[0] == 0x10 || payload[0] == 0x11)) {
    onProbe(peer, kp, payload, from, fromLen);  // probes do not move the endpoint
    return 0;
  }
  roam(peer, from, fromLen);
  if (payload.empty()) return 0;  // keepalive
  ++peer.rxPackets;
  peer.rxBytes += payloadLen;
  counters_.inc(kRxPackets);
  counters_.add(kRxBytes, payloadLen);
  peer.keepaliveOwed = true;
  peer.transport->receiveOuter(payload, now);
  // WireGuard's rule: an initiator whose session nears its end rekeys on receive too.
  const TunnelSettings& s = settings();
  if (kp.initiator && !peer.pending.active &&
      now - kp.created >= s.rejectAfterTime - s.keepaliveTimeout - s.rekeyTimeout) {
    counters_.inc(kRekeys);
    startHandshake(peer, now);
  }
  return 0;
}

void TunnelWorker::onProbe(PeerState& peer, Keypair& kp, std::span<const uint8_t> payload,
                           const sockaddr* from, socklen_t fromLen) {
  if (payload.size() < 6) return;
  if (payload[0] == 0x10) {
    // Answered on the same session and path, so it reaches the worker that probed.
    uint8_t answer[6];
    std::memcpy(answer, payload.data(), 6);
    answer[0] = 0x11;
    Endpoint to;
    to.set(from, fromLen);
    encryptAndSend(peer, kp, {answer, sizeof answer}, to, timer_.now());
  } else if (peer.selector) {
    peer.selector->answered(payload[1], loadLe32(payload.data() + 2), timer_.now());
  }
}

bool TunnelWorker::underLoad(double now) {
  if (now - loadWindowStart_ >= 1.0) {
    loadWindowStart_ = now;
    loadCount_ = 0;
  }
  return ++loadCount_ > settings().handshakesPerSecond;
}

size_t TunnelWorker::onInitiation(const Message& m, const sockaddr* from, socklen_t fromLen,
                                  uint8_t* out, size_t outCap) {
  if (!config_.hasIdentity || !mac1Valid(m.bytes, config_.identity.mac1Key)) {
    if (!relay(m, from, fromLen)) counters_.inc(kDropMac);
    return 0;
  }
  const double now = timer_.now();
  if (underLoad(now)) {
    if (now - cookieSecretTime_ >= kCookieSecretLifetime) {
      randombytes_buf(cookieSecret_.data(), cookieSecret_.size());
      cookieSecretTime_ = now;
    }
    net::PeerAddress source = net::peerAddress(from);
    Mac cookie = cookieFor(cookieSecret_, {source.bytes, 16}, net::peerPort(from));
    if (!mac2Valid(m.bytes, cookie)) {
      if (outCap < kCookieReplySize) return 0;
      createCookieReply(config_.identity.cookieKey, m.index, cookie, m.bytes, out);
      counters_.inc(kCookiesSent);
      return kCookieReplySize;
    }
    // Proven source address, but still a hard ceiling on the work a flood can cause.
    if (loadCount_ > 4 * settings().handshakesPerSecond) {
      counters_.inc(kDropUnderLoad);
      return 0;
    }
  }
  Initiation in;
  PeerState* peer = nullptr;
  bool ok = consumeInitiation(
      config_.identity, m.bytes,
      [&](const Key& pub) -> const PeerKeys* {
        for (auto& p : peers_)
          if (p->config.keys.publicKey == pub) {
            peer = p.get();
            return &p->config.keys;
          }
        return nullptr;
      },
      in);
  Timestamp& greatest = ok ? peer->greatest[m.index & 0xff] : in.timestamp;
  if (!ok || std::memcmp(in.timestamp.data(), greatest.data(), 12) <= 0) {
    counters_.inc(kHandshakesRefused);
    return 0;
  }
  greatest = in.timestamp;
  auto kp = std::make_unique<Keypair>();
  uint32_t index = newIndex(peer, kp.get());
  if (outCap < kResponseSize ||
      !createResponse(peer->config.keys, in, generatePrivateKey(), index, out, kp->keys)) {
    indices_.erase(index);
    counters_.inc(kHandshakesRefused);
    return 0;
  }
  kp->localIndex = index;
  kp->remoteIndex = in.state.remoteIndex;
  kp->created = now;
  kp->initiator = false;
  installKeypair(*peer, std::move(kp), false);
  bool cookieValid = peer->cookie && now - peer->cookieTime < 120;
  addMacs(out, kResponseSize, peer->config.keys.mac1Key, cookieValid ? &*peer->cookie : nullptr);
  roam(*peer, from, fromLen);
  peer->lastHandshake = clock::wallMs() / 1000.0;
  return kResponseSize;
}

size_t TunnelWorker::onResponse(const Message& m, const sockaddr* from, socklen_t fromLen, uint8_t*,
                                size_t) {
  auto it = indices_.find(m.index);
  if (it == indices_.end() || it->second.keypair) {
    if (!relay(m, from, fromLen)) counters_.inc(kDropUnknownIndex);
    return 0;
  }
  if (!mac1Valid(m.bytes, config_.identity.mac1Key)) {
    counters_.inc(kDropMac);
    return 0;
  }
  PeerState& peer = *it->second.peer;
  auto kp = std::make_unique<Keypair>();
  if (!consumeResponse(config_.identity, peer.config.keys, peer.pending.state, m.bytes, kp->keys)) {
    counters_.inc(kHandshakesRefused);
    return 0;
  }
  const double now = timer_.now();
  kp->localIndex = m.index;
  kp->remoteIndex = loadLe32(m.bytes.data() + response::kSender);
  kp->created = now;
  kp->initiator = true;
  it->second.keypair = kp.get();
  peer.pending.active = false;
  installKeypair(peer, std::move(kp), true);
  roam(peer, from, fromLen);
  peer.lastHandshake = clock::wallMs() / 1000.0;
  counters_.inc(kHandshakesCompleted);
  uint64_t before = peer.current->sendCounter;
  flushStaged(peer, now);
  if (peer.current->sendCounter == before) sendKeepalive(peer, now);  // confirms the session
  return 0;
}

void TunnelWorker::onCookieReply(const Message& m) {
  auto it = indices_.find(m.index);
  if (it == indices_.end() || it->second.keypair) {
    if (!relay(m, nullptr, 0)) counters_.inc(kDropUnknownIndex);
    return;
  }
  PeerState& peer = *it->second.peer;
  Mac cookie;
  if (!consumeCookieReply(peer.config.keys.cookieKey, m.bytes, peer.pending.sentMac1, cookie)) {
    counters_.inc(kDropMac);
    return;
  }
  peer.cookie = cookie;
  peer.cookieTime = timer_.now();
}

}  // namespace manifold::tunnel
