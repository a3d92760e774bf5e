// Choosing a backend for one try of a request, in one worker.
//
//  - roundrobin: smooth weighted round robin (as nginx): over any window of sum(weights) picks
//    each backend gets exactly its weight, interleaved rather than in bursts;
//  - leastconn: fewest requests in flight across all workers (shm), relative to weight; ties go
//    round robin;
//  - iphash / hash: weighted rendezvous hashing of the client address / the request URI: each
//    backend scores the key, the highest available score wins. Adding a backend moves only the
//    keys it now wins (its share); removing or failing one moves only its own keys. The next
//    try takes the next highest score.
// Backups are chosen only when no primary backend is available. Already-tried backends are
// skipped (`tried`, a bit per backend). Allocation-free.
#pragma once

#include <bitset>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "protocols/proxy/config.hpp"
#include "protocols/proxy/health.hpp"

namespace manifold::proxy {

using Tried = std::bitset<kMaxBackends>;

class Balancer {
 public:
  Balancer(const ProxyConfig& config, HealthRegion* health);

  // The backend for the next try, or -1 when none is available. `key` is the client address
  // bytes (iphash) or the URI (hash); ignored otherwise. `only`, when not empty, restricts the
  // choice to those backends, by rendezvous on `key` whatever the balance (a file's stage in
  // protocols/fs); backup flags do not apply then.
  int pick(std::string_view key, const Tried& tried, uint64_t nowMs,
           std::span<const int> only = {});

  // 64-bit hash used for rendezvous scores (exposed for tests and protocols/fs placement), with
  // a backend's seed (a hash of its address: placement follows the address, not the position).
  static uint64_t score(std::string_view key, uint64_t backendSeed, unsigned weight);
  static uint64_t seedOf(const BackendConfig& backend);

 private:
  bool usable(size_t i, bool backup, const Tried& tried, uint64_t nowMs) const;
  int pickFrom(bool backup, std::string_view key, const Tried& tried, uint64_t nowMs);

  const ProxyConfig& config_;
  HealthRegion* health_;
  std::vector<int64_t> current_;  // smooth WRR state
  std::vector<uint64_t> seeds_;   // per backend: hash of its address (placement by address)
};

}  // namespace manifold::proxy
