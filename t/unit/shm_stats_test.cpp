// shm/stats: layout identity, per-slot counters and padding, the worker table, gauges,
// adoption across a reload, and counting from several processes at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "shm/segment.hpp"
#include "shm/stats.hpp"
#include "t/unit/shm_test_util.hpp"

using manifold::shm::kCounter;
using manifold::shm::kGauge;
using manifold::shm::Segment;
using manifold::shm::StatsRegion;
using manifold::shm::StatsServiceSpec;
using manifold::shm::WorkerInfo;

namespace {

using manifold::shm::testing::Reaper;
using manifold::shm::testing::SharedMemory;

std::string uniqueName() { return manifold::shm::testing::uniqueName("test-stats"); }

// Region bases are 4096-aligned in the segment; test buffers are too.
struct AlignedBuffer {
  explicit AlignedBuffer(size_t n, unsigned char fill = 0)
      : data(std::aligned_alloc(4096, (n + 4095) / 4096 * 4096)) {
    std::memset(data, fill, (n + 4095) / 4096 * 4096);
  }
  ~AlignedBuffer() { std::free(data); }
  void* data;
};

struct TestSegment {
  std::string name = uniqueName();
  std::unique_ptr<Segment> seg = Segment::create(name, 4 << 20);
  ~TestSegment() { shm_unlink(("/manifold." + name).c_str()); }
};

std::vector<StatsServiceSpec> specs() {
  return {
      {"http:www",
       "http",
       {{"requests", kCounter}, {"bytes_out", kCounter}, {"connections", kGauge}}},
      {"dns:main", "dns", {{"queries", kCounter}, {"nxdomain", kCounter}}},
      {"tftp:boot", "tftp", {}},
  };
}

}  // namespace

TEST(ShmStats, LayoutKeyTracksEveryShapeChange) {
  const auto base = specs();
  const std::string key = StatsRegion::layoutKey(8, base);
  EXPECT_LE(key.size(), 95u);
  EXPECT_EQ(key, StatsRegion::layoutKey(8, specs()));
  EXPECT_NE(key, StatsRegion::layoutKey(16, base));
  auto renamed = base;
  renamed[0].counters[1].name = "bytes_in";
  EXPECT_NE(key, StatsRegion::layoutKey(8, renamed));
  auto rekinded = base;
  rekinded[1].counters[0].kind = kGauge;
  EXPECT_NE(key, StatsRegion::layoutKey(8, rekinded));
  auto added = base;
  added.push_back({"tracker:pub", "tracker", {{"announces", kCounter}}});
  EXPECT_NE(key, StatsRegion::layoutKey(8, added));
  auto moved = base;  // same names, counter moved between services
  moved[1].counters.push_back(moved[0].counters.back());
  moved[0].counters.pop_back();
  EXPECT_NE(key, StatsRegion::layoutKey(8, moved));
  auto retitled = base;
  retitled[2].title = "tftp:pxe";
  EXPECT_NE(key, StatsRegion::layoutKey(8, retitled));
}

TEST(ShmStats, RejectsNamesThatDoNotFit) {
  auto s = specs();
  s[0].title = std::string(64, 't');
  EXPECT_THROW(StatsRegion::bytesFor(4, s), std::invalid_argument);
  s = specs();
  s[1].counters[0].name = std::string(56, 'c');
  EXPECT_THROW(StatsRegion::layoutKey(4, s), std::invalid_argument);
  EXPECT_THROW(StatsRegion::bytesFor(0, specs()), std::invalid_argument);
}

TEST(ShmStats, FormatStoresNamesAndPadsSlots) {
  const auto s = specs();
  const size_t bytes = StatsRegion::bytesFor(4, s);
  AlignedBuffer mem(bytes, 0xFF);
  void* base = mem.data;
  EXPECT_EQ(nullptr, StatsRegion::at(static_cast<const void*>(base)));  // garbage refused
  StatsRegion* r = StatsRegion::format(base, bytes, 4, s);
  ASSERT_EQ(r, StatsRegion::at(base));
  EXPECT_EQ(4u, r->slotCount());
  ASSERT_EQ(3u, r->serviceCount());
  EXPECT_EQ("http:www", r->serviceTitle(0));
  EXPECT_EQ("http", r->serviceProtocol(0));
  EXPECT_EQ("dns:main", r->serviceTitle(1));
  EXPECT_EQ(3u, r->counterCount(0));
  EXPECT_EQ(2u, r->counterCount(1));
  EXPECT_EQ(0u, r->counterCount(2));
  EXPECT_EQ("connections", r->counterName(0, 2));
  EXPECT_EQ(kGauge, r->counterKind(0, 2));
  EXPECT_EQ("nxdomain", r->counterName(1, 1));
  EXPECT_EQ(kCounter, r->counterKind(1, 1));
  EXPECT_EQ("", r->counterName(1, 2));  // out of range is empty, not a crash
  EXPECT_EQ("", r->serviceTitle(3));
  EXPECT_EQ(0u, r->read(4, 0, 0));

  for (unsigned slot = 0; slot < 4; ++slot) {
    for (unsigned svc = 0; svc < 3; ++svc) {
      uint64_t* c = r->counters(slot, svc);
      ASSERT_NE(nullptr, c);
      for (unsigned i = 0; i < r->counterCount(svc); ++i) EXPECT_EQ(0u, c[i]);
    }
    // Every slot starts on its own 128-byte boundary: no false sharing between workers.
    EXPECT_EQ(0, (reinterpret_cast<char*>(r->counters(slot, 0)) - static_cast<char*>(base)) % 128);
  }
  EXPECT_EQ(nullptr, r->counters(4, 0));
  EXPECT_EQ(nullptr, r->counters(0, 3));
  const auto* last = r->counters(3, 1) + r->counterCount(1);
  EXPECT_LE(reinterpret_cast<const char*>(last), static_cast<const char*>(base) + bytes);

  StatsRegion::add(r->counters(0, 0), 5);
  StatsRegion::add(r->counters(3, 0), 7);
  StatsRegion::add(r->counters(3, 0) + 1, 1000);
  StatsRegion::add(r->counters(1, 1) + 1, 2);
  EXPECT_EQ(5u, r->read(0, 0, 0));
  EXPECT_EQ(12u, r->sum(0, 0));
  EXPECT_EQ(1000u, r->sum(0, 1));
  EXPECT_EQ(2u, r->sum(1, 1));
  EXPECT_EQ(0u, r->sum(1, 0));
}

TEST(ShmStats, ResetGaugesLeavesCountersAlone) {
  const auto s = specs();
  const size_t bytes = StatsRegion::bytesFor(2, s);
  AlignedBuffer mem(bytes);
  StatsRegion* r = StatsRegion::format(mem.data, bytes, 2, s);
  uint64_t* http = r->counters(1, 0);
  StatsRegion::add(http, 10);
  StatsRegion::add(http + 2, 3);  // connections gauge
  StatsRegion::sub(http + 2, 1);
  StatsRegion::add(r->counters(0, 0) + 2, 4);
  EXPECT_EQ(6u, r->sum(0, 2));
  r->resetGauges(1);
  EXPECT_EQ(10u, r->read(1, 0, 0));
  EXPECT_EQ(0u, r->read(1, 0, 2));
  EXPECT_EQ(4u, r->read(0, 0, 2));  // other slots untouched
}

TEST(ShmStats, WorkerTableSlots) {
  const auto s = specs();
  const size_t bytes = StatsRegion::bytesFor(4, s);
  AlignedBuffer mem(bytes);
  StatsRegion* r = StatsRegion::format(mem.data, bytes, 4, s);
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(manifold::shm::kWorkerFree, r->readWorker(i).state);
  WorkerInfo& w = r->worker(2);
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(&w) % 64);
  EXPECT_EQ(64, reinterpret_cast<char*>(&r->worker(3)) - reinterpret_cast<char*>(&w));
  w.pid = 4242;
  w.index = 1;
  w.generation = 3;
  w.startedAtMs = 123456;
  w.restarts = 2;
  w.state = manifold::shm::kWorkerReady;
  const WorkerInfo copy = r->readWorker(2);
  EXPECT_EQ(4242, copy.pid);
  EXPECT_EQ(1u, copy.index);
  EXPECT_EQ(3u, copy.generation);
  EXPECT_EQ(123456u, copy.startedAtMs);
  EXPECT_EQ(2u, copy.restarts);
  EXPECT_STREQ("ready", manifold::shm::workerStateName(copy.state));
  EXPECT_EQ(0, r->readWorker(9).pid);
}

TEST(ShmStats, RegionIsAdoptedAcrossReloadWithSameServices) {
  TestSegment t;
  const auto s = specs();
  auto view =
      t.seg->ensureRegion("stats", StatsRegion::layoutKey(4, s), StatsRegion::bytesFor(4, s));
  ASSERT_FALSE(view.adopted);
  EXPECT_EQ(nullptr, StatsRegion::at(view.base));  // zero-filled: not formatted yet
  StatsRegion* r = StatsRegion::format(view.base, view.bytes, 4, s);
  StatsRegion::add(r->counters(2, 1), 99);

  auto again =
      t.seg->ensureRegion("stats", StatsRegion::layoutKey(4, s), StatsRegion::bytesFor(4, s));
  ASSERT_TRUE(again.adopted);
  const StatsRegion* kept = StatsRegion::at(static_cast<const void*>(again.base));
  ASSERT_NE(nullptr, kept);
  EXPECT_EQ(99u, kept->sum(1, 0));

  auto changed = specs();
  changed[1].counters.push_back({"servfail", kCounter});
  auto fresh = t.seg->ensureRegion("stats", StatsRegion::layoutKey(4, changed),
                                   StatsRegion::bytesFor(4, changed));
  EXPECT_FALSE(fresh.adopted);
  EXPECT_NE(again.base, fresh.base);
  // Old workers keep counting into the retired region meanwhile.
  EXPECT_EQ(99u, kept->sum(1, 0));
}

// Each child owns one slot and counts without atomic read-modify-write; the sum must be exact.
// The reader provably overlaps the writers: they wait until it has seen the zero state, pause
// halfway until it has checked the exact intermediate sums, and it samples all along, so a
// counter that is not visible live, or that ever goes back, fails here.
TEST(ShmStats, WorkersCountConcurrentlyInTheirOwnSlots) {
  TestSegment t;
  const auto s = specs();
  constexpr unsigned kWorkers = 4;
  constexpr uint64_t kIncrements = 200000;
  constexpr uint64_t kHalf = kIncrements / 2;
  auto view = t.seg->ensureRegion("stats", StatsRegion::layoutKey(kWorkers * 2, s),
                                  StatsRegion::bytesFor(kWorkers * 2, s));
  StatsRegion* r = StatsRegion::format(view.base, view.bytes, kWorkers * 2, s);
  auto reader = Segment::attach(t.name, true);
  const StatsRegion* ro = StatsRegion::at(reader->findRegion("stats"));
  ASSERT_NE(nullptr, ro);

  // The handshake between the reader and the writers, outside the region under test.
  struct Handshake {
    std::atomic<unsigned> started, halfway, done;
    std::atomic<bool> go, resume;
  };
  SharedMemory shared(sizeof(Handshake));
  auto* sync = new (shared.base) Handshake{};
  auto waitUntil = [](auto&& ready) {
    for (int spins = 0; spins < 10000000; ++spins) {
      if (ready()) return true;
      if (spins > 1000) usleep(10);
    }
    return false;
  };

  Reaper children;
  for (unsigned w = 0; w < kWorkers; ++w) {
    const pid_t pid = children.spawn([&, w] {
      const unsigned slot = w * 2 + 1;
      uint64_t* http = r->counters(slot, 0);
      uint64_t* dns = r->counters(slot, 1);
      auto count = [&](uint64_t from, uint64_t to) {
        for (uint64_t i = from; i < to; ++i) {
          StatsRegion::add(http, 1);
          StatsRegion::add(http + 1, 3);
          if (i % 2) StatsRegion::add(dns + 1, 1);
        }
      };
      ++sync->started;
      if (!waitUntil([&] { return sync->go.load(); })) return 1;
      count(0, kHalf);
      ++sync->halfway;
      if (!waitUntil([&] { return sync->resume.load(); })) return 2;
      count(kHalf, kIncrements);
      ++sync->done;
      return 0;
    });
    ASSERT_GT(pid, 0);
  }

  uint64_t last = 0, samples = 0;
  bool monotonic = true;
  auto sample = [&] {
    const uint64_t now = ro->sum(0, 0);
    monotonic = monotonic && now >= last;
    last = now;
    ++samples;
  };
  ASSERT_TRUE(waitUntil([&] { return sync->started.load() == kWorkers; }));
  EXPECT_EQ(0u, ro->sum(0, 0));  // every writer is alive and nothing is counted yet
  sync->go = true;
  ASSERT_TRUE(waitUntil([&] {
    sample();
    return sync->halfway.load() == kWorkers;
  }));
  // The writers are paused in the middle: the reader sees that exact intermediate state.
  EXPECT_EQ(kWorkers * kHalf, ro->sum(0, 0));
  EXPECT_EQ(3 * kWorkers * kHalf, ro->sum(0, 1));
  EXPECT_EQ(kWorkers * kHalf / 2, ro->sum(1, 1));
  EXPECT_EQ(kHalf, ro->read(3, 0, 0));
  sync->resume = true;
  ASSERT_TRUE(waitUntil([&] {
    sample();
    return sync->done.load() == kWorkers;
  }));
  sample();
  for (pid_t pid : std::vector<pid_t>(children.pids)) EXPECT_EQ(0, children.wait(pid));
  EXPECT_TRUE(monotonic) << samples << " samples";
  EXPECT_EQ(kWorkers * kIncrements, ro->sum(0, 0));
  EXPECT_EQ(3 * kWorkers * kIncrements, ro->sum(0, 1));
  EXPECT_EQ(kWorkers * kIncrements / 2, ro->sum(1, 1));
  EXPECT_EQ(kIncrements, ro->read(3, 0, 0));
  EXPECT_EQ(0u, ro->read(2, 0, 0));
}
