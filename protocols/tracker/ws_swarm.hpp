// Swarms of WebSocket (WebTorrent) peers of one [tracker:NAME], in a shared-memory region every
// worker uses. A WebSocket peer is not an address but a connection on some worker: it is found
// by its 20-byte peer_id and reached through its owner (the worker's stats slot and a token
// naming the connection in that worker), so offers and answers can be relayed to it.
//
// Region layout (offsets from the region base):
//   0             WsStoreHeader, 64 bytes: magic "MFTRKWS1", version, shards, slotsPerShard,
//                 peersPerSwarm, swarmBytes, the 16-byte hash key (made at format), recoveries
//   64            shards, shardBytes each:
//                   +0   ShardHeader, 64 bytes: RobustMutex, live swarm count
//                   +64  slotsPerShard swarm slots of swarmBytes each (open addressing, linear
//                        probing, backward-shift deletion)
// Swarm slot: u8 infoHash[20], u32 live, u32 count, u32 seeders, u32 downloaded, u32 lastActive,
//   pad to 48; then WsPeer[peersPerSwarm], 40 bytes each: u8 peerId[20], u64 token,
//   u16 workerSlot, u8 seeder, u8 0, u32 lastSeen (monotonic seconds), u32 0. Peers are unsorted
//   (a swarm is small: peersPerSwarm, `ws_swarm_peers`); removal moves the last peer into the gap.
//
// Crash repair: a worker killed inside a shard leaves its mutex EOWNERDEAD; the next locker
// empties that shard (its peers re-announce within one interval), since a swarm being moved by
// a backward shift may be half-copied. Counted in recoveries.
// An emptied swarm is reclaimed at once (its `downloaded` count with it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/tracker/swarm_store.hpp"
#include "protocols/tracker/udp_packet.hpp"

namespace manifold::tracker {

struct WsGeometry {
  uint32_t shards = 64;
  uint32_t slotsPerShard = 0;
  uint32_t peersPerSwarm = 128;
  size_t bytes = 0;
  size_t swarmBytes() const;
  static WsGeometry forBudget(size_t bytes, uint32_t peersPerSwarm, uint32_t shards);
  std::string layout() const;
};

// Where a WebSocket peer lives: its worker's stats slot and the connection's token there.
struct WsOwner {
  uint64_t token = 0;
  uint16_t slot = 0;
  bool operator==(const WsOwner&) const = default;
};

struct WsTarget {
  WsOwner owner;
  uint8_t peerId[20];
};

enum class WsAnnounceStatus : uint8_t { Ok, Full, PeerIdTaken };

struct WsAnnounceInput {
  const uint8_t* infoHash = nullptr;
  const uint8_t* peerId = nullptr;
  WsOwner owner;
  Event event = Event::None;
  bool seeder = false;
  uint32_t now = 0;
  uint32_t peerTimeout = 0;
  uint32_t want = 0;  // targets wanted (offers to relay)
};

struct WsAnnounceOutput {
  WsAnnounceStatus status = WsAnnounceStatus::Ok;
  uint32_t complete = 0, incomplete = 0;
  uint32_t targets = 0;  // written to the caller's array
  bool joined = false;   // the peer is (still) in the swarm after this announce
};

struct WsStoreHeader;
struct WsShard;
struct WsSwarm;

class WsSwarmStore {
 public:
  static void format(void* base, size_t bytes, const WsGeometry& geometry);
  explicit WsSwarmStore(void* base);  // ok() false when the region is not formatted
  bool ok() const { return header_ != nullptr; }

  // Joins, refreshes or (event stopped) removes the peer, then picks up to `want` other live
  // peers at random (not the sender; no seeders for a seeder). A peer_id held by another live
  // connection is refused (PeerIdTaken); one whose holder expired is taken over.
  WsAnnounceOutput announce(const WsAnnounceInput& in, WsTarget* targets, uint64_t random);
  // The owner of peerId in infoHash's swarm, if it is there.
  bool find(const uint8_t* infoHash, const uint8_t* peerId, WsOwner& owner);
  // Removes the peer if `owner` still holds it (a closed connection).
  bool remove(const uint8_t* infoHash, const uint8_t* peerId, const WsOwner& owner);
  ScrapeCounts scrape(const uint8_t* infoHash);
  // Drops peers not seen for peerTimeout, and every peer of worker slot `deadSlot` (a worker
  // that starts in a slot drops what its dead predecessor left; UINT32_MAX: none). Totals after.
  CleanTotals clean(uint32_t now, uint32_t peerTimeout, uint32_t deadSlot = UINT32_MAX);
  uint64_t recoveries() const;

 private:
  class Lock;
  // Locks infoHash's shard and calls fn(shard, swarm or nullptr).
  template <class Fn>
  auto withSwarm(const uint8_t* infoHash, Fn&& fn);
  WsShard* shard(uint32_t i);
  WsSwarm* slot(WsShard* s, uint32_t i);
  uint64_t hashOf(const uint8_t* infoHash) const;
  WsSwarm* findSwarm(WsShard* s, uint64_t hash, const uint8_t* infoHash);
  WsSwarm* insertSwarm(WsShard* s, uint64_t hash, const uint8_t* infoHash);
  void eraseSwarm(WsShard* s, WsSwarm* w);
  void removeAt(WsSwarm* w, uint32_t i);

  WsStoreHeader* header_ = nullptr;
  char* base_ = nullptr;
};

}  // namespace manifold::tracker
