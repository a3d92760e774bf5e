// Response rate limiting, as NSD and Knot do it: at most `rate` UDP answers per second to each
// client prefix (/24 IPv4, /56 IPv6 by default) for the whole server, every worker counting
// against the same bucket. Over the limit, every `slip`-th answer is sent truncated and empty
// (TC=1: a real client retries over TCP, a spoofed victim gets little), the others are dropped.
//
// The buckets live in the shm region "dns:NAME/rrl" and are updated lock-free (one CAS per
// answer), so a worker killed mid-update leaves nothing locked:
//   +0   char[8]  magic "MFDNSRL1"
//   +8   u32      buckets (a power of two)
//   +12  u32      reserved
//   +16  u64[buckets], each one atomic word:
//          bits 63..52  tag: 12 bits of the prefix hash not used for the index
//          bits 51..48  slip counter: limited answers so far, modulo slip
//          bits 47..0   TAT, the "theoretical arrival time" of GCRA (a token bucket kept as one
//                       timestamp): CLOCK_MONOTONIC in ns, modulo 2^48 (78 hours)
// An answer at time `now` passes when TAT - now <= (rate - 1) / rate s (a burst of `rate`),
// and then TAT = max(TAT, now) + 1/rate s. A prefix whose tag differs takes the bucket over
// (colliding prefixes never share a budget for long; a flood of prefixes evicts, it does not
// block). A TAT further ahead than one burst can only be a stale, wrapped value: a fresh bucket.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shm/region_header.hpp"

namespace manifold::dns {

struct RrlSettings {
  unsigned rate = 0;  // 0 = off
  unsigned slip = 2;  // 0 = never slip, 1 = always slip; at most 15
  unsigned ipv4Prefix = 24;
  unsigned ipv6Prefix = 56;
};

enum class RrlVerdict : uint8_t { Pass, Slip, Drop };

struct RrlRegionHeader {
  shm::RegionMagic magic;  // "MFDNSRL1"
  uint32_t buckets;
  uint32_t reserved;
};
static_assert(sizeof(RrlRegionHeader) == 16);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

class Rrl {
 public:
  static constexpr uint32_t kBuckets = 1u << 14;
  static size_t regionBytes() { return sizeof(RrlRegionHeader) + kBuckets * sizeof(uint64_t); }
  // Zeroes the buckets unless an adopted region already has this layout.
  static void formatRegion(void* base, size_t bytes, bool adopted);

  // `region` formatted by formatRegion (shared by every worker); null = no limiting.
  Rrl(const RrlSettings& s, void* region);

  // One UDP answer to `peer` at `nowNs` (clock::monotonicNs()).
  RrlVerdict check(const sockaddr* peer, uint64_t nowNs);

 private:
  uint64_t prefixHash(const sockaddr* peer) const;

  RrlSettings s_;
  std::atomic<uint64_t>* buckets_ = nullptr;
  uint64_t interval_ = 0;  // ns per answer
  uint64_t burst_ = 0;     // ns of credit: (rate - 1) intervals
};

}  // namespace manifold::dns
