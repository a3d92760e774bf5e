#include "protocols/tracker/ws_swarm.hpp"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>

#include "protocols/tracker/random_walk.hpp"
#include "shm/region_header.hpp"
#include "shm/robust_mutex.hpp"

namespace manifold::tracker {

namespace {
constexpr shm::MagicText kMagic = "MFTRKWS1";
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kShardHeaderBytes = 64;
constexpr size_t kSwarmHeaderBytes = 48;
constexpr double kMaxLoad = 0.875;
}  // namespace

struct WsPeer {
  uint8_t peerId[20];
  uint32_t reserved0;
  uint64_t token;
  uint16_t slot;
  uint8_t seeder;
  uint8_t reserved1;
  uint32_t lastSeen;
};
static_assert(sizeof(WsPeer) == 40);

struct WsSwarm {
  uint8_t infoHash[20];
  uint32_t live;
  uint32_t count;
  uint32_t seeders;
  uint32_t downloaded;
  uint32_t lastActive;
  uint8_t pad[kSwarmHeaderBytes - 40];
  WsPeer* peers() { return reinterpret_cast<WsPeer*>(reinterpret_cast<char*>(this) + 48); }
};
static_assert(sizeof(WsSwarm) == kSwarmHeaderBytes);

struct alignas(64) WsShard {
  shm::RobustMutex mutex;
  uint32_t swarms;
  uint32_t reserved;
};
static_assert(sizeof(WsShard) == kShardHeaderBytes);

struct WsStoreHeader {
  shm::RegionHeader header;
  uint32_t shards;
  uint32_t slotsPerShard;
  uint32_t peersPerSwarm;
  uint32_t swarmBytes;
  uint32_t reserved;
  uint8_t key[16];
  std::atomic<uint64_t> recoveries;
  uint64_t shardBytes;
};
static_assert(sizeof(WsStoreHeader) <= kHeaderBytes);

size_t WsGeometry::swarmBytes() const { return kSwarmHeaderBytes + size_t{peersPerSwarm} * 40; }

WsGeometry WsGeometry::forBudget(size_t bytes, uint32_t peersPerSwarm, uint32_t shards) {
  WsGeometry g;
  g.bytes = bytes;
  g.shards = std::max<uint32_t>(1, shards);
  g.peersPerSwarm = std::max<uint32_t>(2, peersPerSwarm);
  const size_t perShard = bytes > kHeaderBytes ? (bytes - kHeaderBytes) / g.shards : 0;
  g.slotsPerShard = perShard > kShardHeaderBytes
                        ? static_cast<uint32_t>((perShard - kShardHeaderBytes) / g.swarmBytes())
                        : 0;
  return g;
}

std::string WsGeometry::layout() const {
  return "tracker-ws-v1 shards=" + std::to_string(shards) +
         " slots=" + std::to_string(slotsPerShard) + " peers=" + std::to_string(peersPerSwarm) +
         " bytes=" + std::to_string(bytes) + " peer=" + std::to_string(sizeof(WsPeer));
}

void WsSwarmStore::format(void* base, size_t bytes, const WsGeometry& g) {
  if (g.slotsPerShard < 2 || bytes < g.bytes)
    throw std::invalid_argument("ws swarm region too small for its shards");
  std::memset(base, 0, kHeaderBytes);
  auto* h = new (base) WsStoreHeader();
  h->shards = g.shards;
  h->slotsPerShard = g.slotsPerShard;
  h->peersPerSwarm = g.peersPerSwarm;
  h->swarmBytes = static_cast<uint32_t>(g.swarmBytes());
  h->shardBytes = kShardHeaderBytes + size_t{g.slotsPerShard} * g.swarmBytes();
  randombytes_buf(h->key, sizeof h->key);
  h->recoveries = 0;
  for (uint32_t i = 0; i < g.shards; ++i) {
    char* s = static_cast<char*>(base) + kHeaderBytes + i * h->shardBytes;
    std::memset(s, 0, h->shardBytes);
    auto* shard = new (s) WsShard();
    shard->mutex.init();
  }
  h->header.stamp(kMagic, kVersion);
}

WsSwarmStore::WsSwarmStore(void* base) {
  auto* h = static_cast<WsStoreHeader*>(base);
  if (!base || !h->header.matches(kMagic, kVersion)) return;
  header_ = h;
  base_ = static_cast<char*>(base);
}

uint64_t WsSwarmStore::recoveries() const { return header_->recoveries.load(); }

WsShard* WsSwarmStore::shard(uint32_t i) {
  return reinterpret_cast<WsShard*>(base_ + kHeaderBytes + i * header_->shardBytes);
}

WsSwarm* WsSwarmStore::slot(WsShard* s, uint32_t i) {
  return reinterpret_cast<WsSwarm*>(reinterpret_cast<char*>(s) + kShardHeaderBytes +
                                    size_t{i} * header_->swarmBytes);
}

uint64_t WsSwarmStore::hashOf(const uint8_t* infoHash) const {
  uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, infoHash, 20, header_->key);
  uint64_t v;
  std::memcpy(&v, out, 8);
  return v;
}

// Holds a shard; a dead previous owner means the shard may be half-changed: empty it.
class WsSwarmStore::Lock {
 public:
  Lock(WsSwarmStore& store, WsShard* s) : s_(s) {
    if (s->mutex.lock()) {
      for (uint32_t i = 0; i < store.header_->slotsPerShard; ++i) store.slot(s, i)->live = 0;
      s->swarms = 0;
      store.header_->recoveries.fetch_add(1);
    }
  }
  ~Lock() { s_->mutex.unlock(); }

 private:
  WsShard* s_;
};

WsSwarm* WsSwarmStore::findSwarm(WsShard* s, uint64_t hash, const uint8_t* infoHash) {
  const uint32_t n = header_->slotsPerShard;
  uint32_t i = static_cast<uint32_t>((hash >> 32) % n);
  for (uint32_t k = 0; k < n; ++k) {
    WsSwarm* w = slot(s, i);
    if (!w->live) return nullptr;
    if (std::memcmp(w->infoHash, infoHash, 20) == 0) return w;
    if (++i == n) i = 0;
  }
  return nullptr;
}

WsSwarm* WsSwarmStore::insertSwarm(WsShard* s, uint64_t hash, const uint8_t* infoHash) {
  const uint32_t n = header_->slotsPerShard;
  if (s->swarms + 1 > n * kMaxLoad) return nullptr;
  uint32_t i = static_cast<uint32_t>((hash >> 32) % n);
  while (slot(s, i)->live)
    if (++i == n) i = 0;
  WsSwarm* w = slot(s, i);
  std::memset(w, 0, kSwarmHeaderBytes);
  std::memcpy(w->infoHash, infoHash, 20);
  w->live = 1;
  ++s->swarms;
  return w;
}

// Backward-shift deletion keeps probe chains unbroken without tombstones.
void WsSwarmStore::eraseSwarm(WsShard* s, WsSwarm* w) {
  const uint32_t n = header_->slotsPerShard;
  uint32_t hole = static_cast<uint32_t>(
      (reinterpret_cast<char*>(w) - reinterpret_cast<char*>(slot(s, 0))) / header_->swarmBytes);
  uint32_t i = hole;
  for (;;) {
    if (++i == n) i = 0;
    WsSwarm* c = slot(s, i);
    if (!c->live) break;
    const uint32_t home = static_cast<uint32_t>((hashOf(c->infoHash) >> 32) % n);
    // c may move into the hole when its home is not cyclically within (hole, i].
    const bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (stays) continue;
    WsSwarm* h = slot(s, hole);
    std::memcpy(h, c, kSwarmHeaderBytes + size_t{c->count} * sizeof(WsPeer));
    hole = i;
  }
  slot(s, hole)->live = 0;
  --s->swarms;
}

void WsSwarmStore::removeAt(WsSwarm* w, uint32_t i) {
  WsPeer* p = w->peers();
  if (p[i].seeder) --w->seeders;
  p[i] = p[--w->count];
}

WsAnnounceOutput WsSwarmStore::announce(const WsAnnounceInput& in, WsTarget* targets,
                                        uint64_t random) {
  WsAnnounceOutput out;
  const uint64_t hash = hashOf(in.infoHash);
  WsShard* s = shard(static_cast<uint32_t>(hash % header_->shards));
  Lock lock(*this, s);
  WsSwarm* w = findSwarm(s, hash, in.infoHash);
  if (!w) {
    if (in.event == Event::Stopped) return out;
    w = insertSwarm(s, hash, in.infoHash);
    if (!w) {
      out.status = WsAnnounceStatus::Full;
      return out;
    }
  }
  w->lastActive = in.now;
  WsPeer* peers = w->peers();
  const uint32_t oldest = in.now - in.peerTimeout;
  auto expired = [&](const WsPeer& p) { return static_cast<int32_t>(p.lastSeen - oldest) < 0; };
  uint32_t me = w->count;
  for (uint32_t i = 0; i < w->count; ++i)
    if (std::memcmp(peers[i].peerId, in.peerId, 20) == 0) me = i;
  if (me < w->count && !(WsOwner{peers[me].token, peers[me].slot} == in.owner)) {
    if (!expired(peers[me])) {
      out.status = WsAnnounceStatus::PeerIdTaken;
      out.complete = w->seeders;
      out.incomplete = w->count - w->seeders;
      return out;
    }
    peers[me].token = in.owner.token;  // the old holder is gone: take the id over
    peers[me].slot = in.owner.slot;
  }
  if (in.event == Event::Stopped) {
    if (me < w->count) removeAt(w, me);
    out.complete = w->seeders;
    out.incomplete = w->count - w->seeders;
    if (w->count == 0) eraseSwarm(s, w);
    return out;
  }
  if (me == w->count) {
    if (w->count == header_->peersPerSwarm) {
      // Make room from an expired peer, else refuse.
      for (uint32_t i = 0; i < w->count; ++i)
        if (expired(peers[i])) {
          removeAt(w, i);
          break;
        }
      if (w->count == header_->peersPerSwarm) {
        out.status = WsAnnounceStatus::Full;
        out.complete = w->seeders;
        out.incomplete = w->count - w->seeders;
        return out;
      }
    }
    me = w->count++;
    WsPeer& p = peers[me];
    std::memset(&p, 0, sizeof p);
    std::memcpy(p.peerId, in.peerId, 20);
    p.token = in.owner.token;
    p.slot = in.owner.slot;
  }
  WsPeer& p = peers[me];
  if (p.seeder != in.seeder) {
    if (in.seeder) {
      ++w->seeders;
      if (in.event == Event::Completed) ++w->downloaded;
    } else {
      --w->seeders;
    }
    p.seeder = in.seeder;
  }
  p.lastSeen = in.now;
  out.joined = true;
  out.complete = w->seeders;
  out.incomplete = w->count - w->seeders;

  const uint32_t n = w->count;
  if (in.want == 0 || n <= 1) return out;
  RandomWalk walk(n, random);
  for (uint32_t k = 0; k < n && out.targets < in.want; ++k) {
    const uint32_t i = walk.next();
    const WsPeer& q = peers[i];
    if (i == me || expired(q) || (in.seeder && q.seeder)) continue;
    WsTarget& t = targets[out.targets++];
    t.owner = {q.token, q.slot};
    std::memcpy(t.peerId, q.peerId, 20);
  }
  return out;
}

template <class Fn>
auto WsSwarmStore::withSwarm(const uint8_t* infoHash, Fn&& fn) {
  const uint64_t hash = hashOf(infoHash);
  WsShard* s = shard(static_cast<uint32_t>(hash % header_->shards));
  Lock lock(*this, s);
  return fn(s, findSwarm(s, hash, infoHash));
}

bool WsSwarmStore::find(const uint8_t* infoHash, const uint8_t* peerId, WsOwner& owner) {
  return withSwarm(infoHash, [&](WsShard*, WsSwarm* w) {
    for (uint32_t i = 0; w && i < w->count; ++i) {
      const WsPeer& p = w->peers()[i];
      if (std::memcmp(p.peerId, peerId, 20) == 0) {
        owner = {p.token, p.slot};
        return true;
      }
    }
    return false;
  });
}

bool WsSwarmStore::remove(const uint8_t* infoHash, const uint8_t* peerId, const WsOwner& owner) {
  return withSwarm(infoHash, [&](WsShard* s, WsSwarm* w) {
    for (uint32_t i = 0; w && i < w->count; ++i) {
      const WsPeer& p = w->peers()[i];
      if (std::memcmp(p.peerId, peerId, 20) == 0 && WsOwner{p.token, p.slot} == owner) {
        removeAt(w, i);
        if (w->count == 0) eraseSwarm(s, w);
        return true;
      }
    }
    return false;
  });
}

ScrapeCounts WsSwarmStore::scrape(const uint8_t* infoHash) {
  return withSwarm(infoHash, [](WsShard*, WsSwarm* w) {
    return w ? ScrapeCounts{w->seeders, w->downloaded, w->count - w->seeders} : ScrapeCounts{};
  });
}

CleanTotals WsSwarmStore::clean(uint32_t now, uint32_t peerTimeout, uint32_t deadSlot) {
  CleanTotals t;
  const uint32_t oldest = now - peerTimeout;
  for (uint32_t si = 0; si < header_->shards; ++si) {
    WsShard* s = shard(si);
    Lock lock(*this, s);
    for (uint32_t i = 0; i < header_->slotsPerShard;) {
      WsSwarm* w = slot(s, i);
      if (!w->live) {
        ++i;
        continue;
      }
      for (uint32_t k = 0; k < w->count;) {
        const WsPeer& p = w->peers()[k];
        if (static_cast<int32_t>(p.lastSeen - oldest) < 0 || p.slot == deadSlot) {
          removeAt(w, k);
          ++t.removedPeers;
        } else {
          ++k;
        }
      }
      if (w->count == 0) {
        eraseSwarm(s, w);  // may shift a later swarm into slot i: look at it again
        ++t.removedTorrents;
        continue;
      }
      ++t.torrents;
      t.peers += w->count;
      t.seeders += w->seeders;
      t.leechers += w->count - w->seeders;
      ++i;
    }
  }
  return t;
}

}  // namespace manifold::tracker
