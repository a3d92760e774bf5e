// The start of every structure kept in shared memory: 8 magic bytes naming what it is, and for
// the shm building blocks a 32-bit layout version after them. One helper writes and checks them
// so no region does it by hand.
//
//   +0  char[8]  magic, e.g. "MFSTATS1" (no terminating NUL stored)
//   +8  uint32   version (RegionHeader only)
//
// Writers stamp last: stamp() issues a release fence before the magic, so a reader that sees
// the magic also sees everything formatted before it. A layout change bumps the version (or
// the magic) and the region's layout key, so old regions are re-created rather than adopted.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace manifold::shm {

// A magic is written in code as its 8 characters: "MFSTATS1".
using MagicText = char[9];

struct RegionMagic {
  char bytes[8];

  void stamp(const MagicText& magic) {
    __atomic_thread_fence(__ATOMIC_RELEASE);
    std::memcpy(bytes, magic, sizeof bytes);
  }
  bool is(const MagicText& magic) const { return std::memcmp(bytes, magic, sizeof bytes) == 0; }
};
static_assert(sizeof(RegionMagic) == 8);

struct RegionHeader {
  RegionMagic magic;
  uint32_t version;

  // Version first, magic last (see above).
  void stamp(const MagicText& m, uint32_t v) {
    version = v;
    magic.stamp(m);
  }
  bool matches(const MagicText& m, uint32_t v) const { return magic.is(m) && version == v; }
};
static_assert(sizeof(RegionHeader) == 12 && alignof(RegionHeader) == 4);

// For readers that recognise a region by what it holds: whether the (at least 8 readable)
// bytes at `base` begin with `magic`.
inline bool startsWithMagic(const void* base, const MagicText& magic) {
  return std::memcmp(base, magic, sizeof(RegionMagic::bytes)) == 0;
}

// A region of fixed layout sized by one count field (a protocol's small table): an adopted
// region with the same magic and count is kept as it is; anything else is zeroed, the count
// written, and the magic stamped last.
template <class Region, class Count>
void formatFixedRegion(void* base, bool adopted, const MagicText& magic, Count Region::*count,
                       std::type_identity_t<Count> value) {
  auto* r = static_cast<Region*>(base);
  if (adopted && r->magic.is(magic) && r->*count == value) return;
  std::memset(static_cast<void*>(r), 0, sizeof *r);
  r->*count = value;
  r->magic.stamp(magic);
}

}  // namespace manifold::shm
