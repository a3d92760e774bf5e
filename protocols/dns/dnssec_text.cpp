#include "protocols/dns/dnssec_text.hpp"

#include <algorithm>
#include <ctime>

#include "protocols/dns/wire.hpp"

namespace manifold::dns {

bool parseDnssecTime(std::string_view text, uint32_t& out) {
  if (text.empty() || text.size() > 14) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  if (text.size() < 14) {  // plain seconds (RFC 4034 3.2 allows it)
    uint64_t v = 0;
    for (char c : text) v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > 0xFFFFFFFFu) return false;
    out = static_cast<uint32_t>(v);
    return true;
  }
  tm t{};
  t.tm_year = num(0, 4) - 1900;
  t.tm_mon = num(4, 2) - 1;
  t.tm_mday = num(6, 2);
  t.tm_hour = num(8, 2);
  t.tm_min = num(10, 2);
  t.tm_sec = num(12, 2);
  if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23 ||
      t.tm_min > 59 || t.tm_sec > 60 || t.tm_year < 0)
    return false;
  // Serial arithmetic: the value is the time modulo 2^32.
  out = static_cast<uint32_t>(static_cast<uint64_t>(timegm(&t)));
  return true;
}

std::string dnssecTimeText(uint32_t t) {
  time_t tt = static_cast<time_t>(t);
  tm u{};
  gmtime_r(&tt, &u);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &u);
  return buf;
}

bool appendTypeBitmap(const std::vector<std::string_view>& types, std::string& out,
                      std::string& why) {
  std::vector<uint16_t> list;
  for (std::string_view t : types) {
    uint16_t v;
    if (!parseTypeName(t, v)) {
      why = "bad type '" + std::string(t) + "' in the type bitmap";
      return false;
    }
    list.push_back(v);
  }
  std::sort(list.begin(), list.end());
  for (size_t i = 0; i < list.size();) {
    uint8_t window = static_cast<uint8_t>(list[i] >> 8);
    uint8_t bits[32] = {};
    size_t len = 0;
    for (; i < list.size() && (list[i] >> 8) == window; ++i) {
      uint8_t low = static_cast<uint8_t>(list[i]);
      bits[low / 8] |= static_cast<uint8_t>(0x80 >> (low % 8));
      len = low / 8 + 1u;
    }
    out.push_back(static_cast<char>(window));
    out.push_back(static_cast<char>(len));
    out.append(reinterpret_cast<const char*>(bits), len);
  }
  return true;
}

bool checkTypeBitmap(std::string_view w) {
  int last = -1;
  size_t i = 0;
  while (i < w.size()) {
    if (i + 2 > w.size()) return false;
    int window = static_cast<uint8_t>(w[i]);
    size_t len = static_cast<uint8_t>(w[i + 1]);
    if (window <= last || len < 1 || len > 32 || i + 2 + len > w.size()) return false;
    last = window;
    i += 2 + len;
  }
  return true;
}

bool bitmapHas(std::string_view w, uint16_t type) {
  size_t i = 0;
  while (i + 2 <= w.size()) {
    uint8_t window = static_cast<uint8_t>(w[i]);
    size_t len = static_cast<uint8_t>(w[i + 1]);
    if (window == type >> 8) {
      size_t byte = (type & 0xFF) / 8;
      return byte < len && i + 2 + byte < w.size() &&
             (static_cast<uint8_t>(w[i + 2 + byte]) & (0x80 >> (type % 8)));
    }
    i += 2 + len;
  }
  return false;
}

bool base32HexDecode(std::string_view text, std::string& out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'v')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'V')
      v = c - 'A' + 10;
    else
      return false;
    acc = (acc << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  return acc == 0;  // leftover bits must be zero padding
}

std::string base32HexEncode(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuv";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : bytes) {
    acc = (acc << 8) | static_cast<uint8_t>(ch);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kDigits[(acc >> bits) & 31]);
    }
    acc &= (1u << bits) - 1;
  }
  if (bits) out.push_back(kDigits[(acc << (5 - bits)) & 31]);
  return out;
}

}  // namespace manifold::dns
