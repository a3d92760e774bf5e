// Tier: unit (shm) — WebSocket swarms (protocols/tracker/ws_swarm): joining, offers never to the
// sender, peer_id held by another connection refused, removal by the owner only, expiry,
// reclaiming emptied swarms across probe chains.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "protocols/tracker/ws_swarm.hpp"
#include "t/unit/shm_test_util.hpp"

using namespace manifold::tracker;
using manifold::shm::testing::SharedMemory;

namespace {

struct Fixture {
  explicit Fixture(uint32_t peersPerSwarm = 8, size_t bytes = 1 << 20, uint32_t shards = 4)
      : mem(bytes), geometry(WsGeometry::forBudget(bytes, peersPerSwarm, shards)) {
    WsSwarmStore::format(mem.base, bytes, geometry);
    store = std::make_unique<WsSwarmStore>(mem.base);
  }
  WsAnnounceOutput announce(const std::string& hash, const std::string& peer, WsOwner owner,
                            uint32_t want = 0, Event event = Event::None, uint32_t now = 100,
                            bool seeder = false) {
    WsAnnounceInput in;
    in.infoHash = reinterpret_cast<const uint8_t*>(hash.data());
    in.peerId = reinterpret_cast<const uint8_t*>(peer.data());
    in.owner = owner;
    in.event = event;
    in.now = now;
    in.peerTimeout = 60;
    in.want = want;
    in.seeder = seeder;
    targets.assign(64, {});
    return store->announce(in, targets.data(), ++random);
  }
  SharedMemory mem;
  WsGeometry geometry;
  std::unique_ptr<WsSwarmStore> store;
  std::vector<WsTarget> targets;
  uint64_t random = 1;
};

std::string id(const std::string& prefix, int n) {
  std::string s = prefix + std::to_string(n);
  s.resize(20, '.');
  return s;
}
const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

TEST(WsSwarm, OffersGoToOtherPeersOnly) {
  Fixture f;
  const std::string h = id("hash", 1);
  for (int i = 0; i < 5; ++i) {
    auto out = f.announce(h, id("peer", i), {uint64_t(i + 10), 1});
    EXPECT_EQ(out.status, WsAnnounceStatus::Ok);
    EXPECT_EQ(out.incomplete, uint32_t(i + 1));
  }
  for (int round = 0; round < 20; ++round) {
    auto out = f.announce(h, id("peer", 0), {10, 1}, 3);
    ASSERT_EQ(out.targets, 3u);
    std::set<uint64_t> seen;
    for (uint32_t k = 0; k < 3; ++k) {
      EXPECT_NE(f.targets[k].owner.token, 10u);
      EXPECT_TRUE(seen.insert(f.targets[k].owner.token).second);
      EXPECT_EQ(std::string(reinterpret_cast<char*>(f.targets[k].peerId), 20),
                id("peer", int(f.targets[k].owner.token - 10)));
    }
  }
  EXPECT_EQ(f.announce(h, id("peer", 0), {10, 1}, 50).targets, 4u);
  auto c = f.store->scrape(u8(h));
  EXPECT_EQ(c.leechers, 5u);
}

TEST(WsSwarm, PeerIdOfAnotherConnectionIsRefusedUntilItExpires) {
  Fixture f;
  const std::string h = id("hash", 1), p = id("peer", 1);
  EXPECT_EQ(f.announce(h, p, {1, 0}).status, WsAnnounceStatus::Ok);
  EXPECT_EQ(f.announce(h, p, {2, 0}).status, WsAnnounceStatus::PeerIdTaken);
  EXPECT_EQ(f.announce(h, p, {1, 1}).status, WsAnnounceStatus::PeerIdTaken);  // other worker
  EXPECT_FALSE(f.store->remove(u8(h), u8(p), {2, 0}));
  WsOwner o;
  ASSERT_TRUE(f.store->find(u8(h), u8(p), o));
  EXPECT_EQ(o, (WsOwner{1, 0}));
  // 61 s later the first holder has expired: the id may be taken over.
  EXPECT_EQ(f.announce(h, p, {2, 0}, 0, Event::None, 161).status, WsAnnounceStatus::Ok);
  ASSERT_TRUE(f.store->find(u8(h), u8(p), o));
  EXPECT_EQ(o, (WsOwner{2, 0}));
  EXPECT_TRUE(f.store->remove(u8(h), u8(p), {2, 0}));
  EXPECT_FALSE(f.store->find(u8(h), u8(p), o));
}

TEST(WsSwarm, StoppedCompletedAndFullSwarms) {
  Fixture f(4);
  const std::string h = id("hash", 2);
  for (int i = 0; i < 4; ++i) f.announce(h, id("p", i), {uint64_t(i), 0});
  EXPECT_EQ(f.announce(h, id("p", 9), {9, 0}).status, WsAnnounceStatus::Full);
  auto out = f.announce(h, id("p", 1), {1, 0}, 0, Event::Completed, 100, true);
  EXPECT_EQ(out.complete, 1u);
  EXPECT_EQ(out.incomplete, 3u);
  EXPECT_EQ(f.store->scrape(u8(h)).downloaded, 1u);
  // A seeder is offered to leechers only.
  out = f.announce(h, id("p", 1), {1, 0}, 10, Event::None, 100, true);
  EXPECT_EQ(out.targets, 3u);
  out = f.announce(h, id("p", 2), {2, 0}, 0, Event::Stopped);
  EXPECT_FALSE(out.joined);
  EXPECT_EQ(out.incomplete, 2u);
  // An expired peer makes room for a new one.
  EXPECT_EQ(f.announce(h, id("p", 9), {9, 0}, 0, Event::None, 150).status, WsAnnounceStatus::Ok);
  EXPECT_EQ(f.announce(h, id("p", 8), {8, 0}, 0, Event::None, 200).status, WsAnnounceStatus::Ok);
}

TEST(WsSwarm, ManySwarmsAreReclaimedAndStayFindable) {
  Fixture f(2, 64 << 10, 1);  // one shard, few slots: long probe chains
  const uint32_t slots = f.geometry.slotsPerShard;
  ASSERT_GT(slots, 10u);
  int n = 0;  // fill to the load limit (7/8)
  while (f.announce(id("h", n), id("p", n), {uint64_t(n), 0}).status == WsAnnounceStatus::Ok) ++n;
  EXPECT_EQ(n, static_cast<int>(slots * 0.875));
  if (n % 2) {  // an even count, so the odd half below is n / 2
    ASSERT_TRUE(f.store->remove(u8(id("h", n - 1)), u8(id("p", n - 1)), {uint64_t(n - 1), 0}));
    --n;
  }
  for (int i = 0; i < n; i += 2)
    ASSERT_TRUE(f.store->remove(u8(id("h", i)), u8(id("p", i)), {uint64_t(i), 0}));
  WsOwner o;
  for (int i = 1; i < n; i += 2) ASSERT_TRUE(f.store->find(u8(id("h", i)), u8(id("p", i)), o)) << i;
  // The sweep drops a dead worker's peers and counts the rest.
  f.announce(id("h", 1), id("q", 1), {77, 3});
  CleanTotals t = f.store->clean(110, 60, 3);
  EXPECT_EQ(t.removedPeers, 1u);
  EXPECT_EQ(t.peers, uint64_t(n / 2));
  t = f.store->clean(1000, 60);
  EXPECT_EQ(t.peers, 0u);
  EXPECT_EQ(t.torrents, 0u);
}
