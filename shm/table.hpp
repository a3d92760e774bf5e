// A hash table in shared memory, used by several worker processes at once: the HTTP file
// cache (xcache), tracker swarms, DNS health state. Keys are byte strings (<= 1 KiB),
// values byte blobs. Entries live in an Arena whose size is the table's byte budget;
// when it is full, put() evicts least-recently-used entries with a CLOCK sweep.
//
// Concurrency: buckets are guarded by striped, process-shared robust mutexes (bucket b
// belongs to stripe b % stripes). Lock order is stripe -> arena; nothing ever holds two
// stripes. Callbacks run under the stripe lock: keep them short (a memcpy), and never
// call back into the same table from them.
//
// Region layout (offsets from the table base):
//
//   0              Table header (this object), 128 bytes: magic "MFTABLE1", version,
//                  buckets, stripes, bytes, the offsets below, CLOCK hand, counters
//   bucketsOffset  uint64 heads[buckets]: arena offset of the first entry, 0 = empty
//   stripesOffset  Stripe[stripes], 64 bytes each: RobustMutex + entry count
//   arenaOffset    Arena (see shm/arena.hpp) holding the entries
//
// Entry (TableEntry, in one arena allocation):
//   +0  uint64 next     arena offset of the next entry in the chain, 0 ends it
//   +8  uint64 hash     hashKey(key)
//   +16 uint32 keyLen, +20 uint32 valueLen
//   +24 uint8  ref      CLOCK reference bit
//   +32 key bytes, zero-padded to 8; then value bytes (8-aligned)
//
// Crash guarantees (a process killed while holding a stripe lock):
//  - An entry is written completely while still private, then published by one 8-byte
//    store of the bucket head or of its predecessor's `next`; unlinking is one store too.
//    Chains are therefore always well formed; lookups never see a half-written entry.
//  - On EOWNERDEAD the stripe's chains are validated anyway (live arena block, sane
//    lengths, hash of the key matches, right bucket, no cycle); a chain is cut at the
//    first entry that fails, and the stripe's entry count is recomputed.
//  - Not guaranteed: a value being changed in place by update() when its writer died may
//    be half-modified; the block of an entry being inserted, replaced or erased at that
//    moment may leak (stays allocated, unreachable) until the region is re-created.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "shm/arena.hpp"
#include "shm/region_header.hpp"
#include "shm/robust_mutex.hpp"

namespace manifold::shm {

struct TableEntry {
  uint64_t next;
  uint64_t hash;
  uint32_t keyLen;
  uint32_t valueLen;
  uint8_t ref;
  uint8_t reserved[7];

  static constexpr size_t valueOffset(size_t keyLen) { return 32 + ((keyLen + 7) & ~size_t{7}); }
  const char* key() const { return reinterpret_cast<const char*>(this) + 32; }
  uint8_t* value() { return reinterpret_cast<uint8_t*>(this) + valueOffset(keyLen); }
  const uint8_t* value() const {
    return reinterpret_cast<const uint8_t*>(this) + valueOffset(keyLen);
  }
};
static_assert(sizeof(TableEntry) == 32);

class Table {
 public:
  static constexpr MagicText kMagic = "MFTABLE1";

  static constexpr size_t kMaxKey = 1024;
  enum class PutResult { Inserted, Replaced, Full, Exists };

  // Region bytes for an entry budget of dataBytes (the arena heap).
  static size_t bytesFor(size_t dataBytes, uint32_t buckets, uint32_t stripes);
  // Formats [mem, mem+bytes): the arena takes what the header, buckets and stripes leave.
  // Throws std::invalid_argument on a zero count or a region too small.
  static Table* format(void* mem, size_t bytes, uint32_t buckets, uint32_t stripes);
  // The table at mem if its header (and its arena's) is valid, else nullptr.
  static Table* at(void* mem);
  static const Table* at(const void* mem);

  // Calls fn(std::span<const uint8_t>) under the stripe lock; marks the entry used.
  template <class Fn>
  bool find(std::string_view key, Fn&& fn);
  // Calls fn(std::span<uint8_t>) under the stripe lock for in-place modification.
  template <class Fn>
  bool update(std::string_view key, Fn&& fn);
  // Inserts or replaces. When the arena is full and evictIfFull, evicts not-recently-used
  // entries until the new one fits. Full: the key is longer than kMaxKey, the entry is
  // larger than the whole budget, or there is no room and eviction is off or found nothing.
  PutResult put(std::string_view key, std::span<const uint8_t> value, bool evictIfFull = true);
  // As put(), but leaves an existing entry alone and returns Exists (a lock taken only once).
  PutResult insert(std::string_view key, std::span<const uint8_t> value, bool evictIfFull = true);
  bool erase(std::string_view key);
  // fn(std::string_view key, std::span<const uint8_t> value) for every entry, one stripe
  // locked at a time (so not a snapshot of the whole table).
  template <class Fn>
  void forEach(Fn&& fn) const;

  // Without locks, for a read-only mapping (bin/manifold-shm): fn(key, value) with copies of
  // each entry that validates (live block, sane lengths, key hash); chains are followed at most
  // as far as the arena has allocations. A concurrent writer may make it skip or repeat entries.
  template <class Fn>
  void peekEach(Fn&& fn) const;

  // Lock-free reads (relaxed), usable on a read-only mapping (bin/manifold-shm).
  size_t entries() const;
  size_t bytesUsed() const { return arena()->used(); }
  size_t capacity() const { return arena()->capacity(); }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }
  uint64_t droppedChains() const { return dropped_.load(std::memory_order_relaxed); }
  uint32_t bucketCount() const { return buckets_; }
  uint32_t stripeCount() const { return stripes_; }
  const Arena* arena() const;

  static uint64_t hashKey(std::string_view key);
  uint32_t stripeOf(std::string_view key) const;
  // The raw stripe mutex: for tests and for callers that must hold a stripe across calls.
  RobustMutex& stripeMutex(uint32_t stripe) { return stripeAt(stripe).mutex; }
  // Full validation of every chain, count and the arena (tests, debugging).
  bool verify(std::string* why = nullptr);

 private:
  struct alignas(64) Stripe {
    RobustMutex mutex;
    std::atomic<uint64_t> entries;
  };
  class StripeLock {
   public:
    StripeLock(Table& t, uint32_t s) : table_(t), stripe_(s) {
      if (t.stripeAt(s).mutex.lock()) t.repairStripe(s);
    }
    ~StripeLock() { table_.stripeAt(stripe_).mutex.unlock(); }
    StripeLock(const StripeLock&) = delete;
    StripeLock& operator=(const StripeLock&) = delete;

   private:
    Table& table_;
    uint32_t stripe_;
  };

  Table() = default;
  Arena* arena();
  Stripe& stripeAt(uint32_t s);
  uint64_t* heads();
  uint64_t bucketOf(uint64_t hash) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(hash) * buckets_) >> 64);
  }
  uint32_t stripeOfBucket(uint64_t bucket) const {
    return static_cast<uint32_t>(bucket % stripes_);
  }
  TableEntry* entry(uint64_t offset) { return static_cast<TableEntry*>(arena()->ptr(offset)); }
  // Caller holds the bucket's stripe. *pred (if asked) is the link that points at the entry.
  TableEntry* lookup(uint64_t bucket, uint64_t hash, std::string_view key, uint64_t** pred);
  bool validEntry(uint64_t offset, uint64_t bucket);
  void repairStripe(uint32_t s);
  bool evictSome();
  PutResult store(std::string_view key, std::span<const uint8_t> value, bool evictIfFull,
                  bool replace);

  RegionHeader header_;
  uint32_t buckets_;
  uint32_t stripes_;
  uint32_t reserved0_;
  uint64_t bytes_;
  uint64_t bucketsOffset_;
  uint64_t stripesOffset_;
  uint64_t arenaOffset_;
  std::atomic<uint64_t> clockHand_;
  std::atomic<uint64_t> evictions_;
  std::atomic<uint64_t> recoveries_;
  std::atomic<uint64_t> dropped_;
  uint64_t reserved_[5];
};
static_assert(sizeof(Table) == 128);

template <class Fn>
bool Table::find(std::string_view key, Fn&& fn) {
  if (key.size() > kMaxKey) return false;
  const uint64_t hash = hashKey(key), bucket = bucketOf(hash);
  StripeLock lock(*this, stripeOfBucket(bucket));
  TableEntry* e = lookup(bucket, hash, key, nullptr);
  if (!e) return false;
  if (!e->ref) e->ref = 1;  // no store when already set: keeps the line clean for others
  fn(std::span<const uint8_t>(e->value(), e->valueLen));
  return true;
}

template <class Fn>
bool Table::update(std::string_view key, Fn&& fn) {
  if (key.size() > kMaxKey) return false;
  const uint64_t hash = hashKey(key), bucket = bucketOf(hash);
  StripeLock lock(*this, stripeOfBucket(bucket));
  TableEntry* e = lookup(bucket, hash, key, nullptr);
  if (!e) return false;
  if (!e->ref) e->ref = 1;
  fn(std::span<uint8_t>(e->value(), e->valueLen));
  return true;
}

template <class Fn>
void Table::peekEach(Fn&& fn) const {
  Table& self = const_cast<Table&>(*this);  // validEntry and entry() only read
  const uint64_t maxChain = arena()->allocations() + 1;
  std::string copy;
  for (uint64_t b = 0; b < buckets_; ++b) {
    uint64_t steps = 0;
    for (uint64_t cur = __atomic_load_n(&self.heads()[b], __ATOMIC_ACQUIRE);
         cur && ++steps <= maxChain;) {
      if (!self.validEntry(cur, b)) break;
      const TableEntry* e = self.entry(cur);
      copy.assign(reinterpret_cast<const char*>(e),
                  TableEntry::valueOffset(e->keyLen) + e->valueLen);
      const auto* c = reinterpret_cast<const TableEntry*>(copy.data());
      fn(std::string_view(c->key(), c->keyLen), std::span<const uint8_t>(c->value(), c->valueLen));
      cur = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
    }
  }
}

template <class Fn>
void Table::forEach(Fn&& fn) const {
  Table& self = const_cast<Table&>(*this);  // locking writes the mutex, not the data
  for (uint32_t s = 0; s < stripes_; ++s) {
    StripeLock lock(self, s);
    for (uint64_t b = s; b < buckets_; b += stripes_)
      for (uint64_t cur = self.heads()[b]; cur;) {
        const TableEntry* e = self.entry(cur);
        fn(std::string_view(e->key(), e->keyLen),
           std::span<const uint8_t>(e->value(), e->valueLen));
        cur = e->next;
      }
  }
}

}  // namespace manifold::shm
