// Per-source rate limit for new TFTP sessions, so a flood of requests with a spoofed source
// cannot turn the server into a reflector. A source is an IPv4 /32 or an IPv6 /64. The limit is
// instance-wide: every worker takes from the same bucket, in the shm region "tftp:NAME/rate".
//
// As DNS RRL (protocols/dns/rrl.hpp): GCRA, each bucket one atomic 64-bit word updated with a
// CAS, so a worker killed mid-update leaves nothing locked. Region: a shm/word_region.hpp with
// magic "MFTFTRL1" and kBuckets words, each:
//          bits 63..48  tag: 16 bits of the source hash not used for the index
//          bits 47..0   TAT ("theoretical arrival time"): CLOCK_MONOTONIC ns modulo 2^48
// A request at `now` passes when TAT - now <= (burst - 1) / rate s, and then
// TAT = max(TAT, now) + 1/rate s: a bucket of `burst` tokens refilled at `rate` per second,
// starting full. A source whose tag differs takes the bucket over (it starts full, as an
// evicted source did with the per-worker table this replaces).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "shm/word_region.hpp"

namespace manifold::tftp {

// IPv4: 0xffffffff00000000 | address; IPv6: the top 64 bits (the /64 prefix); v4-mapped IPv6
// addresses count as IPv4; 0 for a non-IP address.
uint64_t sourceKey(const sockaddr* peer);

class SourceRateLimiter {
 public:
  static constexpr uint32_t kBuckets = 1u << 14;
  static size_t regionBytes() { return shm::wordRegionBytes(kBuckets); }
  // Zeroes the buckets unless an adopted region already has this layout.
  static void formatRegion(void* base, size_t bytes, bool adopted);

  // rate <= 0 disables the limiter (allow() is always true). `region` (formatted by
  // formatRegion) is shared by every worker; null: a private table (this process only).
  SourceRateLimiter(double ratePerSecond, double burst, void* region = nullptr);
  // Takes a token for `source` at `now` (seconds, CLOCK_MONOTONIC) if one is there.
  bool allow(uint64_t source, double now);

 private:
  std::atomic<uint64_t>* buckets_ = nullptr;
  std::unique_ptr<uint8_t[]> private_;  // the region when none is shared
  uint64_t interval_ = 0;               // ns per token
  uint64_t credit_ = 0;                 // ns of burst credit: (burst - 1) intervals
};

}  // namespace manifold::tftp
