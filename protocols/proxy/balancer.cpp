#include "protocols/proxy/balancer.hpp"

#include <cmath>

namespace manifold::proxy {

namespace {

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: spreads FNV's weak low bits
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

Balancer::Balancer(const ProxyConfig& config, HealthRegion* health)
    : config_(config), health_(health), current_(config.backends.size(), 0) {
  for (const auto& b : config.backends) seeds_.push_back(seedOf(b));
}

uint64_t Balancer::seedOf(const BackendConfig& backend) { return fnv1a(backend.address.text); }

uint64_t Balancer::score(std::string_view key, uint64_t backendSeed, unsigned weight) {
  uint64_t h = mix(fnv1a(key) ^ backendSeed);
  // Weighted rendezvous: -w / ln(u), u uniform in (0, 1); scaled into an integer to compare.
  double u = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;
  double s = -static_cast<double>(weight) / std::log(u);
  return static_cast<uint64_t>(std::min(s * 1e6, 1.8e19));
}

bool Balancer::usable(size_t i, bool backup, const Tried& tried, uint64_t nowMs) const {
  const BackendConfig& b = config_.backends[i];
  return b.backup == backup && !b.down && !tried[i] && (!health_ || health_->available(i, nowMs));
}

int Balancer::pick(std::string_view key, const Tried& tried, uint64_t nowMs,
                   std::span<const int> only) {
  if (!only.empty()) {
    int best = -1;
    uint64_t bestScore = 0;
    for (int i : only) {
      const BackendConfig& b = config_.backends[i];
      if (b.down || tried[i] || (health_ && !health_->available(i, nowMs))) continue;
      uint64_t s = score(key, seeds_[i], b.weight);
      if (best < 0 || s > bestScore) best = i, bestScore = s;
    }
    return best;
  }
  int i = pickFrom(false, key, tried, nowMs);
  return i >= 0 ? i : pickFrom(true, key, tried, nowMs);
}

int Balancer::pickFrom(bool backup, std::string_view key, const Tried& tried, uint64_t nowMs) {
  const size_t n = config_.backends.size();
  int best = -1;
  switch (config_.balance) {
    case Balance::IpHash:
    case Balance::Hash: {
      uint64_t bestScore = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!usable(i, backup, tried, nowMs)) continue;
        uint64_t s = score(key, seeds_[i], config_.backends[i].weight);
        if (best < 0 || s > bestScore) best = static_cast<int>(i), bestScore = s;
      }
      return best;
    }
    case Balance::LeastConn: {
      // Fewest in flight per unit of weight: compare a/wa < b/wb as a*wb < b*wa.
      uint64_t bestActive = 0, bestWeight = 1;
      for (size_t i = 0; i < n; ++i) {
        if (!usable(i, backup, tried, nowMs)) continue;
        uint64_t a = health_ ? health_->active(i) : 0, w = config_.backends[i].weight;
        if (best < 0 || a * bestWeight < bestActive * w) {
          best = static_cast<int>(i), bestActive = a, bestWeight = w;
        } else if (a * bestWeight == bestActive * w && current_[i] > current_[best]) {
          best = static_cast<int>(i);
        }
      }
      break;
    }
    case Balance::RoundRobin:
      break;
  }
  // Smooth weighted round robin over the usable ones (also leastconn's tie-break state).
  int64_t total = 0;
  int rr = -1;
  for (size_t i = 0; i < n; ++i) {
    if (!usable(i, backup, tried, nowMs)) continue;
    current_[i] += config_.backends[i].weight;
    total += config_.backends[i].weight;
    if (rr < 0 || current_[i] > current_[rr]) rr = static_cast<int>(i);
  }
  if (config_.balance == Balance::RoundRobin) best = rr;
  if (best >= 0) current_[best] -= total;
  return best;
}

}  // namespace manifold::proxy
