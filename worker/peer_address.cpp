#include "worker/peer_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace manifold::net {

namespace {
constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void setV4(PeerAddress& a, const void* four) {
  std::memcpy(a.bytes, kMappedPrefix, 12);
  std::memcpy(a.bytes + 12, four, 4);
  a.family = AF_INET;
}

void setV6(PeerAddress& a, const void* sixteen) {
  std::memcpy(a.bytes, sixteen, 16);
  a.family = std::memcmp(a.bytes, kMappedPrefix, 12) == 0 ? AF_INET : AF_INET6;
}
}  // namespace

PeerAddress peerAddress(const sockaddr* sa) {
  PeerAddress a;
  if (!sa) return a;
  if (sa->sa_family == AF_INET)
    setV4(a, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
  else if (sa->sa_family == AF_INET6)
    setV6(a, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  return a;
}

uint16_t peerPort(const sockaddr* sa) {
  if (!sa) return 0;
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

bool parseAddress(std::string_view text, PeerAddress& out) {
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  uint8_t raw[16];
  if (inet_pton(AF_INET, buf, raw) == 1) {
    setV4(out, raw);
    return true;
  }
  if (inet_pton(AF_INET6, buf, raw) == 1) {
    setV6(out, raw);
    return true;
  }
  return false;
}

PeerAddress maskPrefix(const PeerAddress& a, unsigned prefix4, unsigned prefix6) {
  PeerAddress m = a;
  if (a.family != AF_INET && a.family != AF_INET6) return m;
  // In the 16-byte form an IPv4 prefix of n bits is 96 + n.
  unsigned bits = a.isV4() ? 96 + (prefix4 > 32 ? 32 : prefix4) : (prefix6 > 128 ? 128 : prefix6);
  for (unsigned i = 0; i < 16; ++i) {
    unsigned keep = bits > i * 8 ? bits - i * 8 : 0;
    if (keep < 8) m.bytes[i] &= static_cast<uint8_t>(0xFF00 >> keep);
  }
  return m;
}

std::string toString(const PeerAddress& a) {
  char buf[INET6_ADDRSTRLEN];
  if (a.family == AF_INET) return inet_ntop(AF_INET, a.bytes + 12, buf, sizeof buf) ? buf : "";
  if (a.family == AF_INET6) return inet_ntop(AF_INET6, a.bytes, buf, sizeof buf) ? buf : "";
  return "";
}

bool Cidr::contains(const PeerAddress& a) const {
  if (a.family != base.family) return false;
  return maskPrefix(a, prefix, prefix) == base;
}

bool parseCidr(std::string_view text, Cidr& out, std::string* why) {
  auto fail = [&](const char* reason) {
    if (why) *why = "'" + std::string(text) + "': " + reason;
    return false;
  };
  size_t slash = text.find('/');
  PeerAddress a;
  if (!parseAddress(text.substr(0, slash), a)) return fail("not a numeric IP address");
  unsigned max = a.isV4() ? 32 : 128, prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string_view::npos)
      return fail("bad prefix length");
    prefix = 0;
    for (char c : p) prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    if (prefix > max) return fail("prefix length too long for the family");
  }
  out.prefix = static_cast<uint8_t>(prefix);
  out.base = maskPrefix(a, prefix, prefix);
  return true;
}

bool anyContains(const std::vector<Cidr>& networks, const PeerAddress& a) {
  for (const Cidr& n : networks)
    if (n.contains(a)) return true;
  return false;
}

}  // namespace manifold::net
