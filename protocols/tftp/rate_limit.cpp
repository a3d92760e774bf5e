#include "protocols/tftp/rate_limit.hpp"

#include <algorithm>
#include <cstring>

#include "worker/peer_address.hpp"

namespace manifold::tftp {

namespace {

constexpr unsigned kIndexBits = 14;
static_assert(SourceRateLimiter::kBuckets == 1u << kIndexBits);
constexpr unsigned kTagShift = 48;
constexpr uint64_t kTimeMask = shm::kTime48Mask;
// Burst credit is kept well inside the 48-bit clock so "ahead" never reads as wrapped.
constexpr uint64_t kCreditMax = uint64_t{1} << 46;

}  // namespace

uint64_t sourceKey(const sockaddr* peer) {
  net::PeerAddress a = net::peerAddress(peer);
  if (a.isV4()) {
    const uint8_t* v4 = a.raw();
    return 0xffffffff00000000ull | uint64_t(v4[0]) << 24 | uint64_t(v4[1]) << 16 |
           uint64_t(v4[2]) << 8 | v4[3];
  }
  if (a.family != AF_INET6) return 0;
  uint64_t prefix;  // the /64, as the address's first 8 bytes
  std::memcpy(&prefix, a.bytes, 8);
  return prefix;
}

void SourceRateLimiter::formatRegion(void* base, size_t bytes, bool adopted) {
  shm::formatWordRegion(base, bytes, adopted, "MFTFTRL1", kBuckets);
}

SourceRateLimiter::SourceRateLimiter(double ratePerSecond, double burst, void* region) {
  if (ratePerSecond <= 0) return;
  if (!region) {
    private_ = std::make_unique<uint8_t[]>(regionBytes());
    region = private_.get();
    formatRegion(region, regionBytes(), false);
  }
  buckets_ = shm::regionWords(region);
  interval_ = std::max<uint64_t>(1, static_cast<uint64_t>(1e9 / ratePerSecond));
  double credit = (std::max(burst, 1.0) - 1.0) * static_cast<double>(interval_);
  credit_ = std::min(kCreditMax, static_cast<uint64_t>(credit));
}

bool SourceRateLimiter::allow(uint64_t source, double now) {
  if (!buckets_) return true;
  uint64_t h = source * 0x9e3779b97f4a7c15ull;
  std::atomic<uint64_t>& slot = buckets_[h >> (64 - kIndexBits)];
  uint64_t tag = (h >> (64 - kIndexBits - 16)) & 0xFFFF;
  uint64_t nowNs = static_cast<uint64_t>(now * 1e9) & kTimeMask;
  uint64_t old = slot.load(std::memory_order_relaxed);
  for (;;) {
    int64_t ahead = shm::time48Diff(old & kTimeMask, nowNs);
    // A newcomer, an idle bucket, or a value no live bucket can hold: a full bucket.
    if (old >> kTagShift != tag || ahead < 0 || static_cast<uint64_t>(ahead) > credit_ + interval_)
      ahead = 0;
    if (static_cast<uint64_t>(ahead) > credit_) return false;
    uint64_t tat = (nowNs + static_cast<uint64_t>(ahead) + interval_) & kTimeMask;
    if (slot.compare_exchange_weak(old, tag << kTagShift | tat, std::memory_order_relaxed))
      return true;
  }
}

}  // namespace manifold::tftp
