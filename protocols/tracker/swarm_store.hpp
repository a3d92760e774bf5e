// Swarms of one [tracker:NAME] in a shared-memory region used by every worker at once.
//
// Torrents are sharded by a keyed hash of the info hash; each shard is a robust
// process-shared mutex and a fixed open-addressing table (linear probing, backward-shift
// deletion) of torrent slots. A torrent's peers are one keyed open-addressing hash table per
// address family (peer_table.hpp) in one shm::Arena, grown by half when 7/8 full (an
// allocation only then) and shrunk by the cleaner. Finding the announcing peer touches one or
// two adjacent lines, and a record's first bytes are its compact form (address + big-endian
// port), so a response is built by memcpy from consecutive slots.
//
// Region layout (offsets from the region base):
//   0             StoreHeader, 256 bytes: magic "MFTRKSW1", version (2), geometry, the offsets
//                 below, the connection-id secret, recovery and refusal counters
//   shardsOffset  shardCount shards of shardBytes each:
//                   +0   ShardHeader, 64 bytes: RobustMutex, live torrent count
//                   +64  TorrentSlot[slotsPerShard], 64 bytes each (see below)
//   arenaOffset   shm::Arena (shm/arena.hpp) holding the peer tables
// Shard = low 32 bits of the keyed hash scaled onto [0, shards) by multiply-shift; home slot =
// the high 32 bits scaled onto [0, slotsPerShard).
//
// TorrentSlot (64 bytes): u8 infoHash[20], u32 live (0 empty; else 1 + a time before which no
//   peer of the torrent was last seen, left by the cleaner: 1 = unknown), u32 seeders,
//   u32 leechers, u32 downloaded, u32 lastActive (monotonic seconds), then two PeerList
//   (IPv4, IPv6) of u32 offset16 (arena offset / 16, 0 = none), u32 count, u32 capacity (slots).
// Peer record: key = address (4 or 16 bytes) + port (2 bytes, big-endian), then u8 flags
//   (bit 0 seeder), u8 0, u32 lastSeen (seconds): 12 bytes for IPv4, 24 bytes for IPv6. A slot
//   with port 0 is empty. Positions follow a hash of the key keyed by a per-region seed derived
//   from the secret (peer_table.hpp).
//
// Crash repair: a worker killed inside a shard leaves the mutex EOWNERDEAD; the next locker
// validates every slot of that shard (peer table offsets owned by the arena, count <= capacity),
// drops tables that fail, rebuilds the others in place (an interrupted insert or erase may have
// broken a probe run), recounts seeders/leechers and rebuilds the probe table. Worst case the
// torrents being changed at that moment lose their peers (they re-announce) or a block leaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/tracker/access_list.hpp"
#include "protocols/tracker/peer_table.hpp"
#include "protocols/tracker/udp_packet.hpp"
#include "shm/arena.hpp"
#include "shm/robust_mutex.hpp"

namespace manifold::tracker {

struct StoreGeometry {
  uint32_t shards = 256;
  uint32_t slotsPerShard = 0;
  size_t bytes = 0;  // whole region
  size_t arenaBytes() const;
  // Geometry for a region of `bytes` holding up to `maxTorrents` torrents.
  static StoreGeometry forBudget(size_t bytes, size_t maxTorrents, uint32_t shards);
  std::string layout() const;  // for RegionRequest::layout
};

struct AnnounceInput {
  const uint8_t* infoHash = nullptr;
  Family family = kV4;
  const uint8_t* peerKey = nullptr;  // address + big-endian port: 6 or 18 bytes
  Event event = Event::None;
  bool seeder = false;  // left == 0
  uint32_t numWant = 0;
  uint32_t now = 0;  // monotonic seconds
  uint32_t peerTimeout = 0;
  // hashOf(infoHash) when the caller has it (from prefetch), so it is not computed again; 0 = not
  // known (a real hash of 0 is only recomputed).
  uint64_t hash = 0;
};

enum class AnnounceStatus : uint8_t { Ok, Full };

struct AnnounceOutput {
  AnnounceStatus status = AnnounceStatus::Ok;
  uint32_t seeders = 0, leechers = 0, downloaded = 0;
  uint32_t peers = 0;  // compact peers written (kKeyBytes[family] each)
};

struct ScrapeCounts {
  uint32_t seeders = 0, downloaded = 0, leechers = 0;
};

struct PeerInfo {
  Family family;
  uint8_t key[18];
  bool seeder;
  uint32_t age;  // seconds since last announce
};

struct CleanTotals {
  uint64_t torrents = 0, peers = 0, seeders = 0, leechers = 0, removedPeers = 0,
           removedTorrents = 0;
};

struct StoreHeader;
struct ShardHeader;
struct TorrentSlot;

// A process-local handle on the region (no state of its own beyond pointers).
class SwarmStore {
 public:
  // Formats a fresh region (generates the connection-id secret). Throws on a bad geometry.
  static void format(void* base, size_t bytes, const StoreGeometry& geometry);
  // Attaches to a formatted region; ok() is false if the header does not match.
  explicit SwarmStore(void* base);
  bool ok() const { return header_ != nullptr; }

  const uint8_t* secret() const;

  // Records the announce and writes up to numWant compact peers (same family) to `peersOut`,
  // which must hold numWant * kKeyBytes[family] bytes. `random` seeds the peer choice.
  AnnounceOutput announce(const AnnounceInput& in, uint8_t* peersOut, uint64_t random);
  ScrapeCounts scrape(const uint8_t* infoHash);
  // The keyed hash that places infoHash (a SipHash: worth computing once per request).
  uint64_t hashOf(const uint8_t* infoHash) const;
  // Starts loading the shard lock and home slot of the torrent of that hash into the cache (no
  // lock, no effect).
  void prefetch(uint64_t hash) const;
  // Once that slot is loaded: starts loading where the peer `peerKey` sits in the torrent's
  // table and the slot an answer drawn with `random` starts at. Reads without the lock, only
  // to compute addresses for prefetch instructions (which never fault).
  void prefetchPeers(const uint8_t* infoHash, uint64_t hash, Family family, const uint8_t* peerKey,
                     uint64_t random) const;
  std::vector<PeerInfo> list(const uint8_t* infoHash, uint32_t now);
  // Appends every torrent's info hash and counts (shard by shard, one lock at a time), for
  // the HTTP full scrape. Unsorted.
  struct TorrentCounts {
    InfoHash infoHash;
    ScrapeCounts counts;
  };
  void collect(std::vector<TorrentCounts>& out);
  // Drops peers not seen for peerTimeout, shrinks sparse lists and reclaims empty torrents:
  // at once when nothing was completed, else torrentTimeout after the last announce (sooner
  // when the shard is more than half its load limit).
  CleanTotals clean(uint32_t now, uint32_t peerTimeout, uint32_t torrentTimeout);

  // For the inspection tool, on a read-only mapping of `bytes`: one torrent's counts and peers,
  // read without the shard lock (a concurrent update may show a momentarily inconsistent list;
  // the geometry, every offset and every count are checked, so nothing outside the region is
  // read). False when the region is not a swarm store or the torrent is unknown.
  static bool peek(const void* base, size_t bytes, const uint8_t* infoHash, uint32_t now,
                   ScrapeCounts& counts, std::vector<PeerInfo>& peers);

  uint64_t refusals() const;
  uint64_t recoveries() const;
  size_t arenaUsed() const { return arena_->used(); }
  const void* base() const { return base_; }
  // The lock guarding infoHash's shard: for tests that kill a process holding it.
  shm::RobustMutex& shardMutexFor(const uint8_t* infoHash);
  size_t arenaCapacity() const { return arena_->capacity(); }

 private:
  class ShardLock;
  ShardHeader* shard(uint32_t index);
  TorrentSlot* slots(ShardHeader* shard);
  TorrentSlot* findSlot(ShardHeader* shard, uint64_t hash, const uint8_t* infoHash);
  TorrentSlot* insertSlot(ShardHeader* shard, uint64_t hash, const uint8_t* infoHash);
  void eraseSlot(ShardHeader* shard, TorrentSlot* slot);
  void repairShard(ShardHeader* shard);
  bool resize(TorrentSlot& t, Family f, uint32_t capacity);
  void releaseLists(TorrentSlot& t);

  StoreHeader* header_ = nullptr;
  char* base_ = nullptr;
  shm::Arena* arena_ = nullptr;
  uint64_t peerSeed_ = 0;  // keys the peer tables' hash; derived from the region's secret
};

}  // namespace manifold::tracker
