#include "protocols/tftp/rate_limit.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace manifold::tftp {

uint64_t sourceKey(const sockaddr* peer) {
  if (peer->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(peer);
    return 0xffffffff00000000ull | ntohl(in->sin_addr.s_addr);
  }
  if (peer->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer);
    const uint8_t* a = in6->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      uint32_t v4 = uint32_t(a[12]) << 24 | uint32_t(a[13]) << 16 | uint32_t(a[14]) << 8 | a[15];
      return 0xffffffff00000000ull | v4;
    }
    uint64_t prefix;
    std::memcpy(&prefix, a, 8);
    return prefix;
  }
  return 0;
}

SourceRateLimiter::SourceRateLimiter(double ratePerSecond, double burst, size_t sets)
    : rate_(ratePerSecond), burst_(std::max(burst, 1.0)), buckets_(sets * 2), sets_(sets) {}

bool SourceRateLimiter::allow(uint64_t source, double now) {
  if (rate_ <= 0) return true;
  uint64_t h = source * 0x9e3779b97f4a7c15ull;
  Bucket* set = &buckets_[(h >> 32) % sets_ * 2];
  Bucket* bucket = nullptr;
  for (int i = 0; i < 2; ++i)
    if (set[i].used && set[i].key == source) bucket = &set[i];
  if (!bucket) {
    bucket = !set[0].used ? &set[0] : !set[1].used ? &set[1] : set[0].last <= set[1].last ? &set[0] : &set[1];
    *bucket = Bucket{source, burst_, now, true};
  }
  bucket->tokens = std::min(burst_, bucket->tokens + (now - bucket->last) * rate_);
  bucket->last = now;
  if (bucket->tokens < 1.0) return false;
  bucket->tokens -= 1.0;
  return true;
}

}  // namespace manifold::tftp
