#include "protocols/dns/dnssec_zone.hpp"

#include <algorithm>
#include <cstring>

#include "protocols/dns/wire.hpp"
#include "protocols/http/websocket_handshake.hpp"

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

// SHA-1 is the WebSocket handshake's (FIPS 180-4, written out there): OpenSSL 3's one-shot SHA1()
// costs about 2 us a call (it fetches the algorithm each time) and NSEC3 hashes names per query.
static void sha1(const uint8_t* data, size_t len, uint8_t out[20]) {
  http::ws::sha1(std::string_view(reinterpret_cast<const char*>(data), len), out);
}

void nsec3HashInto(std::string_view lowerName, std::string_view salt, uint16_t iterations,
                   char out[20]) {
  uint8_t buf[kMaxName + 255 + 20];
  uint8_t md[20];
  size_t n = lowerName.size();
  std::memcpy(buf, lowerName.data(), n);
  std::memcpy(buf + n, salt.data(), salt.size());
  sha1(buf, n + salt.size(), md);
  for (unsigned k = 0; k < iterations; ++k) {
    std::memcpy(buf, md, 20);
    std::memcpy(buf + 20, salt.data(), salt.size());
    sha1(buf, 20 + salt.size(), md);
  }
  std::memcpy(out, md, 20);
}

std::string nsec3Hash(std::string_view lowerName, std::string_view salt, uint16_t iterations) {
  char h[20];
  nsec3HashInto(lowerName, salt, iterations, h);
  return std::string(h, 20);
}

namespace {
// Index of the first hash not below h in `hashes` (n entries of 20 bytes, sorted).
size_t lowerBound(std::string_view hashes, std::string_view h) {
  size_t lo = 0, hi = hashes.size() / 20;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (std::memcmp(hashes.data() + 20 * mid, h.data(), 20) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}
}  // namespace

int ZoneSec::nsec3Match(std::string_view h) const {
  if (h.size() != 20) return -1;
  size_t i = lowerBound(hashes, h);
  return i < nsec3s.size() && std::memcmp(hashes.data() + 20 * i, h.data(), 20) == 0
             ? static_cast<int>(i)
             : -1;
}

int ZoneSec::nsec3Cover(std::string_view h) const {
  if (nsec3s.empty() || h.size() != 20) return -1;
  size_t i = lowerBound(hashes, h);
  return static_cast<int>(i == 0 ? nsec3s.size() - 1 : i - 1);
}

}  // namespace manifold::dns
