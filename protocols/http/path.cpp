#include "protocols/http/path.hpp"

#include "protocols/ascii.hpp"

namespace manifold::http {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

}  // namespace

bool normalizePath(std::string_view raw, std::string& out) {
  out.clear();
  if (raw.empty() || raw[0] != '/') return false;
  out.push_back('/');
  // out is always "/" followed by finished segments each ending in '/', then the segment being
  // read, which starts at segStart. Segments are resolved as soon as they end.
  size_t segStart = 1;
  bool trailingSlash = true;  // whether the result must end in '/'

  auto endSegment = [&]() -> bool {
    std::string_view seg(out.data() + segStart, out.size() - segStart);
    if (seg.empty()) {  // "//": collapse
      return true;
    }
    if (seg == ".") {
      out.resize(segStart);
      trailingSlash = true;
      return true;
    }
    if (seg == "..") {
      if (segStart == 1) return false;  // would climb above the root
      // Drop the previous segment: out[segStart-1] is its closing '/'.
      size_t prev = out.rfind('/', segStart - 2);
      out.resize(prev + 1);
      segStart = prev + 1;
      trailingSlash = true;
      return true;
    }
    out.push_back('/');
    segStart = out.size();
    trailingSlash = false;  // unless a later '/' or dot segment says otherwise
    return true;
  };

  for (size_t i = 1; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == '%') {
      if (i + 2 >= raw.size()) return false;
      int hi = ascii::hexValue(raw[i + 1]), lo = ascii::hexValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
    }
    if (c < 0x20 || c == 0x7f) return false;  // also %00
    if (c == '/') {
      if (!endSegment()) return false;
      trailingSlash = true;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (!endSegment()) return false;
  // endSegment() leaves a '/' after the last normal segment; drop it if the input had none.
  if (!trailingSlash && out.size() > 1) out.pop_back();
  return true;
}

std::string percentEncodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char ch : path) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace manifold::http
