// Client addresses, in one place: what DNS (RRL, LRRR, ACLs, views), the tracker (peers, access),
// TFTP (rate limits) and the proxy (X-Forwarded-For, ip hash, allow lists) all need.
//
// A PeerAddress is 16 bytes in IPv6 form plus a family. IPv4 is stored IPv4-mapped
// (::ffff:a.b.c.d) with family AF_INET, and an IPv4-mapped IPv6 peer (a dual-stack socket's view
// of an IPv4 client) *is* an IPv4 peer: the two compare equal, mask the same and match the same
// IPv4 networks. Pure functions, no allocation except toString().
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::net {

struct PeerAddress {
  uint8_t bytes[16] = {};  // network order; IPv4 at bytes[12..15] behind ::ffff:
  int family = 0;          // AF_INET, AF_INET6, or 0 (unknown / not an IP socket)

  bool isV4() const { return family == AF_INET; }
  // The address as the family writes it: 4 bytes for IPv4, 16 for IPv6.
  const uint8_t* raw() const { return isV4() ? bytes + 12 : bytes; }
  unsigned rawLength() const { return isV4() ? 4 : family == AF_INET6 ? 16 : 0; }
  bool operator==(const PeerAddress& o) const {
    return family == o.family && std::memcmp(bytes, o.bytes, 16) == 0;
  }
};

// From a socket address (sockaddr_in or sockaddr_in6); family 0 for anything else or nullptr.
PeerAddress peerAddress(const sockaddr* sa);
// Port in host order (0 for a non-IP address).
uint16_t peerPort(const sockaddr* sa);
// Numeric "192.0.2.1" or "2001:db8::1" (no brackets, no port); false for anything else.
bool parseAddress(std::string_view text, PeerAddress& out);
// The address with every bit past the family's prefix length cleared (prefixes are clamped to
// 32 / 128): the identity of a client network for rate limits and client-subnet decisions.
PeerAddress maskPrefix(const PeerAddress& a, unsigned prefix4, unsigned prefix6);
// "192.0.2.1" / "2001:db8::1" ("" for family 0).
std::string toString(const PeerAddress& a);

// A network: "192.0.2.0/24", "2001:db8::/32", or one address (full-length prefix).
struct Cidr {
  PeerAddress base;    // masked to prefix
  uint8_t prefix = 0;  // in the family's own bits (0..32 for IPv4, 0..128 for IPv6)
  bool contains(const PeerAddress& a) const;
};
// False (and `why`) for a malformed address or prefix.
bool parseCidr(std::string_view text, Cidr& out, std::string* why = nullptr);
bool anyContains(const std::vector<Cidr>& networks, const PeerAddress& a);

}  // namespace manifold::net
