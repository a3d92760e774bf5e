// A region of atomic 64-bit words behind a small header: per-key state that workers update
// lock-free with one CAS (the GCRA rate buckets of DNS RRL and TFTP), so a worker killed
// mid-update leaves nothing locked and nothing to repair.
//
// Layout (offsets from the region base):
//   +0   char[8]  magic, e.g. "MFDNSRL1": names the user and its word format
//   +8   u32      words
//   +12  u32      reserved
//   +16  u64[words], each one std::atomic<uint64_t>
//
// GCRA helpers: a bucket keeps its "theoretical arrival time" as CLOCK_MONOTONIC ns modulo 2^48
// (78 hours) in the low 48 bits of its word, leaving the top 16 bits to the user (tags, slip).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shm/region_header.hpp"

namespace manifold::shm {

struct WordRegionHeader {
  RegionMagic magic;
  uint32_t words;
  uint32_t reserved;
};
static_assert(sizeof(WordRegionHeader) == 16);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

inline constexpr size_t wordRegionBytes(uint32_t words) {
  return sizeof(WordRegionHeader) + static_cast<size_t>(words) * sizeof(uint64_t);
}
// Zeroes the words unless an adopted region already has this magic (8 chars) and word count.
void formatWordRegion(void* base, size_t bytes, bool adopted, const MagicText& magic,
                      uint32_t words);
inline std::atomic<uint64_t>* regionWords(void* base) {
  return reinterpret_cast<std::atomic<uint64_t>*>(static_cast<WordRegionHeader*>(base) + 1);
}

inline constexpr uint64_t kTime48Mask = (uint64_t{1} << 48) - 1;
// The signed difference a - b of two 48-bit times.
inline int64_t time48Diff(uint64_t a, uint64_t b) {
  uint64_t d = (a - b) & kTime48Mask;
  return d & (uint64_t{1} << 47) ? static_cast<int64_t>(d) - (int64_t{1} << 48)
                                 : static_cast<int64_t>(d);
}

}  // namespace manifold::shm
