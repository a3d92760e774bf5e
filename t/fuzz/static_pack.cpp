// libFuzzer target: the site pack reader (protocols/static/pack_format.hpp). Any bytes either
// fail parse() or give a view whose every entry and lookup stays inside the input. The input is
// also patched with a valid metadata hash half the time, so the fuzzer gets past the hash to the
// bounds checks behind it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "protocols/static/pack_format.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::pack;

namespace {

void exercise(const std::string& bytes) {
  View v;
  std::string why;
  if (!v.parse(bytes, bytes.size(), why)) {
    check(!why.empty());
    return;
  }
  const char* begin = bytes.data();
  const char* end = begin + bytes.size();
  auto inside = [&](std::string_view s) {
    return s.empty() || (s.data() >= begin && s.data() + s.size() <= end);
  };
  for (uint32_t i = 0; i < v.entryCount() && i < 4096; ++i) {
    Entry e = v.entry(i);
    check(inside(e.path) && inside(e.type));
    check(e.bodyOffset <= bytes.size() && e.bodyLength <= bytes.size() - e.bodyOffset);
    check(e.gzipOffset <= bytes.size() && e.gzipLength <= bytes.size() - e.gzipOffset);
    Entry found;
    if (v.find(e.path, found)) check(found.path == e.path);
  }
  Entry e;
  v.find("/", e);
  v.find("/index.html", e);
  v.verifyBodies(why);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  exercise(bytes);
  // The same with header fields made plausible and the hash recomputed: magic, version, size.
  if (bytes.size() >= kHeaderSize) {
    std::string patched = bytes;
    memcpy(patched.data(), kMagic.data(), kMagic.size());
    patched[8] = 1, patched[9] = patched[10] = patched[11] = 0;
    uint64_t n = patched.size();
    for (int i = 0; i < 8; ++i) patched[72 + i] = static_cast<char>(n >> (8 * i));
    uint64_t dataOffset = 0;
    for (int i = 7; i >= 0; --i)
      dataOffset = (dataOffset << 8) | static_cast<uint8_t>(patched[64 + i]);
    if (dataOffset >= kHeaderSize && dataOffset <= patched.size()) {
      memset(patched.data() + 96, 0, kHashSize);
      uint8_t hash[kHashSize];
      hashBytes(std::string_view(patched).substr(0, dataOffset), hash);
      memcpy(patched.data() + 96, hash, kHashSize);
      exercise(patched);
    }
  }
  return 0;
}
