#include "protocols/tracker/swarm_store.hpp"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <numeric>
#include <stdexcept>

#include "protocols/tracker/connection_id.hpp"
#include "shm/region_header.hpp"

namespace manifold::tracker {

namespace {
constexpr shm::MagicText kMagic = "MFTRKSW1";
constexpr uint32_t kVersion = 2;  // 2: peer lists are hash tables; shard/slot by multiply-shift
constexpr size_t kShardHeaderBytes = 64;
constexpr uint32_t kMinCapacity = 2;  // peer table slots
constexpr double kMaxLoad = 0.875;    // beyond this a shard refuses new torrents

size_t alignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

// Shard from the hash's low half, home slot from its high half, each mapped onto [0, n) by a
// multiply and shift instead of a 64-bit division (which costs more than the rest of a lookup).
uint32_t scale(uint32_t half, uint32_t n) {
  return static_cast<uint32_t>((uint64_t{half} * n) >> 32);
}
uint32_t shardOf(uint64_t hash, uint32_t shards) {
  return scale(static_cast<uint32_t>(hash), shards);
}
uint32_t homeOf(uint64_t hash, uint32_t slots) {
  return scale(static_cast<uint32_t>(hash >> 32), slots);
}
}  // namespace

struct PeerList {
  uint32_t offset16;  // arena offset / 16; 0 = no array
  uint32_t count;
  uint32_t capacity;
};

struct TorrentSlot {
  uint8_t infoHash[20];
  // 0: empty. Else 1 + a time no peer of the torrent was last seen before (the cleaner sets it
  // to its oldest survivor; announces only add newer times): until that time plus peer_timeout
  // the cleaner has nothing to expire there and skips the peers. 1 = unknown.
  uint32_t live;
  uint32_t seeders, leechers, downloaded;
  uint32_t lastActive;
  PeerList lists[2];
};
static_assert(sizeof(TorrentSlot) == 64);

struct alignas(64) ShardHeader {
  shm::RobustMutex mutex;
  uint32_t torrents;
  uint32_t reserved;
};
static_assert(sizeof(ShardHeader) == kShardHeaderBytes);

struct StoreHeader {
  shm::RegionHeader header;  // magic, version
  uint32_t shards;
  uint32_t slotsPerShard;
  uint32_t reserved0;
  uint64_t bytes;
  uint64_t shardsOffset;
  uint64_t shardBytes;
  uint64_t arenaOffset;
  uint8_t secret[kConnectionKeyBytes];
  std::atomic<uint64_t> refusals;
  std::atomic<uint64_t> recoveries;
  uint8_t pad[256 - 88];
};
static_assert(sizeof(StoreHeader) == 256);

// --- geometry -------------------------------------------------------------------------------

static size_t shardBytesFor(uint32_t slots) { return kShardHeaderBytes + size_t{slots} * 64; }

size_t StoreGeometry::arenaBytes() const {
  const size_t used = sizeof(StoreHeader) + size_t{shards} * shardBytesFor(slotsPerShard);
  return bytes > used ? bytes - alignUp(used, 64) : 0;
}

StoreGeometry StoreGeometry::forBudget(size_t bytes, size_t maxTorrents, uint32_t shards) {
  StoreGeometry g;
  g.bytes = bytes;
  g.shards = std::max<uint32_t>(1, shards);
  const size_t perShard = (maxTorrents + g.shards - 1) / g.shards;
  g.slotsPerShard = static_cast<uint32_t>(std::max<size_t>(8, perShard / kMaxLoad + 1));
  return g;
}

std::string StoreGeometry::layout() const {
  return "tracker-swarms v" + std::to_string(kVersion) + " slot" +
         std::to_string(sizeof(TorrentSlot)) + " shards" + std::to_string(shards) + "x" +
         std::to_string(slotsPerShard);
}

// --- locking --------------------------------------------------------------------------------

class SwarmStore::ShardLock {
 public:
  ShardLock(SwarmStore& store, ShardHeader* s) : shard_(s) {
    if (s->mutex.lock()) store.repairShard(s);
  }
  ~ShardLock() { shard_->mutex.unlock(); }
  ShardLock(const ShardLock&) = delete;
  ShardLock& operator=(const ShardLock&) = delete;

 private:
  ShardHeader* shard_;
};

// --- region ---------------------------------------------------------------------------------

void SwarmStore::format(void* base, size_t bytes, const StoreGeometry& g) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  const size_t shardBytes = shardBytesFor(g.slotsPerShard);
  const size_t shardsOffset = sizeof(StoreHeader);
  const size_t arenaOffset = alignUp(shardsOffset + size_t{g.shards} * shardBytes, 64);
  if (arenaOffset + shm::Arena::bytesFor(64 * 1024) > bytes)
    throw std::invalid_argument("tracker: memory too small for the torrent table");
  std::memset(base, 0, arenaOffset);
  auto* h = new (base) StoreHeader();
  h->shards = g.shards;
  h->slotsPerShard = g.slotsPerShard;
  h->bytes = bytes;
  h->shardsOffset = shardsOffset;
  h->shardBytes = shardBytes;
  h->arenaOffset = arenaOffset;
  randombytes_buf(h->secret, sizeof h->secret);
  char* b = static_cast<char*>(base);
  for (uint32_t i = 0; i < g.shards; ++i) {
    auto* s = new (b + shardsOffset + i * shardBytes) ShardHeader();
    s->mutex.init();
  }
  shm::Arena::format(b + arenaOffset, bytes - arenaOffset);
  h->header.stamp(kMagic, kVersion);
}

SwarmStore::SwarmStore(void* base) {
  auto* h = static_cast<StoreHeader*>(base);
  if (!h || !h->header.matches(kMagic, kVersion)) return;
  base_ = static_cast<char*>(base);
  arena_ = shm::Arena::at(base_ + h->arenaOffset);
  if (!arena_) return;
  header_ = h;
  uint8_t seed[crypto_shorthash_BYTES];
  crypto_shorthash(seed, reinterpret_cast<const uint8_t*>("peer-table-seed"), 15, h->secret);
  std::memcpy(&peerSeed_, seed, 8);
}

const uint8_t* SwarmStore::secret() const { return header_->secret; }
uint64_t SwarmStore::refusals() const { return header_->refusals.load(std::memory_order_relaxed); }
uint64_t SwarmStore::recoveries() const {
  return header_->recoveries.load(std::memory_order_relaxed);
}

ShardHeader* SwarmStore::shard(uint32_t index) {
  return reinterpret_cast<ShardHeader*>(base_ + header_->shardsOffset +
                                        index * header_->shardBytes);
}

TorrentSlot* SwarmStore::slots(ShardHeader* s) {
  return reinterpret_cast<TorrentSlot*>(reinterpret_cast<char*>(s) + kShardHeaderBytes);
}

// Keyed, so nobody can aim a flood of info hashes at one shard.
uint64_t SwarmStore::hashOf(const uint8_t* infoHash) const {
  uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, infoHash, kInfoHashBytes, header_->secret);
  uint64_t h;
  std::memcpy(&h, out, 8);
  return h;
}

shm::RobustMutex& SwarmStore::shardMutexFor(const uint8_t* infoHash) {
  return shard(static_cast<uint32_t>(shardOf(hashOf(infoHash), header_->shards)))->mutex;
}

// --- probe table (caller holds the shard) ---------------------------------------------------

TorrentSlot* SwarmStore::findSlot(ShardHeader* s, uint64_t hash, const uint8_t* infoHash) {
  const uint32_t n = header_->slotsPerShard;
  TorrentSlot* t = slots(s);
  for (uint32_t i = homeOf(hash, n), step = 0; step < n; ++step, i = i + 1 == n ? 0 : i + 1) {
    if (!t[i].live) return nullptr;
    uint64_t a, b;  // cheap first look: info hashes differ in their first bytes
    std::memcpy(&a, t[i].infoHash, 8);
    std::memcpy(&b, infoHash, 8);
    if (a == b && std::memcmp(t[i].infoHash, infoHash, kInfoHashBytes) == 0) return &t[i];
  }
  return nullptr;
}

TorrentSlot* SwarmStore::insertSlot(ShardHeader* s, uint64_t hash, const uint8_t* infoHash) {
  const uint32_t n = header_->slotsPerShard;
  if (s->torrents + 1 > static_cast<uint32_t>(n * kMaxLoad)) return nullptr;
  TorrentSlot* t = slots(s);
  for (uint32_t i = homeOf(hash, n);; i = i + 1 == n ? 0 : i + 1) {
    if (t[i].live) continue;
    std::memset(&t[i], 0, sizeof(TorrentSlot));
    std::memcpy(t[i].infoHash, infoHash, kInfoHashBytes);
    t[i].live = 1;
    ++s->torrents;
    return &t[i];
  }
}

// Backward-shift deletion keeps every probe chain gap-free without tombstones.
void SwarmStore::eraseSlot(ShardHeader* s, TorrentSlot* victim) {
  const uint32_t n = header_->slotsPerShard;
  TorrentSlot* t = slots(s);
  uint32_t hole = static_cast<uint32_t>(victim - t);
  for (uint32_t j = hole + 1 == n ? 0 : hole + 1; t[j].live; j = j + 1 == n ? 0 : j + 1) {
    const uint32_t home = homeOf(hashOf(t[j].infoHash), n);
    // Move t[j] into the hole unless its home lies cyclically in (hole, j].
    const bool homeBetween = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (homeBetween) continue;
    t[hole] = t[j];
    hole = j;
  }
  std::memset(&t[hole], 0, sizeof(TorrentSlot));
  --s->torrents;
}

void SwarmStore::repairShard(ShardHeader* s) {
  header_->recoveries.fetch_add(1, std::memory_order_relaxed);
  const uint32_t n = header_->slotsPerShard;
  TorrentSlot* t = slots(s);
  std::vector<TorrentSlot> keep;
  std::vector<uint8_t> copy;
  for (uint32_t i = 0; i < n; ++i) {
    if (!t[i].live) continue;
    TorrentSlot slot = t[i];
    slot.live = 1;
    slot.seeders = slot.leechers = 0;
    for (int f = 0; f < 2; ++f) {
      PeerList& l = slot.lists[f];
      const size_t stride = kRecordBytes[f];
      const uint64_t off = uint64_t{l.offset16} * 16;
      const bool good = l.offset16 == 0
                            ? l.count == 0 && l.capacity == 0
                            : l.capacity && l.count <= l.capacity &&
                                  arena_->usableBytes(off) >= size_t{l.capacity} * stride;
      if (!good) {
        l = {};  // the block (if any) leaks: better than trusting it
        continue;
      }
      // Rebuilt from scratch: an interrupted insert or erase may have broken a probe run.
      auto* rec = static_cast<uint8_t*>(arena_->ptr(off));
      copy.assign(rec, rec + size_t{l.capacity} * stride);
      std::memset(rec, 0, copy.size());
      l.count = f == kV4
                    ? PeerTable<kV4>::rehash(copy.data(), l.capacity, rec, l.capacity, peerSeed_)
                    : PeerTable<kV6>::rehash(copy.data(), l.capacity, rec, l.capacity, peerSeed_);
      for (uint32_t k = 0; k < l.capacity; ++k) {
        const uint8_t* r = rec + size_t{k} * stride;
        if (r[kKeyBytes[f] - 2] | r[kKeyBytes[f] - 1])
          (r[kKeyBytes[f]] & kSeederFlag ? slot.seeders : slot.leechers)++;
      }
    }
    bool duplicate = false;
    for (auto& k : keep) duplicate |= std::memcmp(k.infoHash, slot.infoHash, kInfoHashBytes) == 0;
    if (!duplicate) keep.push_back(slot);
  }
  std::memset(t, 0, size_t{n} * sizeof(TorrentSlot));
  s->torrents = 0;
  for (auto& k : keep) {
    TorrentSlot* slot = insertSlot(s, hashOf(k.infoHash), k.infoHash);
    if (slot) *slot = k;
  }
}

// --- peer lists -----------------------------------------------------------------------------

// Moves list f into a new table of `capacity` slots (enough for its peers).
bool SwarmStore::resize(TorrentSlot& t, Family f, uint32_t capacity) {
  PeerList& l = t.lists[f];
  const size_t bytes = size_t{capacity} * kRecordBytes[f];
  const uint64_t off = arena_->allocate(bytes);
  if (!off) return false;
  auto* to = static_cast<uint8_t*>(arena_->ptr(off));
  std::memset(to, 0, bytes);
  if (l.offset16) {
    const auto* from = static_cast<const uint8_t*>(arena_->ptr(uint64_t{l.offset16} * 16));
    l.count = f == kV4 ? PeerTable<kV4>::rehash(from, l.capacity, to, capacity, peerSeed_)
                       : PeerTable<kV6>::rehash(from, l.capacity, to, capacity, peerSeed_);
    arena_->release(uint64_t{l.offset16} * 16);
  }
  l.offset16 = static_cast<uint32_t>(off / 16);
  l.capacity = capacity;
  return true;
}

void SwarmStore::releaseLists(TorrentSlot& t) {
  for (auto& l : t.lists) {
    if (l.offset16) arena_->release(uint64_t{l.offset16} * 16);
    l = {};
  }
}

// --- operations -----------------------------------------------------------------------------

namespace {

uint32_t lastSeenOf(const uint8_t* r, size_t keyBytes) {
  uint32_t v;
  std::memcpy(&v, r + keyBytes + 2, 4);
  return v;
}

// Every peer of a torrent, checking each list against the arena first (the inspection tool
// reads without the lock, so a list may be mid-change).
void appendPeers(const TorrentSlot& t, const shm::Arena& arena, uint32_t now,
                 std::vector<PeerInfo>& out) {
  for (int f = 0; f < 2; ++f) {
    const PeerList l = t.lists[f];
    const uint64_t off = uint64_t{l.offset16} * 16;
    if (!l.offset16 || l.count > l.capacity ||
        arena.usableBytes(off) < size_t{l.capacity} * kRecordBytes[f])
      continue;
    const auto* rec = static_cast<const uint8_t*>(arena.ptr(off));
    for (uint32_t k = 0; k < l.capacity; ++k) {
      const uint8_t* r = rec + size_t{k} * kRecordBytes[f];
      if ((r[kKeyBytes[f] - 2] | r[kKeyBytes[f] - 1]) == 0) continue;  // empty slot
      PeerInfo p{};
      p.family = static_cast<Family>(f);
      std::memcpy(p.key, r, kKeyBytes[f]);
      p.seeder = r[kKeyBytes[f]] & kSeederFlag;
      p.age = now - lastSeenOf(r, kKeyBytes[f]);
      out.push_back(p);
    }
  }
}

void setLastSeen(uint8_t* r, size_t keyBytes, uint32_t now) {
  std::memcpy(r + keyBytes + 2, &now, 4);
}

// The slot an answer starts at: any 64-bit number (even a small one) spread over the table.
uint32_t startSlot(uint64_t random, uint32_t capacity) {
  return scaleToSlots(static_cast<uint32_t>((random * 0x9e3779b97f4a7c15ull) >> 32), capacity);
}

// Up to in.numWant compact peers of a table of `capacity` slots, read in slot order from a
// random start (a random sample: see peer_table.hpp), skipping record `self` (the asking peer),
// expired peers and, for a seeder, other seeders. Branch-free: whether a slot is taken is as
// random as the table, so a branch on it would be mispredicted about every other slot; every
// key is copied and only the taken ones advance the output.
template <Family F>
uint32_t pickPeers(const uint8_t* rec, uint32_t capacity, uint32_t self, const AnnounceInput& in,
                   uint64_t random, uint8_t* peersOut) {
  using T = PeerTable<F>;
  const uint32_t oldest = in.now - in.peerTimeout;
  const uint8_t seederMask = in.seeder ? kSeederFlag : 0;
  uint32_t picked = 0;
  for (uint32_t k = 0, i = startSlot(random, capacity); k < capacity && picked < in.numWant;
       ++k, i = nextSlot(i, capacity)) {
    const uint8_t* r = rec + size_t{i} * T::kStride;
    const bool take = !T::empty(r) & (i != self) & !(r[T::kKey] & seederMask) &
                      (static_cast<int32_t>(lastSeenOf(r, T::kKey) - oldest) >= 0);
    std::memcpy(peersOut + size_t{picked} * T::kKey, r, T::kKey);
    picked += take;
  }
  return picked;
}

// Starts loading the line at p with a plain load whose value nobody waits for, rather than a
// prefetch instruction: a prefetch to a page missing from the TLB may be dropped (it is on the
// VMs measured here), whereas a load walks the page tables. The tables span far more pages
// than the TLB holds, so most lookups start with such a miss.
inline void warm(const void* p) { (void)*static_cast<const volatile char*>(p); }

// Starts loading the lines an answer of numWant peers starting at slot `start` will read: about
// numWant / load slots, sequential (a hardware prefetcher would only catch up halfway through).
void prefetchAnswer(const char* rec, uint32_t start, uint32_t capacity, uint32_t count,
                    uint32_t numWant, size_t stride) {
  if (!count) return;
  const size_t slots = std::min<size_t>(capacity - start, size_t{numWant} * capacity / count + 1);
  const char* from = rec + size_t{start} * stride;
  const char* end = from + std::min<size_t>(slots * stride, 2048);
  // One load per page brings its translation; then prefetches suffice for the lines.
  for (const char* p = from; p < end; p += 4096 - (reinterpret_cast<uintptr_t>(p) & 4095)) warm(p);
  for (const char* p = from; p < end; p += 64) __builtin_prefetch(p);
}

uint32_t findPeer(Family f, const uint8_t* rec, uint32_t capacity, uint64_t seed,
                  const uint8_t* key, bool& found) {
  return f == kV4 ? PeerTable<kV4>::find(rec, capacity, seed, key, found)
                  : PeerTable<kV6>::find(rec, capacity, seed, key, found);
}

void erasePeer(Family f, uint8_t* rec, uint32_t capacity, uint64_t seed, uint32_t at) {
  f == kV4 ? PeerTable<kV4>::erase(rec, capacity, seed, at)
           : PeerTable<kV6>::erase(rec, capacity, seed, at);
}

}  // namespace

AnnounceOutput SwarmStore::announce(const AnnounceInput& in, uint8_t* peersOut, uint64_t random) {
  AnnounceOutput out;
  const uint64_t hash = in.hash ? in.hash : hashOf(in.infoHash);
  ShardHeader* s = shard(shardOf(hash, header_->shards));
  const Family f = in.family;
  const size_t stride = kRecordBytes[f], keyBytes = kKeyBytes[f];
  ShardLock lock(*this, s);

  TorrentSlot* t = findSlot(s, hash, in.infoHash);
  if (!t) {
    if (in.event == Event::Stopped) return out;  // nothing to remove, nothing to create
    t = insertSlot(s, hash, in.infoHash);
    if (!t || !resize(*t, f, kMinCapacity)) {
      if (t) eraseSlot(s, t);
      header_->refusals.fetch_add(1, std::memory_order_relaxed);
      out.status = AnnounceStatus::Full;
      return out;
    }
  }
  t->lastActive = in.now;
  PeerList& l = t->lists[f];
  uint8_t* rec =
      l.offset16 ? static_cast<uint8_t*>(arena_->ptr(uint64_t{l.offset16} * 16)) : nullptr;
  // The answer's peers are read from a random slot on: start loading it now, so that miss
  // overlaps the one of finding the asking peer.
  if (rec)
    prefetchAnswer(reinterpret_cast<const char*>(rec), startSlot(random, l.capacity), l.capacity,
                   l.count, in.numWant, stride);
  bool found = false;
  uint32_t at = rec ? findPeer(f, rec, l.capacity, peerSeed_, in.peerKey, found) : 0;
  const bool wasSeeder = found && (rec[size_t{at} * stride + keyBytes] & kSeederFlag);

  if (in.event == Event::Stopped) {
    if (found) {
      (wasSeeder ? t->seeders : t->leechers)--;
      erasePeer(f, rec, l.capacity, peerSeed_, at);
      --l.count;
    }
    out.seeders = t->seeders;
    out.leechers = t->leechers;
    out.downloaded = t->downloaded;
    if (t->seeders + t->leechers == 0) {
      releaseLists(*t);
      if (t->downloaded == 0) eraseSlot(s, t);  // else kept for its count until the cleaner
    }
    return out;
  }

  if (in.event == Event::Completed && !wasSeeder) ++t->downloaded;
  if (!found) {
    if (!rec || l.count + 1 > peerTableLimit(l.capacity)) {
      if (!resize(*t, f, rec ? peerTableGrowth(l.capacity) : kMinCapacity)) {
        header_->refusals.fetch_add(1, std::memory_order_relaxed);
        out.status = AnnounceStatus::Full;
        return out;
      }
      rec = static_cast<uint8_t*>(arena_->ptr(uint64_t{l.offset16} * 16));
      at = findPeer(f, rec, l.capacity, peerSeed_, in.peerKey, found);
    }
    uint8_t* r = rec + size_t{at} * stride;
    std::memcpy(r, in.peerKey, keyBytes);
    r[keyBytes] = in.seeder ? kSeederFlag : 0;
    r[keyBytes + 1] = 0;
    setLastSeen(r, keyBytes, in.now);
    ++l.count;
    (in.seeder ? t->seeders : t->leechers)++;
  } else {
    uint8_t* r = rec + size_t{at} * stride;
    if (wasSeeder != in.seeder) {
      (wasSeeder ? t->seeders : t->leechers)--;
      (in.seeder ? t->seeders : t->leechers)++;
      r[keyBytes] = in.seeder ? kSeederFlag : 0;
    }
    setLastSeen(r, keyBytes, in.now);
  }
  out.seeders = t->seeders;
  out.leechers = t->leechers;
  out.downloaded = t->downloaded;

  if (in.numWant && l.count > 1)
    out.peers = f == kV4 ? pickPeers<kV4>(rec, l.capacity, at, in, random, peersOut)
                         : pickPeers<kV6>(rec, l.capacity, at, in, random, peersOut);
  return out;
}

void SwarmStore::prefetch(uint64_t hash) const {
  const char* s =
      base_ + header_->shardsOffset + shardOf(hash, header_->shards) * header_->shardBytes;
  __builtin_prefetch(s, 1);
  __builtin_prefetch(
      s + kShardHeaderBytes + size_t{homeOf(hash, header_->slotsPerShard)} * sizeof(TorrentSlot),
      1);
}

void SwarmStore::prefetchPeers(const uint8_t* infoHash, uint64_t hash, Family f,
                               const uint8_t* peerKey, uint64_t random) const {
  const char* s =
      base_ + header_->shardsOffset + shardOf(hash, header_->shards) * header_->shardBytes;
  const auto* t = reinterpret_cast<const TorrentSlot*>(s + kShardHeaderBytes);
  const uint32_t n = header_->slotsPerShard;
  uint64_t want;
  std::memcpy(&want, infoHash, 8);
  for (uint32_t i = homeOf(hash, n), step = 0; step < 4 && t[i].live;
       ++step, i = i + 1 == n ? 0 : i + 1) {
    uint64_t have;
    std::memcpy(&have, t[i].infoHash, 8);
    if (have != want) continue;
    const PeerList l = t[i].lists[f];
    const uint64_t off = uint64_t{l.offset16} * 16;
    const size_t stride = kRecordBytes[f];
    if (!l.offset16 || !l.capacity ||
        off + size_t{l.capacity} * stride > shm::Arena::headerBytes() + arena_->capacity())
      return;
    const char* rec = static_cast<const char*>(arena_->ptr(off));
    const uint32_t home = f == kV4 ? PeerTable<kV4>::home(peerKey, peerSeed_, l.capacity)
                                   : PeerTable<kV6>::home(peerKey, peerSeed_, l.capacity);
    __builtin_prefetch(rec + size_t{home} * stride, 1);
    prefetchAnswer(rec, startSlot(random, l.capacity), l.capacity, l.count, 50, stride);
    return;
  }
}

ScrapeCounts SwarmStore::scrape(const uint8_t* infoHash) {
  const uint64_t hash = hashOf(infoHash);
  ShardHeader* s = shard(shardOf(hash, header_->shards));
  ShardLock lock(*this, s);
  const TorrentSlot* t = findSlot(s, hash, infoHash);
  if (!t) return {};
  return {t->seeders, t->downloaded, t->leechers};
}

void SwarmStore::collect(std::vector<TorrentCounts>& out) {
  for (uint32_t si = 0; si < header_->shards; ++si) {
    ShardHeader* s = shard(si);
    ShardLock lock(*this, s);
    if (s->torrents == 0) continue;
    const TorrentSlot* t = slots(s);
    for (uint32_t i = 0; i < header_->slotsPerShard; ++i) {
      if (!t[i].live) continue;
      TorrentCounts c;
      std::memcpy(c.infoHash.data(), t[i].infoHash, kInfoHashBytes);
      c.counts = {t[i].seeders, t[i].downloaded, t[i].leechers};
      out.push_back(c);
    }
  }
}

bool SwarmStore::peek(const void* base, size_t bytes, const uint8_t* infoHash, uint32_t now,
                      ScrapeCounts& counts, std::vector<PeerInfo>& peers) {
  const auto* h = static_cast<const StoreHeader*>(base);
  if (bytes < sizeof(StoreHeader) || !h->header.matches(kMagic, kVersion) || h->shards == 0 ||
      h->slotsPerShard == 0 || h->shardBytes != shardBytesFor(h->slotsPerShard) ||
      h->shardsOffset + uint64_t{h->shards} * h->shardBytes > h->arenaOffset ||
      h->arenaOffset + shm::Arena::headerBytes() > bytes)
    return false;
  // Only reads follow: the handle's non-const members are never given a write to do.
  SwarmStore store(const_cast<void*>(base));
  if (!store.ok() || h->arenaOffset + shm::Arena::headerBytes() + store.arena_->capacity() > bytes)
    return false;
  const uint64_t hash = store.hashOf(infoHash);
  const TorrentSlot* t = store.findSlot(store.shard(shardOf(hash, h->shards)), hash, infoHash);
  if (!t) return false;
  counts = {t->seeders, t->downloaded, t->leechers};
  peers.clear();
  appendPeers(*t, *store.arena_, now, peers);
  return true;
}

std::vector<PeerInfo> SwarmStore::list(const uint8_t* infoHash, uint32_t now) {
  std::vector<PeerInfo> out;
  const uint64_t hash = hashOf(infoHash);
  ShardHeader* s = shard(shardOf(hash, header_->shards));
  ShardLock lock(*this, s);
  const TorrentSlot* t = findSlot(s, hash, infoHash);
  if (t) appendPeers(*t, *arena_, now, out);
  return out;
}

CleanTotals SwarmStore::clean(uint32_t now, uint32_t peerTimeout, uint32_t torrentTimeout) {
  CleanTotals totals;
  const uint32_t oldest = now - peerTimeout;
  const uint32_t roomy = static_cast<uint32_t>(header_->slotsPerShard * kMaxLoad / 2);
  for (uint32_t si = 0; si < header_->shards; ++si) {
    ShardHeader* s = shard(si);
    ShardLock lock(*this, s);
    if (s->torrents == 0) continue;
    TorrentSlot* t = slots(s);
    for (uint32_t i = 0; i < header_->slotsPerShard;) {
      TorrentSlot& slot = t[i];
      if (!slot.live) {
        ++i;
        continue;
      }
      if (slot.live > 1 && static_cast<int32_t>(slot.live - 1 - oldest) >= 0 &&
          slot.seeders + slot.leechers > 0) {  // nobody to expire: the counts stand
        ++totals.torrents;
        totals.seeders += slot.seeders;
        totals.leechers += slot.leechers;
        ++i;
        continue;
      }
      slot.seeders = slot.leechers = 0;
      uint32_t oldestKept = now;
      for (int f = 0; f < 2; ++f) {
        PeerList& l = slot.lists[f];
        if (!l.offset16) continue;
        const size_t stride = kRecordBytes[f], keyBytes = kKeyBytes[f];
        auto* rec = static_cast<uint8_t*>(arena_->ptr(uint64_t{l.offset16} * 16));
        // Expired peers leave by backward shift, which may move a later record into slot k
        // (looked at again) or a wrapped-around one already looked at (kept either way).
        for (uint32_t k = 0; k < l.capacity;) {
          const uint8_t* r = rec + size_t{k} * stride;
          if (!(r[keyBytes - 2] | r[keyBytes - 1]) ||
              static_cast<int32_t>(lastSeenOf(r, keyBytes) - oldest) >= 0) {
            ++k;
            continue;
          }
          erasePeer(static_cast<Family>(f), rec, l.capacity, peerSeed_, k);
          ++totals.removedPeers;
        }
        uint32_t kept = 0;
        for (uint32_t k = 0; k < l.capacity; ++k) {
          const uint8_t* r = rec + size_t{k} * stride;
          if (!(r[keyBytes - 2] | r[keyBytes - 1])) continue;
          (r[keyBytes] & kSeederFlag ? slot.seeders : slot.leechers)++;
          oldestKept = std::min(oldestKept, lastSeenOf(r, keyBytes));
          ++kept;
        }
        l.count = kept;
        if (kept == 0) {
          arena_->release(uint64_t{l.offset16} * 16);
          l = {};
        } else if (l.capacity > 16 && kept < l.capacity / 4) {
          resize(slot, static_cast<Family>(f), l.capacity / 2);  // on failure it stays as it is
        }
      }
      slot.live = oldestKept + 1 ? oldestKept + 1 : 1;
      // An empty torrent keeps its completed count (scrapes still show it) for torrentTimeout
      // after its last announce, while its shard has room.
      const bool keep =
          slot.downloaded > 0 && now - slot.lastActive < torrentTimeout && s->torrents <= roomy;
      if (slot.seeders + slot.leechers == 0 && !keep) {
        releaseLists(slot);
        eraseSlot(s, &slot);
        ++totals.removedTorrents;
        continue;  // backward shift may have moved another torrent into slot i
      }
      ++totals.torrents;
      totals.seeders += slot.seeders;
      totals.leechers += slot.leechers;
      ++i;
    }
  }
  totals.peers = totals.seeders + totals.leechers;
  return totals;
}

}  // namespace manifold::tracker
