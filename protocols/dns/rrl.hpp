// Response rate limiting (in the spirit of NSD/Knot RRL): a token bucket per client prefix
// (/24 IPv4, /56 IPv6 by default), `rate` answers per second per worker. Over the limit, every
// `slip`-th answer is sent truncated and empty (TC=1: a real client retries over TCP, a spoofed
// victim gets little), the others are dropped. Fixed-size table, no allocation per query;
// colliding prefixes share a bucket (errs on the side of limiting).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace manifold::dns {

struct RrlSettings {
  unsigned rate = 0;  // 0 = off
  unsigned slip = 2;  // 0 = never slip, 1 = always slip
  unsigned ipv4Prefix = 24;
  unsigned ipv6Prefix = 56;
};

enum class RrlVerdict : uint8_t { Pass, Slip, Drop };

class Rrl {
 public:
  explicit Rrl(const RrlSettings& s) : s_(s) {
    if (s_.rate) buckets_.resize(kBuckets);
  }

  RrlVerdict check(const sockaddr* peer, double now) {
    if (!s_.rate || !peer) return RrlVerdict::Pass;
    uint64_t key = prefixKey(peer);
    Bucket& b = buckets_[(key * 0x9E3779B97F4A7C15ull) >> (64 - kBits)];
    if (b.key != key) {
      b = Bucket{key, static_cast<double>(s_.rate), now, 0};
    }
    b.tokens += (now - b.last) * s_.rate;
    if (b.tokens > s_.rate) b.tokens = s_.rate;
    b.last = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return RrlVerdict::Pass;
    }
    if (s_.slip && ++b.limited % s_.slip == 0) return RrlVerdict::Slip;
    return RrlVerdict::Drop;
  }

 private:
  static constexpr unsigned kBits = 14;
  static constexpr size_t kBuckets = size_t{1} << kBits;
  struct Bucket {
    uint64_t key = ~0ull;
    double tokens = 0;
    double last = 0;
    uint64_t limited = 0;
  };
  uint64_t prefixKey(const sockaddr* peer) const {
    uint8_t a[16] = {};
    unsigned bits;
    uint64_t fam;
    if (peer->sa_family == AF_INET) {
      std::memcpy(a, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, 4);
      bits = s_.ipv4Prefix;
      fam = 4;
    } else {
      std::memcpy(a, &reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr, 16);
      bits = s_.ipv6Prefix;
      fam = 6;
    }
    for (unsigned i = 0; i < 16; ++i) {
      unsigned keep = bits > i * 8 ? bits - i * 8 : 0;
      if (keep < 8) a[i] &= static_cast<uint8_t>(0xFF00 >> keep);
    }
    uint64_t h = 1469598103934665603ull ^ fam;
    for (uint8_t b : a) h = (h ^ b) * 1099511628211ull;
    return h;
  }
  RrlSettings s_;
  std::vector<Bucket> buckets_;
};

}  // namespace manifold::dns
