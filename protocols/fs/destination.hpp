// The headers of a WebDAV COPY or MOVE (RFC 4918 10.3, 10.6, 10.2), parsed as pure functions
// (unit-tested, fuzzed: t/fuzz/fs_destination.cpp).
#pragma once

#include <string_view>

namespace manifold::fs {

// A Destination value: an absolute URI ("http://host:port/path", http or https) or an absolute
// path. `authority` is empty for a path. The path keeps its percent-encoding (placement hashes
// it as sent); a "#fragment" is dropped. False when malformed: empty, another scheme, no
// authority, a query, a byte that is a space or a control (it goes into request lines), or a
// "." or ".." segment (the nodes would resolve it, the placement would not).
struct Destination {
  std::string_view authority;  // "host[:port]", as sent
  std::string_view path;       // starts with '/'
};
bool parseDestination(std::string_view value, Destination& out);

// Whether `authority` (of a Destination) names the server the request was sent to (`host`: its
// Host header): equal ignoring case, and a default port (":80", ":443" for `https`) omitted.
bool sameAuthority(std::string_view authority, std::string_view host);

// Overwrite: "T" or "F" (absent means T). Anything else is Invalid.
enum class Overwrite : unsigned char { True, False, Invalid };
Overwrite parseOverwrite(std::string_view value);

// Depth: "0", "1", "infinity" (absent means infinity, RFC 4918 9.8.3, 9.9.2).
enum class Depth : unsigned char { Zero, One, Infinity, Invalid };
Depth parseDepth(std::string_view value);

}  // namespace manifold::fs
