// TunnelWorker: session indices, key pair rotation, initiations and the per-peer tick (handshake
// retries, rekey, expiry, keepalives, path probes).
#include <sodium.h>

#include <cstring>

#include "protocols/tunnel/worker.hpp"
#include "worker/clock.hpp"

namespace manifold::tunnel {

namespace {
constexpr double kCookieLifetime = 120;
}  // namespace

uint32_t TunnelWorker::newIndex(PeerState* peer, Keypair* kp) {
  for (;;) {
    uint32_t index = (randombytes_random() & 0xffffff00u) | (ctx_.workerIndex & 0xffu);
    if (indices_.emplace(index, IndexEntry{peer, kp}).second) return index;
  }
}

void TunnelWorker::dropKeypair(std::unique_ptr<Keypair>& kp) {
  if (!kp) return;
  indices_.erase(kp->localIndex);
  sodium_memzero(&kp->keys, sizeof kp->keys);
  kp.reset();
}

void TunnelWorker::installKeypair(PeerState& peer, std::unique_ptr<Keypair> kp, bool initiator) {
  if (initiator) {
    dropKeypair(peer.previous);
    peer.previous = std::move(peer.current);
    peer.current = std::move(kp);
  } else {
    // Unconfirmed until the initiator's first data arrives on it (receive.cpp).
    dropKeypair(peer.next);
    peer.next = std::move(kp);
  }
}

void TunnelWorker::startHandshake(PeerState& peer, double now) {
  PeerState::Pending& hs = peer.pending;
  if (hs.active && now - hs.lastSent < settings().rekeyTimeout) return;
  if (hs.active) {
    indices_.erase(hs.state.localIndex);
    // A retry: with several paths, try the next one (the chosen one may be the dead one).
    if (peer.paths.size() > 1) {
      size_t at = 0;
      while (at < peer.paths.size() &&
             !peer.paths[at].sameAs(peer.endpoint.sa(), peer.endpoint.len))
        ++at;
      peer.endpoint = peer.paths[(at + 1) % peer.paths.size()];
    }
  } else {
    hs.firstSent = now;
  }
  if (!peer.endpoint.valid()) return;  // learnt from its own initiation, once it sends one
  uint32_t index = newIndex(&peer, nullptr);
  uint8_t* msg = tx_.slot();
  if (!createInitiation(config_.identity, peer.config.keys, generatePrivateKey(),
                        tai64n(clock::wallMs() / 1000.0), index, msg, hs.state)) {
    indices_.erase(index);
    return;
  }
  bool cookieValid = peer.cookie && now - peer.cookieTime < kCookieLifetime;
  addMacs(msg, kInitiationSize, peer.config.keys.mac1Key, cookieValid ? &*peer.cookie : nullptr);
  std::memcpy(hs.sentMac1.data(), msg + initiation::kMac1, 16);
  tx_.commit(socketFor(peer.endpoint), kInitiationSize, peer.endpoint.sa(), peer.endpoint.len);
  hs.active = true;
  hs.lastSent = now;
  counters_.inc(kHandshakesInitiated);
}

void TunnelWorker::flushStaged(PeerState& peer, double now) {
  if (peer.staged.empty() || !peer.current) return;
  std::vector<std::vector<uint8_t>> staged;
  staged.swap(peer.staged);
  for (auto& packet : staged) peer.transport->sendInner(packet, now);
}

void TunnelWorker::sendKeepalive(PeerState& peer, double now) {
  if (peer.current && peer.endpoint.valid())
    encryptAndSend(peer, *peer.current, {}, peer.endpoint, now);
}

void TunnelWorker::tickPeer(PeerState& peer, double now) {
  const TunnelSettings& s = settings();
  PeerState::Pending& hs = peer.pending;
  if (hs.active) {
    if (now - hs.firstSent >= s.rekeyAttemptTime) {
      // Give up, as WireGuard does after REKEY_ATTEMPT_TIME; traffic starts a new attempt.
      indices_.erase(hs.state.localIndex);
      hs.active = false;
      peer.staged.clear();
    } else if (now - hs.lastSent >= s.rekeyTimeout) {
      startHandshake(peer, now);
    }
  }
  for (auto* kp : {&peer.previous, &peer.current, &peer.next})
    if (*kp && now - (*kp)->created >= s.rejectAfterTime) dropKeypair(*kp);
  // A responder whose session was never confirmed starts its own handshake for what waits.
  if (!peer.current && !peer.staged.empty() && !hs.active &&
      (!peer.next || now - peer.next->created >= s.rekeyTimeout))
    startHandshake(peer, now);
  if (!peer.current) return;
  if (peer.config.keepalive > 0 && now - peer.lastSent >= peer.config.keepalive) {
    sendKeepalive(peer, now);
  } else if (peer.keepaliveOwed && now - peer.lastReceived >= s.keepaliveTimeout) {
    // Data came in and nothing went back: tell the peer we are alive (passive keepalive).
    peer.keepaliveOwed = false;
    sendKeepalive(peer, now);
  }
}

void TunnelWorker::probePaths(PeerState& peer, double now) {
  if (!peer.current) return;  // nothing to probe with: no loss recorded either
  PathSelector& sel = *peer.selector;
  uint32_t seq = sel.startRound(now);
  if (sel.evaluate()) {
    peer.endpoint = peer.paths[sel.chosen()];
    counters_.inc(kPathSwitches);
  }
  for (size_t i = 0; i < peer.paths.size(); ++i) {
    uint8_t probe[6] = {0x10, static_cast<uint8_t>(i)};
    storeLe32(probe + 2, seq);
    encryptAndSend(peer, *peer.current, {probe, sizeof probe}, peer.paths[i], now);
  }
}

}  // namespace manifold::tunnel
