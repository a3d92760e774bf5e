// Stateless, unforgeable BEP 15 connection ids.
//
// Layout of the 64-bit id (big-endian on the wire):
//   bits 63..32  issuedAt: the server's clock in seconds when it was handed out (low 32 bits)
//   bits 31..0   tag: the first 4 bytes of SipHash-2-4 (libsodium crypto_shorthash) keyed with
//                the instance's secret over issuedAt (4 bytes) || the client's IP (16 bytes,
//                IPv4 mapped into ::ffff:0:0/96)
// An id is accepted while now - issuedAt <= lifetime (default 120 s, BEP 15's two minutes),
// for the same client IP only. Nothing is stored per client; the secret lives in the swarm
// region's header, so every worker and every generation after a reload shares it.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <cstring>

namespace manifold::tracker {

inline constexpr size_t kConnectionKeyBytes = crypto_shorthash_KEYBYTES;  // 16

class ConnectionIds {
 public:
  ConnectionIds() = default;
  ConnectionIds(const uint8_t* key, uint32_t lifetimeSeconds) : lifetime_(lifetimeSeconds) {
    std::memcpy(key_, key, sizeof key_);
  }

  // ip16: the client address as 16 bytes (IPv4-mapped for IPv4).
  uint64_t make(const uint8_t* ip16, uint32_t now) const {
    return uint64_t{now} << 32 | tag(ip16, now);
  }
  bool valid(uint64_t id, const uint8_t* ip16, uint32_t now) const {
    const uint32_t issued = static_cast<uint32_t>(id >> 32);
    if (static_cast<uint32_t>(now - issued) > lifetime_) return false;  // also rejects the future
    return static_cast<uint32_t>(id) == tag(ip16, issued);
  }

 private:
  uint32_t tag(const uint8_t* ip16, uint32_t issued) const {
    uint8_t in[20], out[crypto_shorthash_BYTES];
    std::memcpy(in, &issued, 4);
    std::memcpy(in + 4, ip16, 16);
    crypto_shorthash(out, in, sizeof in, key_);
    uint32_t t;
    std::memcpy(&t, out, 4);
    return t;
  }

  uint8_t key_[kConnectionKeyBytes] = {};
  uint32_t lifetime_ = 120;
};

}  // namespace manifold::tracker
