#include "protocols/dns/dnssec_zone.hpp"

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

namespace {

// SHA-1 (FIPS 180-4) of a short message, written out because OpenSSL 3's one-shot SHA1() costs
// about 2 us a call (it fetches the algorithm each time) and NSEC3 hashes names per query. NSEC3
// needs SHA-1 for lookups only; nothing here relies on its strength.
void sha1(const uint8_t* data, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  uint64_t bits = static_cast<uint64_t>(len) * 8;
  size_t blocks = (len + 8) / 64 + 1;
  for (size_t b = 0; b < blocks; ++b) {
    uint8_t block[64];
    for (size_t i = 0; i < 64; ++i) {
      size_t at = b * 64 + i;
      block[i] = at < len ? data[at] : at == len ? 0x80 : 0;
    }
    if (b == blocks - 1)
      for (int i = 0; i < 8; ++i) block[56 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) w[i] = get32(block + 4 * i);
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (bb & c) | (~bb & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = bb ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (bb & c) | (bb & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = bb ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(bb, 30);
      bb = a;
      a = t;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  for (int i = 0; i < 5; ++i) put32(out + 4 * i, h[i]);
}

}  // namespace

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
size_t lowerBound(const std::string& hashes, std::string_view h) {
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
