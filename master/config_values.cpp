// Config value parsers: sizes, durations, flags, integers, listen and remote addresses, and the
// size/duration formats of messages. Pure functions over text; they never throw. SectionReader
// (section_reader.cpp) turns a false return into a ConfigError naming the file, line and key.
#include <arpa/inet.h>

#include <cstring>
#include <initializer_list>
#include <limits>

#include "master/section_reader.hpp"
#include "protocols/ascii.hpp"

namespace manifold::config {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Leading decimal digits of `text` into `out`; returns how many were read (0: none).
// Sets `overflow` when the number does not fit in uint64_t.
size_t readDigits(std::string_view text, uint64_t& out, bool& overflow) {
  out = 0;
  overflow = false;
  size_t i = 0;
  for (; i < text.size() && isDigit(text[i]); ++i) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (out > (std::numeric_limits<uint64_t>::max() - digit) / 10) overflow = true;
    if (!overflow) out = out * 10 + digit;
  }
  return i;
}

// "1".."65535", digits only.
bool parsePort(std::string_view text, uint16_t& port, std::string& why) {
  uint64_t value = 0;
  bool overflow = false;
  size_t n = readDigits(text, value, overflow);
  if (text.empty() || n != text.size()) {
    why = "expected a port number after ':'";
    return false;
  }
  if (overflow || value < 1 || value > 65535) {
    why = "port must be between 1 and 65535";
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

constexpr const char* kListenExample =
    "expected an address like 127.0.0.1:8080, [::1]:8080, *:8080 or 8080";

}  // namespace

namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Digits, then one of `units` (exactly as listed); the scaled value must not pass `max`.
bool parseScaled(std::string_view text, std::initializer_list<Unit> units, uint64_t max,
                 const char* expected, const char* tooLarge, uint64_t& out, std::string& why) {
  uint64_t value = 0;
  bool overflow = false;
  const size_t n = readDigits(text, value, overflow);
  const std::string_view unit = text.substr(n);
  const Unit* found = nullptr;
  for (const Unit& u : units)
    if (u.name == unit) found = &u;
  if (n == 0 || !found) {
    why = expected;
    return false;
  }
  if (overflow || value > max / found->factor) {
    why = tooLarge;
    return false;
  }
  out = value * found->factor;
  return true;
}

}  // namespace

bool parseSize(std::string_view text, uint64_t& out, std::string& why) {
  return parseScaled(text,
                     {{"", 1},
                      {"k", 1ull << 10},
                      {"K", 1ull << 10},
                      {"m", 1ull << 20},
                      {"M", 1ull << 20},
                      {"g", 1ull << 30},
                      {"G", 1ull << 30}},
                     std::numeric_limits<uint64_t>::max(),
                     "expected a size like 512, 64k, 256M, 1G", "size is too large", out, why);
}

bool parseDuration(std::string_view text, Millis& out, std::string& why) {
  uint64_t ms = 0;
  if (!parseScaled(text, {{"ms", 1}, {"", 1000}, {"s", 1000}, {"m", 60000}, {"h", 3600000}},
                   static_cast<uint64_t>(std::numeric_limits<Millis::rep>::max()),
                   "expected a duration like 500ms, 30s, 5m, 1h", "duration is too long", ms, why))
    return false;
  out = Millis(static_cast<Millis::rep>(ms));
  return true;
}

std::string formatSize(uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "G";
  if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes != 0 && bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "k";
  return std::to_string(bytes);
}

std::string formatDuration(Millis d) {
  auto ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

bool parseFlag(std::string_view text, bool& out, std::string& why) {
  for (std::string_view yes : {"on", "yes", "true", "1"}) {
    if (ascii::equalsNoCase(text, yes)) {
      out = true;
      return true;
    }
  }
  for (std::string_view no : {"off", "no", "false", "0"}) {
    if (ascii::equalsNoCase(text, no)) {
      out = false;
      return true;
    }
  }
  why = "expected on or off (or yes/no, true/false, 1/0)";
  return false;
}

bool parseInteger(std::string_view text, int64_t& out, std::string& why) {
  bool negative = !text.empty() && text[0] == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  uint64_t value = 0;
  bool overflow = false;
  size_t n = readDigits(digits, value, overflow);
  if (n == 0 || n != digits.size()) {
    why = "expected an integer";
    return false;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (overflow || value > kMaxPositive + (negative ? 1 : 0)) {
    why = "integer is out of range";
    return false;
  }
  if (negative) {
    // -(2^63) has no positive counterpart: negate in unsigned arithmetic.
    out = value == kMaxPositive + 1 ? std::numeric_limits<int64_t>::min()
                                    : -static_cast<int64_t>(value);
  } else {
    out = static_cast<int64_t>(value);
  }
  return true;
}

bool parseListenAddress(std::string_view text, ListenAddress& out, std::string& why) {
  ListenAddress result;
  std::string host;  // numeric address without brackets; empty: IPv4 wildcard
  bool v6 = false;
  std::string_view portText;

  if (text.empty()) {
    why = kListenExample;
    return false;
  }
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    portText = text;  // bare port: *:port
  } else if (text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = kListenExample;
      return false;
    }
    host = std::string(text.substr(1, close - 1));
    portText = text.substr(close + 2);
    v6 = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = kListenExample;
      return false;
    }
    if (text.find(':') != colon) {
      why = "IPv6 addresses need brackets, like [::1]:8080";
      return false;
    }
    std::string_view h = text.substr(0, colon);
    if (h.empty()) {
      why = kListenExample;
      return false;
    }
    if (h != "*") host = std::string(h);
    portText = text.substr(colon + 1);
  }

  uint16_t port = 0;
  if (!parsePort(portText, port, why)) return false;

  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&result.addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) {
      why = "'" + host + "' is not a numeric IPv6 address (hostnames are not resolved)";
      return false;
    }
    // Every v6 socket is IPV6_V6ONLY, so a v4-mapped address could never be bound.
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      why = "IPv4-mapped IPv6 addresses are not supported: write the IPv4 address";
      return false;
    }
    result.len = sizeof(sockaddr_in6);
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    result.text = std::string("[") + buf + "]:" + std::to_string(port);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&result.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (host.empty()) {
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) {
      why = "'" + host + "' is not a numeric IPv4 address (hostnames are not resolved)";
      return false;
    }
    result.len = sizeof(sockaddr_in);
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    result.text = std::string(buf) + ":" + std::to_string(port);
  }
  out = std::move(result);
  return true;
}

bool parseRemoteAddress(std::string_view text, uint16_t defaultPort, ListenAddress& out,
                        std::string& why) {
  std::string withPort(text);
  bool bareV6 = !text.empty() && text[0] != '[' && text.find(':') != text.rfind(':');
  bool bracketedV6 = !text.empty() && text[0] == '[' && text.back() == ']';
  bool v4 = text.find(':') == std::string_view::npos;
  if (bareV6) withPort = "[" + withPort + "]";
  if (bareV6 || bracketedV6 || v4) withPort += ":" + std::to_string(defaultPort);
  ListenAddress address;
  if (v4 && text.find_first_not_of("0123456789") == std::string_view::npos) {
    // A bare number would read as a port: it is no address.
  } else if (parseListenAddress(withPort, address, why) && !address.isWildcard()) {
    out = std::move(address);
    return true;
  }
  why = "expected ADDR, ADDR:PORT or [IPv6]:PORT, not '" + std::string(text) + "'";
  return false;
}

uint16_t ListenAddress::port() const {
  if (addr.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return 0;
}

bool ListenAddress::isWildcard() const {
  if (addr.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (addr.ss_family == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr);
  }
  return false;
}

// v4 and v6 never overlap: Manifold sets IPV6_V6ONLY on every v6 socket.
bool ListenAddress::overlaps(const ListenAddress& other) const {
  if (family() != other.family() || port() != other.port()) return false;
  if (isWildcard() || other.isWildcard()) return true;
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&other.addr)->sin_addr.s_addr;
  }
  if (family() == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&other.addr)->sin6_addr,
                       sizeof(in6_addr)) == 0;
  }
  return false;
}

}  // namespace manifold::config
