#include "protocols/dns/rrl.hpp"

#include <cstring>
#include <new>

#include "protocols/dns/lrrr.hpp"

namespace manifold::dns {

namespace {

constexpr unsigned kIndexBits = 14;
static_assert(Rrl::kBuckets == 1u << kIndexBits);
constexpr unsigned kTagShift = 52, kSlipShift = 48;
constexpr uint64_t kTimeMask = (uint64_t{1} << 48) - 1;

// The signed difference a - b of two 48-bit times.
int64_t timeDiff(uint64_t a, uint64_t b) {
  uint64_t d = (a - b) & kTimeMask;
  return d & (uint64_t{1} << 47) ? static_cast<int64_t>(d) - (int64_t{1} << 48) : static_cast<int64_t>(d);
}

}  // namespace

void Rrl::formatRegion(void* base, size_t bytes, bool adopted) {
  auto* h = static_cast<RrlRegionHeader*>(base);
  if (adopted && h->magic.is("MFDNSRL1") && h->buckets == kBuckets) return;
  std::memset(base, 0, bytes);
  auto* words = reinterpret_cast<std::atomic<uint64_t>*>(h + 1);
  for (uint32_t i = 0; i < kBuckets; ++i) new (&words[i]) std::atomic<uint64_t>(0);
  h->buckets = kBuckets;
  h->magic.stamp("MFDNSRL1");
}

Rrl::Rrl(const RrlSettings& s, void* region) : s_(s) {
  if (!s_.rate || !region) return;
  buckets_ = reinterpret_cast<std::atomic<uint64_t>*>(static_cast<RrlRegionHeader*>(region) + 1);
  interval_ = 1000000000ull / s_.rate;
  burst_ = interval_ * (s_.rate - 1);
}

// The same client identity as LRRR's (family, address cut to the prefix; IPv4-mapped counts as
// IPv4), hashed.
uint64_t Rrl::prefixHash(const sockaddr* peer) const {
  ClientPrefix p = clientPrefix(peer, s_.ipv4Prefix, s_.ipv6Prefix);
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : p.bytes) h = (h ^ b) * 1099511628211ull;
  return h * 0x9E3779B97F4A7C15ull;
}

RrlVerdict Rrl::check(const sockaddr* peer, uint64_t nowNs) {
  if (!buckets_ || !peer) return RrlVerdict::Pass;
  uint64_t h = prefixHash(peer);
  std::atomic<uint64_t>& slot = buckets_[h >> (64 - kIndexBits)];
  uint64_t tag = (h >> (64 - kIndexBits - 12)) & 0xFFF;
  uint64_t now = nowNs & kTimeMask;
  uint64_t old = slot.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t tat = old & kTimeMask;
    unsigned limited = static_cast<unsigned>((old >> kSlipShift) & 0xF);
    int64_t ahead = timeDiff(tat, now);
    // A newcomer, an idle bucket, or a value no live bucket can hold: start afresh.
    if (old >> kTagShift != tag || ahead < 0 || static_cast<uint64_t>(ahead) > burst_ + interval_) {
      ahead = 0;
      limited = 0;
    }
    RrlVerdict verdict = RrlVerdict::Pass;
    if (static_cast<uint64_t>(ahead) <= burst_) {
      tat = (now + static_cast<uint64_t>(ahead) + interval_) & kTimeMask;
    } else {
      tat = (now + static_cast<uint64_t>(ahead)) & kTimeMask;
      verdict = RrlVerdict::Drop;
      if (s_.slip) {
        limited = (limited + 1) % s_.slip;
        if (limited == 0) verdict = RrlVerdict::Slip;
      }
    }
    uint64_t word = tag << kTagShift | static_cast<uint64_t>(limited) << kSlipShift | tat;
    if (slot.compare_exchange_weak(old, word, std::memory_order_relaxed)) return verdict;
  }
}

}  // namespace manifold::dns
