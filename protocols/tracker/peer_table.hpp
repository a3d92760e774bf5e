// One swarm's peers of one address family: an open-addressing hash table (linear probing,
// backward-shift deletion) of fixed-size records stored in place. Capacities grow by half
// (not doubling) and the home slot is a multiply-shift of the hash, so a table is on average
// about 72% full: memory per peer stays what sorted arrays grown by doubling cost.
//
// Record: key = address (4 or 16 bytes) + big-endian port (2 bytes), which is also the peer's
// compact form; then u8 flags (bit 0 seeder), u8 0, u32 lastSeen: 12 bytes (IPv4) or 24 (IPv6).
// A slot whose port is 0 is empty (port 0 is never stored), so zeroed memory is an empty table.
//
// Why a hash table rather than a sorted array: on a large swarm a binary search is a chain of
// dependent cache misses and every new peer moves half the array; here finding or adding a
// peer touches one or two adjacent lines. And since positions follow a keyed hash, a run of
// consecutive slots is a random sample of the swarm: an answer's peers are read sequentially
// from a random start instead of one cache miss each. The hash is keyed per region, so clients
// cannot choose ports or addresses that pile up in one probe run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace manifold::tracker {

enum Family : uint8_t { kV4 = 0, kV6 = 1 };
inline constexpr size_t kKeyBytes[2] = {6, 18};
inline constexpr size_t kRecordBytes[2] = {12, 24};
inline constexpr uint8_t kSeederFlag = 1;

// Most peers a table of `capacity` slots holds: all of a small one (probes stay within a few
// lines anyway), 7/8 of a larger one so probe runs stay short.
inline uint32_t peerTableLimit(uint32_t capacity) {
  return capacity <= 8 ? capacity : capacity - capacity / 8;
}
// The next capacity when a table is at its limit: doubled while small, then half as large again.
inline uint32_t peerTableGrowth(uint32_t capacity) {
  return capacity < 8 ? capacity * 2 : capacity + capacity / 2;
}
// A slot of [0, n) from 32 random bits.
inline uint32_t scaleToSlots(uint32_t x, uint32_t n) {
  return static_cast<uint32_t>((uint64_t{x} * n) >> 32);
}
inline uint32_t nextSlot(uint32_t i, uint32_t n) { return i + 1 == n ? 0 : i + 1; }

template <Family F>
struct PeerTable {
  static constexpr size_t kStride = kRecordBytes[F], kKey = kKeyBytes[F];

  static uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static bool empty(const uint8_t* r) { return (r[kKey - 2] | r[kKey - 1]) == 0; }
  // Whole 8-byte loads at a record's start stay inside its 12/24-byte record (and inside the
  // caller's 18-byte key buffer).
  static bool same(const uint8_t* a, const uint8_t* b) {
    if constexpr (F == kV4) {
      return ((load64(a) ^ load64(b)) & 0xffffffffffffull) == 0;
    } else {
      return load64(a) == load64(b) && load64(a + 8) == load64(b + 8) && a[16] == b[16] &&
             a[17] == b[17];
    }
  }
  static uint32_t home(const uint8_t* key, uint64_t seed, uint32_t capacity) {
    uint64_t x;
    if constexpr (F == kV4)
      x = (load64(key) & 0xffffffffffffull) ^ seed;
    else
      x = (load64(key) ^ seed) * 0x9e3779b97f4a7c15ull ^ load64(key + 8) ^
          (uint64_t{key[16]} << 8 | key[17]);
    x ^= x >> 33;  // murmur3's finaliser: every key bit reaches the low bits used as the index
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return scaleToSlots(static_cast<uint32_t>(x), capacity);
  }
  // Index of `key`, or of the empty slot where it belongs (found = false), or `capacity` when
  // the table is full and holds no such key.
  static uint32_t find(const uint8_t* rec, uint32_t capacity, uint64_t seed, const uint8_t* key,
                       bool& found) {
    uint32_t i = home(key, seed, capacity);
    for (uint32_t step = 0; step < capacity; ++step, i = nextSlot(i, capacity)) {
      const uint8_t* r = rec + size_t{i} * kStride;
      if (empty(r)) break;
      if (same(r, key)) {
        found = true;
        return i;
      }
    }
    found = false;
    return empty(rec + size_t{i} * kStride) ? i : capacity;
  }
  // Empties slot `hole`, moving later records of its probe run back so no run has a gap.
  static void erase(uint8_t* rec, uint32_t capacity, uint64_t seed, uint32_t hole) {
    for (uint32_t j = nextSlot(hole, capacity); j != hole; j = nextSlot(j, capacity)) {
      uint8_t* r = rec + size_t{j} * kStride;
      if (empty(r)) break;
      const uint32_t h = home(r, seed, capacity);
      // r stays unless its home lies cyclically outside (hole, j].
      const bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (stays) continue;
      std::memcpy(rec + size_t{hole} * kStride, r, kStride);
      hole = j;
    }
    std::memset(rec + size_t{hole} * kStride, 0, kStride);
  }
  // Copies every record of `from` (fromCapacity slots) into the empty table `to`; duplicates
  // (only after a crash) are dropped. Returns the records placed.
  static uint32_t rehash(const uint8_t* from, uint32_t fromCapacity, uint8_t* to,
                         uint32_t toCapacity, uint64_t seed) {
    uint32_t placed = 0;
    for (uint32_t k = 0; k < fromCapacity; ++k) {
      const uint8_t* r = from + size_t{k} * kStride;
      if (empty(r)) continue;
      bool found;
      const uint32_t at = find(to, toCapacity, seed, r, found);
      if (found || at == toCapacity) continue;
      std::memcpy(to + size_t{at} * kStride, r, kStride);
      ++placed;
    }
    return placed;
  }
};

}  // namespace manifold::tracker
