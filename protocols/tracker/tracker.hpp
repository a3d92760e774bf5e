// The state and policy one worker's UDP and HTTP front ends share: the swarm store in shm, the
// connection-id issuer, the counters, a per-worker random source, and the answers both give the
// same way (families served, access list, numwant, interval jitter, recording an announce).
#pragma once

#include <algorithm>
#include <cstdint>

#include "protocols/service.hpp"
#include "protocols/tracker/config.hpp"
#include "protocols/tracker/connection_id.hpp"
#include "protocols/tracker/swarm_store.hpp"
#include "protocols/tracker/ws_swarm.hpp"
#include "worker/peer_address.hpp"

namespace manifold::tracker {

// The peer list a client joins: IPv4 (including IPv4-mapped IPv6, as net::PeerAddress says) or
// IPv6. Only for family AF_INET / AF_INET6 addresses.
inline Family familyOf(const net::PeerAddress& a) { return a.isV4() ? kV4 : kV6; }

class Tracker {
 public:
  Tracker(const TrackerConfig& config, ServiceContext& ctx);

  const TrackerConfig& config() const { return config_; }
  SwarmStore& store() { return store_; }
  bool ready() const { return store_.ok(); }
  uint32_t now() const;
  void count(unsigned counter, uint64_t n = 1) { ctx_.counters.add(counter, n); }
  bool serves(Family f) const { return f == kV4 ? config_.ipv4 : config_.ipv6; }
  const ConnectionIds& ids() const { return ids_; }

  uint64_t random() {
    // xorshift64*: per-worker, no syscall.
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545f4914f6cdd1dull;
  }
  // Interval with +/-5% jitter, so clients started together drift apart.
  uint32_t interval() {
    const uint32_t j = config_.interval / 20;
    return j ? config_.interval - j + static_cast<uint32_t>(random() % (2 * j + 1))
             : config_.interval;
  }
  uint32_t numWant(int64_t asked) const {
    if (asked < 0) return config_.defaultNumWant;
    return static_cast<uint32_t>(std::min<int64_t>(asked, config_.maxNumWant));
  }
  // False (and counted as denied) when the access list refuses this torrent.
  bool admits(const uint8_t* infoHash);
  // Records `peer` at `port` in the swarm of in.infoHash and writes up to in.numWant compact
  // peers of its family to `peersOut`. The caller sets infoHash, event, seeder and numWant; the
  // peer key, family, time and timeout are set here. Counts announces, or refused_full.
  AnnounceOutput announce(AnnounceInput in, const net::PeerAddress& peer, uint16_t port,
                          uint8_t* peersOut) {
    return announce(in, peer, port, peersOut, random());
  }
  // The same with the random number that picks the answer's peers given.
  AnnounceOutput announce(AnnounceInput in, const net::PeerAddress& peer, uint16_t port,
                          uint8_t* peersOut, uint64_t random);
  // A peer's key in its swarm: its compact form, address as its family writes it then the
  // big-endian port (6 or 18 bytes).
  static void peerKey(const net::PeerAddress& peer, uint16_t port, uint8_t* key);
  // Counts of one torrent over the UDP/HTTP swarm and the WebSocket swarm of the same hash.
  ScrapeCounts scrape(const uint8_t* infoHash);
  void attachWs(WsSwarmStore* ws) { ws_ = ws; }

 private:
  const TrackerConfig& config_;
  ServiceContext& ctx_;
  SwarmStore store_;
  WsSwarmStore* ws_ = nullptr;  // set while WebSocket signalling runs
  ConnectionIds ids_;
  uint64_t rng_;
};

}  // namespace manifold::tracker
