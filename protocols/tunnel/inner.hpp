// Inner IP packets as the tunnel sees them: the version nibble and the source and destination
// addresses, read without trusting the packet (pure).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "worker/peer_address.hpp"

namespace manifold::tunnel {

// False unless `p` starts with a whole IPv4 (20+ bytes) or IPv6 (40+ bytes) header.
inline bool innerAddresses(std::span<const uint8_t> p, net::PeerAddress& src,
                           net::PeerAddress& dst) {
  if (p.empty()) return false;
  src = dst = net::PeerAddress{};
  if ((p[0] >> 4) == 4 && p.size() >= 20) {
    src.family = dst.family = AF_INET;
    src.bytes[10] = src.bytes[11] = dst.bytes[10] = dst.bytes[11] = 0xff;
    std::memcpy(src.bytes + 12, p.data() + 12, 4);
    std::memcpy(dst.bytes + 12, p.data() + 16, 4);
    return true;
  }
  if ((p[0] >> 4) == 6 && p.size() >= 40) {
    src.family = dst.family = AF_INET6;
    std::memcpy(src.bytes, p.data() + 8, 16);
    std::memcpy(dst.bytes, p.data() + 24, 16);
    return true;
  }
  return false;
}

}  // namespace manifold::tunnel
