// Tier: unit — the swarm store on a private region (the multi-process use is covered by the
// integration tests, which run it under two workers).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "protocols/tracker/swarm_store.hpp"

using namespace manifold::tracker;

namespace {

struct Region {
  explicit Region(size_t bytes, size_t torrents = 1024, uint32_t shards = 4)
      : mem(static_cast<char*>(std::aligned_alloc(4096, bytes))), size(bytes) {
    std::memset(mem, 0, bytes);
    SwarmStore::format(mem, bytes, StoreGeometry::forBudget(bytes, torrents, shards));
  }
  ~Region() { std::free(mem); }
  char* mem;
  size_t size;
};

struct Hash {
  uint8_t b[20];
  explicit Hash(int n) {
    std::memset(b, 0, 20);
    std::memcpy(b, &n, sizeof n);
  }
};

void key4(uint8_t* k, int host, uint16_t port) {
  k[0] = 10;
  k[1] = 0;
  k[2] = static_cast<uint8_t>(host >> 8);
  k[3] = static_cast<uint8_t>(host);
  k[4] = static_cast<uint8_t>(port >> 8);
  k[5] = static_cast<uint8_t>(port);
}

AnnounceOutput announce(SwarmStore& s, const Hash& h, int host, bool seeder, Event ev = Event::None,
                        uint32_t numWant = 50, uint32_t now = 100, uint8_t* out = nullptr) {
  uint8_t key[6], buf[200 * 18];
  key4(key, host, 6881);
  AnnounceInput in;
  in.infoHash = h.b;
  in.peerKey = key;
  in.seeder = seeder;
  in.event = ev;
  in.numWant = numWant;
  in.now = now;
  in.peerTimeout = 60;
  return s.announce(in, out ? out : buf, static_cast<uint64_t>(host) * 7919 + now);
}

}  // namespace

TEST(TrackerSwarm, CountsAndSelection) {
  Region r(4 << 20);
  SwarmStore s(r.mem);
  ASSERT_TRUE(s.ok());
  Hash h(1);
  for (int i = 0; i < 10; ++i) announce(s, h, i, i < 3, Event::Started);
  ScrapeCounts c = s.scrape(h.b);
  EXPECT_EQ(c.seeders, 3u);
  EXPECT_EQ(c.leechers, 7u);
  uint8_t out[200 * 6];
  // A leecher gets everybody but itself.
  AnnounceOutput o = announce(s, h, 5, false, Event::None, 50, 100, out);
  ASSERT_EQ(o.peers, 9u);
  std::set<std::string> seen;
  for (uint32_t i = 0; i < o.peers; ++i) {
    seen.insert(std::string(reinterpret_cast<char*>(out + i * 6), 6));
    EXPECT_FALSE(out[i * 6 + 3] == 5) << "listed the asking peer";
  }
  EXPECT_EQ(seen.size(), 9u);
  // A seeder gets leechers only.
  o = announce(s, h, 0, true, Event::None, 50, 100, out);
  EXPECT_EQ(o.peers, 7u);
  for (uint32_t i = 0; i < o.peers; ++i) EXPECT_GE(out[i * 6 + 3], 3);
  // numwant caps, and different announces see different subsets.
  std::set<std::string> firsts;
  for (int k = 0; k < 20; ++k) {
    o = announce(s, h, 9, false, Event::None, 2, 100 + k, out);
    EXPECT_EQ(o.peers, 2u);
    firsts.insert(std::string(reinterpret_cast<char*>(out), 6));
  }
  EXPECT_GT(firsts.size(), 2u);
}

TEST(TrackerSwarm, CompletedStoppedAndSeederSwitch) {
  Region r(4 << 20);
  SwarmStore s(r.mem);
  Hash h(2);
  announce(s, h, 1, false, Event::Started);
  AnnounceOutput o = announce(s, h, 1, true, Event::Completed);
  EXPECT_EQ(o.seeders, 1u);
  EXPECT_EQ(o.leechers, 0u);
  EXPECT_EQ(o.downloaded, 1u);
  o = announce(s, h, 1, true, Event::Completed);  // a repeat does not count again
  EXPECT_EQ(o.downloaded, 1u);
  announce(s, h, 2, false);
  o = announce(s, h, 1, true, Event::Stopped);
  EXPECT_EQ(o.seeders, 0u);
  EXPECT_EQ(o.leechers, 1u);
  o = announce(s, h, 2, false, Event::Stopped);
  EXPECT_EQ(o.leechers, 0u);
  EXPECT_EQ(s.scrape(h.b).seeders + s.scrape(h.b).leechers, 0u);
  EXPECT_EQ(s.list(h.b, 100).size(), 0u);
}

TEST(TrackerSwarm, ExpiryAndCleaning) {
  Region r(4 << 20);
  SwarmStore s(r.mem);
  for (int t = 0; t < 50; ++t)
    for (int p = 0; p < 40; ++p) announce(s, Hash(t), p, p % 2, Event::None, 0, t < 25 ? 100 : 200);
  // At 200 with timeout 60, torrents announced at 100 are gone.
  CleanTotals c = s.clean(200, 60, 0);
  EXPECT_EQ(c.torrents, 25u);
  EXPECT_EQ(c.peers, 25u * 40);
  EXPECT_EQ(c.seeders, 25u * 20);
  EXPECT_EQ(c.removedTorrents, 25u);
  for (int t = 0; t < 50; ++t) EXPECT_EQ(s.scrape(Hash(t).b).leechers, t < 25 ? 0u : 20u) << t;
  // Expired peers are never handed out even before a sweep.
  uint8_t out[200 * 6];
  AnnounceOutput o = announce(s, Hash(30), 1000, false, Event::None, 50, 261, out);
  EXPECT_EQ(o.peers, 0u);
  c = s.clean(1000, 60, 0);
  EXPECT_EQ(c.torrents, 0u);
  EXPECT_EQ(s.arenaUsed(), 0u);
}

// A swarm that empties keeps its completed count (as opentracker does) until torrent_timeout after
// its last announce; one nobody completed is reclaimed at once.
TEST(TrackerSwarm, EmptyTorrentKeepsItsDownloadsUntilTimeout) {
  Region r(4 << 20);
  SwarmStore s(r.mem);
  Hash done(70), never(71);
  announce(s, done, 1, false, Event::Started, 0, 100);
  announce(s, done, 1, true, Event::Completed, 0, 110);
  announce(s, done, 1, true, Event::Stopped, 0, 120);
  announce(s, never, 2, false, Event::Started, 0, 120);
  announce(s, never, 2, false, Event::Stopped, 0, 120);
  ScrapeCounts c = s.scrape(done.b);
  EXPECT_EQ(c.downloaded, 1u);
  EXPECT_EQ(c.seeders + c.leechers, 0u);
  EXPECT_EQ(s.arenaUsed(), 0u) << "an empty torrent holds no peer list";
  CleanTotals t = s.clean(200, 60, 3600);
  EXPECT_EQ(t.torrents, 1u);
  EXPECT_EQ(s.scrape(done.b).downloaded, 1u);
  // It fills again as a normal swarm.
  AnnounceOutput o = announce(s, done, 3, false, Event::Started, 0, 300);
  EXPECT_EQ(o.leechers, 1u);
  EXPECT_EQ(o.downloaded, 1u);
  announce(s, done, 3, false, Event::Stopped, 0, 300);
  // One hour after the last announce it goes.
  EXPECT_EQ(s.clean(300 + 3599, 60, 3600).torrents, 1u);
  t = s.clean(300 + 3600, 60, 3600);
  EXPECT_EQ(t.torrents, 0u);
  EXPECT_EQ(t.removedTorrents, 1u);
  EXPECT_EQ(s.scrape(done.b).downloaded, 0u);
}

TEST(TrackerSwarm, FullRefusesNewTorrentsAndStaysConsistent) {
  Region r(1 << 20, 64, 2);
  SwarmStore s(r.mem);
  int refused = 0;
  for (int t = 0; t < 200; ++t)
    if (announce(s, Hash(t), 1, false).status == AnnounceStatus::Full) ++refused;
  EXPECT_GT(refused, 100);
  EXPECT_GT(s.refusals(), 0u);
  // Peers on a torrent that exists keep going until the arena is exhausted, then refuse.
  int full = 0;
  for (int p = 0; p < 200000 && !full; ++p)
    if (announce(s, Hash(0), p + 2, false).status == AnnounceStatus::Full) ++full;
  EXPECT_EQ(full, 1);
  CleanTotals c = s.clean(100, 60, 0);
  EXPECT_LE(c.torrents, 64u);
  EXPECT_EQ(s.scrape(Hash(0).b).leechers + 0u, s.list(Hash(0).b, 100).size());
}

TEST(TrackerSwarm, ManyTorrentsInsertAndEraseKeepProbing) {
  Region r(8 << 20, 2000, 4);
  SwarmStore s(r.mem);
  for (int t = 0; t < 1500; ++t)
    ASSERT_EQ(announce(s, Hash(t), 1, false).status, AnnounceStatus::Ok);
  for (int t = 0; t < 1500; t += 2) announce(s, Hash(t), 1, false, Event::Stopped);
  for (int t = 0; t < 1500; ++t) EXPECT_EQ(s.scrape(Hash(t).b).leechers, t % 2 ? 1u : 0u) << t;
  EXPECT_EQ(s.clean(100, 60, 0).torrents, 750u);
}

// A process killed while holding a shard lock: the next locker repairs the shard and goes on.
TEST(TrackerSwarm, RepairsAShardWhoseOwnerDied) {
  const size_t bytes = 4 << 20;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  SwarmStore::format(mem, bytes, StoreGeometry::forBudget(bytes, 256, 2));
  SwarmStore s(mem);
  Hash h(42);
  for (int p = 0; p < 5; ++p) announce(s, h, p, p == 0);
  announce(s, Hash(43), 1, false);
  pid_t child = fork();
  if (child == 0) {
    SwarmStore mine(mem);
    mine.shardMutexFor(h.b).lock();
    _exit(0);  // dies holding the lock
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  AnnounceOutput o = announce(s, h, 9, false);
  EXPECT_EQ(s.recoveries(), 1u);
  EXPECT_EQ(o.seeders, 1u);
  EXPECT_EQ(o.leechers, 5u);
  EXPECT_EQ(s.scrape(Hash(43).b).leechers, 1u);
  EXPECT_EQ(s.clean(100, 60, 0).peers, 7u);
  munmap(mem, bytes);
}

// A swarm far past one cache line: every peer stays findable through growth, stops (erases)
// and the cleaner; answers never repeat a peer or list the asker.
TEST(TrackerSwarm, LargeSwarmGrowsErasesAndAnswersWithoutRepeats) {
  Region r(16 << 20);
  SwarmStore s(r.mem);
  Hash h(9);
  for (int i = 0; i < 5000; ++i) announce(s, h, i, i % 3 == 0, Event::Started);
  EXPECT_EQ(s.scrape(h.b).seeders + s.scrape(h.b).leechers, 5000u);
  for (int i = 0; i < 5000; i += 2) announce(s, h, i, i % 3 == 0, Event::Stopped);
  ScrapeCounts c = s.scrape(h.b);
  EXPECT_EQ(c.seeders + c.leechers, 2500u);
  EXPECT_EQ(s.list(h.b, 100).size(), 2500u);
  // Re-announcing every remaining peer finds it (counts unchanged, nobody added twice).
  for (int i = 1; i < 5000; i += 2) announce(s, h, i, i % 3 == 0);
  c = s.scrape(h.b);
  EXPECT_EQ(c.seeders + c.leechers, 2500u);
  uint8_t out[200 * 6];
  for (int k = 0; k < 50; ++k) {
    AnnounceOutput o = announce(s, h, 1 + 2 * k, false, Event::None, 200, 100, out);
    ASSERT_EQ(o.peers, 200u);
    std::set<std::string> seen;
    for (uint32_t i = 0; i < o.peers; ++i) {
      const int host = out[i * 6 + 2] << 8 | out[i * 6 + 3];
      EXPECT_NE(host, 1 + 2 * k) << "listed the asking peer";
      EXPECT_EQ(host % 2, 1) << "listed a stopped peer";
      seen.insert(std::string(reinterpret_cast<char*>(out + i * 6), 6));
    }
    EXPECT_EQ(seen.size(), 200u);
  }
  // The cleaner shrinks the table once most peers are gone; the rest stay findable.
  for (int i = 1; i < 5000; i += 2)
    if (i > 200) announce(s, h, i, i % 3 == 0, Event::Stopped);
  const size_t before = s.arenaUsed();
  s.clean(100, 60, 0);
  EXPECT_LT(s.arenaUsed(), before);
  EXPECT_EQ(s.list(h.b, 100).size(), 100u);
  for (int i = 1; i <= 200; i += 2)
    EXPECT_EQ(announce(s, h, i, i % 3 == 0).leechers + announce(s, h, i, i % 3 == 0).seeders, 100u);
}

// The cleaner skips a torrent whose oldest peer cannot have expired yet, and still expires
// peers on time once it can.
TEST(TrackerSwarm, CleanerSkipsFreshTorrentsButExpiresOnTime) {
  Region r(4 << 20);
  SwarmStore s(r.mem);
  Hash h(3);
  for (int i = 0; i < 20; ++i) announce(s, h, i, false, Event::None, 0, 100);
  EXPECT_EQ(s.clean(110, 60, 0).peers, 20u);  // records oldest = 100
  for (int i = 20; i < 30; ++i) announce(s, h, i, false, Event::None, 0, 150);
  EXPECT_EQ(s.clean(159, 60, 0).peers, 30u);  // skipped: counts as announced
  CleanTotals c = s.clean(161, 60, 0);        // the ones seen at 100 are due now
  EXPECT_EQ(c.peers, 10u);
  EXPECT_EQ(c.removedPeers, 20u);
  EXPECT_EQ(s.clean(211, 60, 0).peers, 0u);
  EXPECT_EQ(s.scrape(h.b).leechers, 0u);
}
