#include "protocols/fs/destination.hpp"

#include "protocols/ascii.hpp"

namespace manifold::fs {

namespace {

using ascii::equalsNoCase;
using ascii::trimOws;

bool iprefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsNoCase(s.substr(0, prefix.size()), prefix);
}

// No ".", ".." segment (nor their %2e spellings).
bool dotSegment(std::string_view segment) {
  size_t dots = 0;
  for (size_t i = 0; i < segment.size();) {
    if (segment[i] == '.') {
      ++i;
    } else if (segment.size() - i >= 3 && segment[i] == '%' && segment[i + 1] == '2' &&
               ascii::toLower(segment[i + 2]) == 'e') {
      i += 3;
    } else {
      return false;
    }
    ++dots;
  }
  return dots == 1 || dots == 2;
}

}  // namespace

bool parseDestination(std::string_view value, Destination& out) {
  value = trimOws(value);
  size_t hash = value.find('#');
  if (hash != std::string_view::npos) value = value.substr(0, hash);
  std::string_view authority, path;
  if (!value.empty() && value.front() == '/') {
    if (value.size() > 1 && value[1] == '/') return false;  // "//host/..." (network-path)
    path = value;
  } else {
    size_t skip = iprefix(value, "http://") ? 7 : iprefix(value, "https://") ? 8 : 0;
    if (skip == 0) return false;
    std::string_view rest = value.substr(skip);
    size_t slash = rest.find('/');
    authority = rest.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
    for (char c : authority)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?') return false;
  }
  for (char c : path)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '\\') return false;
  for (size_t start = 1; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (dotSegment(path.substr(start, end - start))) return false;
    start = end + 1;
  }
  out.authority = authority;
  out.path = path;
  return true;
}

bool sameAuthority(std::string_view authority, std::string_view host) {
  auto bare = [](std::string_view a) {
    for (std::string_view port : {":80", ":443"})
      if (a.size() > port.size() && a.ends_with(port))  // "[::1]:80" too; "[::80]" ends in ']'
        return a.substr(0, a.size() - port.size());
    return a;
  };
  return !host.empty() && equalsNoCase(bare(authority), bare(trimOws(host)));
}

Overwrite parseOverwrite(std::string_view value) {
  value = trimOws(value);
  if (value.empty() || value == "T" || value == "t") return Overwrite::True;
  if (value == "F" || value == "f") return Overwrite::False;
  return Overwrite::Invalid;
}

Depth parseDepth(std::string_view value) {
  value = trimOws(value);
  if (value.empty() || equalsNoCase(value, "infinity")) return Depth::Infinity;
  if (value == "0") return Depth::Zero;
  if (value == "1") return Depth::One;
  return Depth::Invalid;
}

}  // namespace manifold::fs
