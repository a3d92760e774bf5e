// shm/arena: allocation, coalescing, full, bad releases, a randomized run against a
// model, recovery after the lock holder died mid-update, and several processes at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "shm/arena.hpp"
#include "t/unit/shm_test_util.hpp"

using manifold::shm::Arena;

namespace {

using manifold::shm::testing::Reaper;
using manifold::shm::testing::SharedMemory;

// A MAP_SHARED anonymous mapping: shared with forked children like a shm region.

void fill(Arena* a, uint64_t off, size_t n, uint64_t seed) {
  auto* p = static_cast<unsigned char*>(a->ptr(off));
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(seed * 131 + i);
}

bool intact(const Arena* a, uint64_t off, size_t n, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(a->ptr(off));
  for (size_t i = 0; i < n; ++i)
    if (p[i] != static_cast<unsigned char>(seed * 131 + i)) return false;
  return true;
}

std::string checked(Arena* a) {
  std::string why;
  return a->check(&why) ? "ok" : why;
}

}  // namespace

TEST(ShmArena, FormatAndAt) {
  SharedMemory mem(1 << 20);
  EXPECT_EQ(nullptr, Arena::at(mem.base));
  Arena* a = Arena::format(mem.base, mem.bytes);
  EXPECT_EQ(a, Arena::at(mem.base));
  EXPECT_EQ(mem.bytes - Arena::headerBytes(), a->capacity());
  EXPECT_EQ(0u, a->used());
  EXPECT_EQ(Arena::bytesFor(a->capacity()), mem.bytes);
  EXPECT_EQ("ok", checked(a));
  EXPECT_THROW(Arena::format(mem.base, 100), std::invalid_argument);
}

TEST(ShmArena, AllocationsAreAlignedDisjointAndReusable) {
  SharedMemory mem(1 << 20);
  Arena* a = Arena::format(mem.base, mem.bytes);
  std::vector<std::pair<uint64_t, size_t>> live;
  const size_t sizes[] = {1, 15, 16, 17, 100, 1000, 4096, 5000, 65536};
  for (int round = 0; round < 3; ++round)
    for (size_t n : sizes) {
      const uint64_t off = a->allocate(n);
      ASSERT_NE(0u, off);
      EXPECT_EQ(0u, off % Arena::kAlign);
      EXPECT_GE(a->usableBytes(off), n);
      fill(a, off, n, live.size());
      live.emplace_back(off, n);
    }
  EXPECT_EQ(live.size(), a->allocations());
  EXPECT_GT(a->used(), 0u);
  for (size_t i = 0; i < live.size(); ++i)
    EXPECT_TRUE(intact(a, live[i].first, live[i].second, i)) << i;
  EXPECT_EQ("ok", checked(a));
  // Free every other one, then the rest: neighbours must merge back into one block.
  for (size_t i = 0; i < live.size(); i += 2) a->release(live[i].first);
  EXPECT_EQ("ok", checked(a));
  for (size_t i = 1; i < live.size(); i += 2) a->release(live[i].first);
  EXPECT_EQ(0u, a->used());
  EXPECT_EQ(0u, a->allocations());
  EXPECT_EQ("ok", checked(a));
  const uint64_t whole = a->allocate(a->maxAllocation());
  EXPECT_NE(0u, whole);
  EXPECT_EQ(a->capacity(), a->used());
  a->release(whole);
}

TEST(ShmArena, FullReturnsZeroUntilSomethingIsFreed) {
  SharedMemory mem(64 * 1024);
  Arena* a = Arena::format(mem.base, mem.bytes);
  EXPECT_EQ(0u, a->allocate(a->maxAllocation() + 1));
  EXPECT_EQ(0u, a->allocate(size_t{1} << 40));
  std::vector<uint64_t> offs;
  for (uint64_t off; (off = a->allocate(1000)) != 0;) offs.push_back(off);
  EXPECT_EQ(a->capacity() / 1024, offs.size());  // 1000 + 16 header, 16-aligned = 1024
  EXPECT_LE(a->used(), a->capacity());
  EXPECT_EQ(0u, a->allocate(1000));
  a->release(offs[offs.size() / 2]);
  EXPECT_NE(0u, a->allocate(1000));
  EXPECT_EQ(0u, a->allocate(1000));
  EXPECT_EQ("ok", checked(a));
}

TEST(ShmArena, BadReleasesAreIgnoredAndCounted) {
  SharedMemory mem(64 * 1024);
  Arena* a = Arena::format(mem.base, mem.bytes);
  const uint64_t x = a->allocate(100), y = a->allocate(100);
  a->release(x);
  a->release(x);              // double free
  a->release(y + 16);         // inside a block
  a->release(0);              // null
  a->release(mem.bytes * 2);  // out of range
  EXPECT_EQ(4u, a->badReleases());
  EXPECT_EQ(1u, a->allocations());
  EXPECT_EQ("ok", checked(a));
  a->release(y);
  EXPECT_EQ(0u, a->used());
}

TEST(ShmArena, RandomWorkloadKeepsDataAndStructure) {
  SharedMemory mem(2 << 20);
  Arena* a = Arena::format(mem.base, mem.bytes);
  std::mt19937_64 rng(12345);
  std::map<uint64_t, std::pair<size_t, uint64_t>> live;  // offset -> size, seed
  uint64_t seed = 0, failures = 0;
  for (int i = 0; i < 40000; ++i) {
    if (live.empty() || rng() % 100 < 55) {
      const size_t n = rng() % 8 == 0 ? 1 + rng() % 40000 : 1 + rng() % 600;
      const uint64_t off = a->allocate(n);
      if (!off) {
        ++failures;
        continue;
      }
      ASSERT_EQ(0u, live.count(off));
      fill(a, off, n, ++seed);
      live[off] = {n, seed};
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      ASSERT_TRUE(intact(a, it->first, it->second.first, it->second.second));
      a->release(it->first);
      live.erase(it);
    }
    if (i % 5000 == 0) {
      ASSERT_EQ("ok", checked(a)) << "step " << i;
    }
  }
  EXPECT_GT(failures, 0u);  // the workload did reach "full"
  for (const auto& [off, v] : live) ASSERT_TRUE(intact(a, off, v.first, v.second));
  EXPECT_EQ(live.size(), a->allocations());
  EXPECT_EQ("ok", checked(a));
}

// The child dies holding the arena lock after scribbling over free-list links, as if
// killed half-way through a split. The next locker must rebuild and carry on.
TEST(ShmArena, RebuildsAfterLockHolderIsKilled) {
  SharedMemory mem(256 * 1024);
  Arena* a = Arena::format(mem.base, mem.bytes);
  const uint64_t keep = a->allocate(100);
  const uint64_t gap = a->allocate(300);
  const uint64_t after = a->allocate(100);
  fill(a, keep, 100, 1);
  fill(a, after, 100, 2);
  a->release(gap);  // a free block between two used ones, linked in a bin
  Reaper children;
  const pid_t child = children.spawnHolding([&](const std::function<void()>& hold) {
    a->mutex().lock();
    auto* links = static_cast<uint64_t*>(a->ptr(gap));  // nextFree, prevFree of the free block
    links[0] = 0xDEADBEEF0;
    links[1] = 0x123;
    hold();
  });
  ASSERT_GT(child, 0);
  EXPECT_EQ(128 + SIGKILL, children.killNow(child));

  std::vector<uint64_t> offs;
  for (int i = 0; i < 50; ++i) {
    const uint64_t off = a->allocate(200);
    ASSERT_NE(0u, off);
    offs.push_back(off);
  }
  EXPECT_EQ(1u, a->recoveries());
  EXPECT_EQ("ok", checked(a));
  EXPECT_TRUE(intact(a, keep, 100, 1));
  EXPECT_TRUE(intact(a, after, 100, 2));
  for (uint64_t off : offs) a->release(off);
  a->release(keep);
  a->release(after);
  EXPECT_EQ(0u, a->used());
  EXPECT_EQ("ok", checked(a));
  EXPECT_EQ(1u, a->recoveries());
}

// Several processes allocate and free at once; some are SIGKILLed mid-run. Afterwards the
// arena must be structurally sound and every block the survivors kept intact.
TEST(ShmArena, ConcurrentProcessesAndKills) {
  SharedMemory mem(4 << 20);
  Arena* a = Arena::format(mem.base, mem.bytes);
  constexpr int kChildren = 4;
  Reaper children;
  for (int c = 0; c < kChildren; ++c) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const bool victim = c % 2 == 1;  // killed by the parent; never exits on its own
      std::mt19937_64 rng(static_cast<uint64_t>(c) * 7919);
      std::vector<std::pair<uint64_t, uint64_t>> mine;
      for (uint64_t i = 0; victim || i < 30000; ++i) {
        if (mine.size() < 64 && rng() % 2) {
          const size_t n = 1 + rng() % 2000;
          const uint64_t off = a->allocate(n);
          if (!off) continue;
          fill(a, off, 64 < n ? 64 : n, off);
          mine.emplace_back(off, 64 < n ? 64 : n);
        } else if (!mine.empty()) {
          const size_t k = rng() % mine.size();
          if (!intact(a, mine[k].first, mine[k].second, mine[k].first)) _exit(10);
          a->release(mine[k].first);
          mine[k] = mine.back();
          mine.pop_back();
        }
      }
      for (auto& [off, n] : mine)
        if (!intact(a, off, n, off)) _exit(11);
      _exit(0);
    }
    children.pids.push_back(pid);
  }
  usleep(150 * 1000);
  for (int c = 1; c < kChildren; c += 2) {
    kill(children.pids[static_cast<size_t>(c)], SIGKILL);
  }
  for (pid_t pid : std::vector<pid_t>(children.pids)) {
    const int rc = children.wait(pid);
    EXPECT_TRUE(rc == 0 || rc == 128 + SIGKILL) << rc;
  }
  EXPECT_EQ("ok", checked(a));
  // Whatever the dead left allocated is still accounted for; the rest is reusable.
  const uint64_t big = a->allocate(a->capacity() / 2);
  EXPECT_NE(0u, big);
  EXPECT_EQ("ok", checked(a));
}
