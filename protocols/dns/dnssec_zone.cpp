#include "protocols/dns/dnssec_zone.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "protocols/dns/wire.hpp"

namespace manifold::dns {

int canonicalCompare(std::string_view a, std::string_view b) {
  size_t oa[128], ob[128];
  unsigned na = labelOffsets(a, oa, 128), nb = labelOffsets(b, ob, 128);
  // The last offset is the root; compare from the label above it downwards.
  for (unsigned i = 1; i < na && i < nb; ++i) {
    std::string_view la = a.substr(oa[na - 1 - i] + 1, static_cast<uint8_t>(a[oa[na - 1 - i]]));
    std::string_view lb = b.substr(ob[nb - 1 - i] + 1, static_cast<uint8_t>(b[ob[nb - 1 - i]]));
    int c = la.compare(lb);
    if (c) return c < 0 ? -1 : 1;
  }
  return na == nb ? 0 : na < nb ? -1 : 1;
}

std::string nsec3Hash(std::string_view lowerName, std::string_view salt, uint16_t iterations) {
  unsigned char buf[kMaxName + 255 + SHA_DIGEST_LENGTH];
  unsigned char md[SHA_DIGEST_LENGTH];
  size_t n = lowerName.size();
  std::memcpy(buf, lowerName.data(), n);
  std::memcpy(buf + n, salt.data(), salt.size());
  SHA1(buf, n + salt.size(), md);
  for (unsigned k = 0; k < iterations; ++k) {
    std::memcpy(buf, md, SHA_DIGEST_LENGTH);
    std::memcpy(buf + SHA_DIGEST_LENGTH, salt.data(), salt.size());
    SHA1(buf, SHA_DIGEST_LENGTH + salt.size(), md);
  }
  return std::string(reinterpret_cast<const char*>(md), SHA_DIGEST_LENGTH);
}

int ZoneSec::nsec3Match(std::string_view h) const {
  auto it = std::lower_bound(nsec3s.begin(), nsec3s.end(), h,
                             [](const Nsec3Entry& e, std::string_view k) { return e.hash < k; });
  return it != nsec3s.end() && it->hash == h ? static_cast<int>(it - nsec3s.begin()) : -1;
}

int ZoneSec::nsec3Cover(std::string_view h) const {
  if (nsec3s.empty()) return -1;
  auto it = std::lower_bound(nsec3s.begin(), nsec3s.end(), h,
                             [](const Nsec3Entry& e, std::string_view k) { return e.hash < k; });
  if (it == nsec3s.begin()) return static_cast<int>(nsec3s.size() - 1);
  return static_cast<int>(it - nsec3s.begin() - 1);
}

}  // namespace manifold::dns
