#include "protocols/http/range.hpp"

#include <algorithm>
#include <charconv>

#include "protocols/http/request.hpp"

namespace manifold::http {

namespace {

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

// 1*DIGIT, saturating at UINT64_MAX: a huge last-pos just means "to the end", a huge
// first-pos is past any representation.
bool parseNumber(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned d = static_cast<unsigned>(c - '0');
    n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
  }
  out = n;
  return true;
}

inline bool touches(const ByteRange& a, const ByteRange& b) {
  // Overlapping or adjacent; careful with last == UINT64_MAX (cannot happen after clamping).
  return a.first <= b.last + 1 && b.first <= a.last + 1;
}

void appendNumber(std::string& out, uint64_t v) {
  char buf[20];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

size_t digits(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

constexpr std::string_view kCrlfDashes = "\r\n--";
constexpr std::string_view kContentType = "\r\nContent-Type: ";
constexpr std::string_view kContentRange = "\r\nContent-Range: bytes ";

}  // namespace

RangeResult parseRange(std::string_view header, uint64_t size, std::vector<ByteRange>& out,
                       size_t maxRanges) {
  out.clear();
  size_t eq = header.find('=');
  if (eq == std::string_view::npos || !equalsIgnoreCase(header.substr(0, eq), "bytes"))
    return RangeResult::Ignore;
  std::string_view set = header.substr(eq + 1);

  size_t specs = 0;
  while (true) {
    size_t comma = set.find(',');
    std::string_view spec = set.substr(0, comma);
    while (!spec.empty() && isOws(spec.front())) spec.remove_prefix(1);
    while (!spec.empty() && isOws(spec.back())) spec.remove_suffix(1);
    if (!spec.empty()) {  // empty list elements are allowed (RFC 9110 5.6.1)
      if (++specs > maxRanges) {
        out.clear();
        return RangeResult::Ignore;
      }
      size_t dash = spec.find('-');
      if (dash == std::string_view::npos) {
        out.clear();
        return RangeResult::Ignore;
      }
      uint64_t a = 0, b = 0;
      bool haveLast = dash + 1 < spec.size();
      if (dash == 0) {  // suffix-range "-n": the last n bytes
        if (!parseNumber(spec.substr(1), b)) {
          out.clear();
          return RangeResult::Ignore;
        }
        if (b > 0 && size > 0) out.push_back({b >= size ? 0 : size - b, size - 1});
      } else {
        if (!parseNumber(spec.substr(0, dash), a) ||
            (haveLast && !parseNumber(spec.substr(dash + 1), b)) || (haveLast && b < a)) {
          out.clear();
          return RangeResult::Ignore;  // an invalid range-spec voids the header
        }
        if (a < size) out.push_back({a, haveLast && b < size ? b : size - 1});
      }
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs == 0) return RangeResult::Ignore;  // "bytes=" or "bytes=,"
  // An empty representation has no byte to select; serving it whole (200, empty body) is what
  // nginx does and spares clients a 416 they may retry on.
  if (size == 0) return RangeResult::Ignore;
  if (out.empty()) return RangeResult::Unsatisfiable;

  // Coalesce into the earliest-asked position until no two ranges touch (n <= maxRanges).
  for (size_t i = 0; i < out.size();) {
    bool merged = false;
    for (size_t j = i + 1; j < out.size(); ++j) {
      if (touches(out[i], out[j])) {
        out[i].first = std::min(out[i].first, out[j].first);
        out[i].last = std::max(out[i].last, out[j].last);
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
        break;
      }
    }
    if (merged) {
      i = 0;  // the grown range may now touch an earlier one
    } else {
      ++i;
    }
  }
  return RangeResult::Satisfiable;
}

void appendContentRange(std::string& out, const ByteRange& r, uint64_t size) {
  out += "bytes ";
  appendNumber(out, r.first);
  out.push_back('-');
  appendNumber(out, r.last);
  out.push_back('/');
  appendNumber(out, size);
}

void appendUnsatisfiedRange(std::string& out, uint64_t size) {
  out += "bytes */";
  appendNumber(out, size);
}

std::string multipartBoundary(uint64_t seed) {
  // splitmix64: cheap, and different seeds give unrelated boundaries.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  std::string b = "manifold";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) b.push_back(kHex[(z >> shift) & 15]);
  return b;
}

void appendPartHeader(std::string& out, std::string_view boundary, std::string_view contentType,
                      const ByteRange& r, uint64_t size) {
  out += kCrlfDashes;
  out += boundary;
  if (!contentType.empty()) {
    out += kContentType;
    out += contentType;
  }
  out += kContentRange;
  appendNumber(out, r.first);
  out.push_back('-');
  appendNumber(out, r.last);
  out.push_back('/');
  appendNumber(out, size);
  out += "\r\n\r\n";
}

void appendClosingBoundary(std::string& out, std::string_view boundary) {
  out += kCrlfDashes;
  out += boundary;
  out += "--\r\n";
}

uint64_t multipartLength(std::string_view boundary, std::string_view contentType,
                         std::span<const ByteRange> ranges, uint64_t size) {
  const uint64_t fixed = kCrlfDashes.size() + boundary.size() +
                         (contentType.empty() ? 0 : kContentType.size() + contentType.size()) +
                         kContentRange.size() + 1 /* - */ + 1 /* / */ + digits(size) + 4;
  uint64_t total = 0;
  for (const ByteRange& r : ranges) total += fixed + digits(r.first) + digits(r.last) + r.length();
  return total + kCrlfDashes.size() + boundary.size() + 4 /* --\r\n */;
}

}  // namespace manifold::http
