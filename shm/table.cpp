#include "shm/table.hpp"

#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>

namespace manifold::shm {

namespace {

constexpr uint32_t kVersion = 1;

size_t alignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

struct Layout {
  size_t buckets, stripes, arena;
};

Layout layoutOf(uint32_t buckets, uint32_t stripes) {
  Layout l{};
  l.buckets = alignUp(sizeof(Table), 64);
  l.stripes = alignUp(l.buckets + size_t{buckets} * sizeof(uint64_t), 64);
  l.arena = alignUp(l.stripes + size_t{stripes} * 64, 64);
  return l;
}

}  // namespace

// MurmurHash64A (Austin Appleby, public domain): fast on long keys, well mixed high bits
// (bucketOf uses the high bits). Deterministic across processes of any build.
uint64_t Table::hashKey(std::string_view key) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ull;
  constexpr int r = 47;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const size_t len = key.size();
  uint64_t h = 0x6d616e69666f6c64ull ^ (len * m);
  for (size_t i = 0; i + 8 <= len; i += 8) {
    uint64_t k;
    std::memcpy(&k, data + i, 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const unsigned char* tail = data + (len & ~size_t{7});
  switch (len & 7) {
    case 7:
      h ^= uint64_t{tail[6]} << 48;
      [[fallthrough]];
    case 6:
      h ^= uint64_t{tail[5]} << 40;
      [[fallthrough]];
    case 5:
      h ^= uint64_t{tail[4]} << 32;
      [[fallthrough]];
    case 4:
      h ^= uint64_t{tail[3]} << 24;
      [[fallthrough]];
    case 3:
      h ^= uint64_t{tail[2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint64_t{tail[1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint64_t{tail[0]};
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

size_t Table::bytesFor(size_t dataBytes, uint32_t buckets, uint32_t stripes) {
  return layoutOf(buckets, stripes).arena + Arena::bytesFor(dataBytes);
}

Table* Table::format(void* mem, size_t bytes, uint32_t buckets, uint32_t stripes) {
  static_assert(sizeof(Stripe) == 64);
  if (buckets == 0 || stripes == 0)
    throw std::invalid_argument("table: buckets and stripes must be at least 1");
  const Layout l = layoutOf(buckets, stripes);
  if (bytes < bytesFor(256, buckets, stripes))
    throw std::invalid_argument("table: region of " + std::to_string(bytes) +
                                " bytes is too small (" + std::to_string(buckets) + " buckets, " +
                                std::to_string(stripes) + " stripes)");
  std::memset(mem, 0, l.arena);
  auto* t = new (mem) Table();
  t->buckets_ = buckets;
  t->stripes_ = stripes;
  t->bytes_ = bytes;
  t->bucketsOffset_ = l.buckets;
  t->stripesOffset_ = l.stripes;
  t->arenaOffset_ = l.arena;
  for (uint32_t s = 0; s < stripes; ++s) {
    Stripe* st = new (&t->stripeAt(s)) Stripe();
    st->mutex.init();
  }
  Arena::format(static_cast<char*>(mem) + l.arena, bytes - l.arena);
  t->header_.stamp(kMagic, kVersion);
  return t;
}

const Table* Table::at(const void* mem) {
  if (!mem) return nullptr;
  const auto* t = std::launder(static_cast<const Table*>(mem));
  if (!t->header_.matches(kMagic, kVersion)) return nullptr;
  if (t->buckets_ == 0 || t->stripes_ == 0) return nullptr;
  const Layout l = layoutOf(t->buckets_, t->stripes_);
  if (t->bucketsOffset_ != l.buckets || t->stripesOffset_ != l.stripes ||
      t->arenaOffset_ != l.arena || t->arenaOffset_ >= t->bytes_)
    return nullptr;
  return Arena::at(static_cast<const char*>(mem) + t->arenaOffset_) ? t : nullptr;
}

Table* Table::at(void* mem) { return const_cast<Table*>(at(static_cast<const void*>(mem))); }

const Arena* Table::arena() const {
  return std::launder(
      reinterpret_cast<const Arena*>(reinterpret_cast<const char*>(this) + arenaOffset_));
}

Arena* Table::arena() { return const_cast<Arena*>(static_cast<const Table*>(this)->arena()); }

Table::Stripe& Table::stripeAt(uint32_t s) {
  return reinterpret_cast<Stripe*>(reinterpret_cast<char*>(this) + stripesOffset_)[s];
}

uint64_t* Table::heads() {
  return reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(this) + bucketsOffset_);
}

uint32_t Table::stripeOf(std::string_view key) const {
  return stripeOfBucket(bucketOf(hashKey(key)));
}

size_t Table::entries() const {
  const auto* stripes =
      reinterpret_cast<const Stripe*>(reinterpret_cast<const char*>(this) + stripesOffset_);
  uint64_t n = 0;
  for (uint32_t s = 0; s < stripes_; ++s) n += stripes[s].entries.load(std::memory_order_relaxed);
  return n;
}

TableEntry* Table::lookup(uint64_t bucket, uint64_t hash, std::string_view key, uint64_t** pred) {
  uint64_t* link = &heads()[bucket];
  for (uint64_t cur = *link; cur; cur = *link) {
    TableEntry* e = entry(cur);
    if (e->hash == hash && e->keyLen == key.size() &&
        std::memcmp(e->key(), key.data(), key.size()) == 0) {
      if (pred) *pred = link;
      return e;
    }
    link = &e->next;
  }
  return nullptr;
}

Table::PutResult Table::put(std::string_view key, std::span<const uint8_t> value,
                            bool evictIfFull) {
  return store(key, value, evictIfFull, true);
}

Table::PutResult Table::insert(std::string_view key, std::span<const uint8_t> value,
                               bool evictIfFull) {
  return store(key, value, evictIfFull, false);
}

Table::PutResult Table::store(std::string_view key, std::span<const uint8_t> value,
                              bool evictIfFull, bool replace) {
  Arena* a = arena();
  if (key.size() > kMaxKey || value.size() > a->maxAllocation() || value.size() > UINT32_MAX)
    return PutResult::Full;
  const size_t need = TableEntry::valueOffset(key.size()) + value.size();
  if (need > a->maxAllocation()) return PutResult::Full;
  uint64_t off = a->allocate(need);
  while (!off) {
    if (!evictIfFull || !evictSome()) return PutResult::Full;
    off = a->allocate(need);
  }
  // Fill the entry while it is still private to us.
  const uint64_t hash = hashKey(key), bucket = bucketOf(hash);
  TableEntry* e = entry(off);
  std::memset(e, 0, TableEntry::valueOffset(key.size()));
  e->hash = hash;
  e->keyLen = static_cast<uint32_t>(key.size());
  e->valueLen = static_cast<uint32_t>(value.size());
  e->ref = 1;
  std::memcpy(const_cast<char*>(e->key()), key.data(), key.size());
  if (!value.empty()) std::memcpy(e->value(), value.data(), value.size());

  uint64_t old = 0;
  bool exists = false;
  {
    const uint32_t s = stripeOfBucket(bucket);
    StripeLock lock(*this, s);
    uint64_t* link = nullptr;
    if (TableEntry* cur = lookup(bucket, hash, key, &link)) {
      if (!replace) {
        exists = true;
      } else {
        old = *link;
        e->next = cur->next;
        __atomic_store_n(link, off, __ATOMIC_RELEASE);  // publish: one store
      }
    } else {
      e->next = heads()[bucket];
      __atomic_store_n(&heads()[bucket], off, __ATOMIC_RELEASE);
      stripeAt(s).entries.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (exists) {
    a->release(off);
    return PutResult::Exists;
  }
  if (old) a->release(old);
  return old ? PutResult::Replaced : PutResult::Inserted;
}

bool Table::erase(std::string_view key) {
  if (key.size() > kMaxKey) return false;
  const uint64_t hash = hashKey(key), bucket = bucketOf(hash);
  uint64_t victim = 0;
  {
    const uint32_t s = stripeOfBucket(bucket);
    StripeLock lock(*this, s);
    uint64_t* link = nullptr;
    TableEntry* e = lookup(bucket, hash, key, &link);
    if (!e) return false;
    victim = *link;
    __atomic_store_n(link, e->next, __ATOMIC_RELEASE);
    stripeAt(s).entries.fetch_sub(1, std::memory_order_relaxed);
  }
  arena()->release(victim);
  return true;
}

// CLOCK over buckets: the shared hand visits one bucket at a time, clearing reference
// bits and evicting entries whose bit was already clear. Returns false after two full
// turns found nothing to evict (the table is empty).
bool Table::evictSome() {
  const uint64_t turns = 2 * uint64_t{buckets_} + 1;
  for (uint64_t i = 0; i < turns; ++i) {
    const uint64_t b = clockHand_.fetch_add(1, std::memory_order_relaxed) % buckets_;
    if (!__atomic_load_n(&heads()[b], __ATOMIC_RELAXED)) continue;
    uint64_t evicted = 0;
    {
      const uint32_t s = stripeOfBucket(b);
      StripeLock lock(*this, s);
      uint64_t* link = &heads()[b];
      for (uint64_t cur = *link; cur;) {
        TableEntry* e = entry(cur);
        const uint64_t next = e->next;
        if (e->ref) {
          e->ref = 0;
          link = &e->next;
        } else {
          __atomic_store_n(link, next, __ATOMIC_RELEASE);
          stripeAt(s).entries.fetch_sub(1, std::memory_order_relaxed);
          arena()->release(cur);  // stripe -> arena: the one allowed nesting
          ++evicted;
        }
        cur = next;
      }
    }
    if (evicted) {
      evictions_.fetch_add(evicted, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

bool Table::validEntry(uint64_t offset, uint64_t bucket) {
  const size_t usable = arena()->usableBytes(offset);
  if (usable < sizeof(TableEntry)) return false;
  const TableEntry* e = entry(offset);
  if (e->keyLen > kMaxKey || TableEntry::valueOffset(e->keyLen) + e->valueLen > usable)
    return false;
  return hashKey(std::string_view(e->key(), e->keyLen)) == e->hash && bucketOf(e->hash) == bucket;
}

// The previous owner died holding stripe s. Chains should be intact (single-store
// publication); check them anyway and cut each at its first invalid link.
void Table::repairStripe(uint32_t s) {
  recoveries_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t maxChain = arena()->allocations() + 1;  // more steps means a cycle
  uint64_t count = 0;
  for (uint64_t b = s; b < buckets_; b += stripes_) {
    uint64_t* link = &heads()[b];
    uint64_t steps = 0;
    for (uint64_t cur = *link; cur; cur = *link) {
      if (++steps > maxChain || !validEntry(cur, b)) {
        __atomic_store_n(link, uint64_t{0}, __ATOMIC_RELEASE);
        dropped_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      ++count;
      link = &entry(cur)->next;
    }
  }
  stripeAt(s).entries.store(count, std::memory_order_relaxed);
}

bool Table::verify(std::string* why) {
  auto fail = [why](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  for (uint32_t s = 0; s < stripes_; ++s) {
    StripeLock lock(*this, s);
    const uint64_t maxChain = arena()->allocations() + 1;
    uint64_t count = 0;
    for (uint64_t b = s; b < buckets_; b += stripes_) {
      uint64_t steps = 0;
      for (uint64_t cur = heads()[b]; cur; cur = entry(cur)->next) {
        if (++steps > maxChain) return fail("cycle in bucket " + std::to_string(b));
        if (!validEntry(cur, b))
          return fail("invalid entry at " + std::to_string(cur) + " in bucket " +
                      std::to_string(b));
        ++count;
      }
    }
    if (count != stripeAt(s).entries.load())
      return fail("stripe " + std::to_string(s) + " counts " +
                  std::to_string(stripeAt(s).entries.load()) + " entries, chains hold " +
                  std::to_string(count));
  }
  return arena()->check(why);
}

}  // namespace manifold::shm
