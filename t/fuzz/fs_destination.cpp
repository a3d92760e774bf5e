// libFuzzer target: the COPY and MOVE headers (Destination, Overwrite, Depth) and the authority
// check. Whatever the bytes: no crash; an accepted Destination's path is a view inside the input
// that starts with '/' and holds no space, control byte, '?' or dot segment, and its authority
// is a view inside the input too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/fs/destination.hpp"
#include "t/fuzz/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace manifold::fs;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto inside = [&](std::string_view v) {
    return v.empty() || (v.data() >= in.data() && v.data() + v.size() <= in.data() + size);
  };
  Destination d;
  if (parseDestination(in, d)) {
    check(!d.path.empty() && d.path[0] == '/');
    check(inside(d.authority));
    check(inside(d.path) || d.path == "/");
    for (char c : d.path) check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '?');
    check(d.path.find("/../") == std::string_view::npos && !d.path.ends_with("/.."));
    check(d.path.find("/./") == std::string_view::npos && !d.path.ends_with("/."));
    check(sameAuthority(d.authority, d.authority) == !d.authority.empty());
  }
  size_t half = size / 2;
  sameAuthority(in.substr(0, half), in.substr(half));
  parseOverwrite(in);
  parseDepth(in);
  return 0;
}
