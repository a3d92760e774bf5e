// Tier: unit (shm, multi-process) — shm/ring: records cross processes in order, a full ring drops
// and counts instead of blocking, wrap-around padding, the wake-up contract with an eventfd.
#include <gtest/gtest.h>
#include <poll.h>

#include <cstring>
#include <string>
#include <vector>

#include "shm/ring.hpp"
#include "t/unit/shm_test_util.hpp"

using namespace manifold::shm;
using manifold::shm::testing::Reaper;
using manifold::shm::testing::SharedMemory;

TEST(ShmRing, RecordsInOrderAcrossTheEnd) {
  SharedMemory mem(Ring::bytesFor(256));
  Ring* r = Ring::format(mem.base, 256);
  ASSERT_EQ(Ring::at(mem.base), r);
  std::vector<std::string> got;
  bool wake = false;
  // 40-byte records (44 with the length, 48 padded): the fifth wraps with a skip marker.
  for (int round = 0; round < 20; ++round) {
    std::string a(20, static_cast<char>('a' + round)), b(20, 'x');
    ASSERT_TRUE(r->push({a, b}, wake));
    EXPECT_TRUE(wake);  // the consumer had drained everything: it may sleep
    ASSERT_TRUE(r->push({"second"}, wake));
    EXPECT_FALSE(wake);  // it has not consumed the first yet
    got.clear();
    EXPECT_EQ(r->drain([&](std::string_view rec) { got.emplace_back(rec); }), 2u);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], a + b);
    EXPECT_EQ(got[1], "second");
  }
  EXPECT_EQ(r->queuedBytes(), 0u);
  EXPECT_EQ(r->drops(), 0u);
}

TEST(ShmRing, FullRingDropsAndCounts) {
  SharedMemory mem(Ring::bytesFor(256));
  Ring* r = Ring::format(mem.base, 256);
  bool wake;
  int accepted = 0;
  for (int i = 0; i < 20; ++i) accepted += r->push({std::string(56, 'z')}, wake);
  EXPECT_EQ(accepted, 4);  // 64 bytes each
  EXPECT_EQ(r->drops(), 16u);
  EXPECT_EQ(r->highWater(), 256u);
  EXPECT_FALSE(r->push({std::string(65, 'z')}, wake));  // above maxRecord
  EXPECT_EQ(r->drain([](std::string_view) {}), 4u);
  EXPECT_TRUE(r->push({std::string(56, 'z')}, wake));
}

TEST(ShmRing, ProducersInOtherProcessesWakeTheConsumer) {
  constexpr uint32_t kCapacity = 4096;
  constexpr int kProducers = 3, kEach = 5000;
  SharedMemory mem(RingArray::bytesFor(2, kCapacity));
  RingArray* rings = RingArray::format(mem.base, 2, kCapacity);
  Ring* r = rings->ring(1);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(rings->ring(2), nullptr);
  const int fd = makeWakeFd();
  ASSERT_GE(fd, 0);
  Reaper reaper;
  for (int p = 0; p < kProducers; ++p) {
    reaper.spawn([&, p] {
      char rec[24];  // room for any int, as -Wformat-truncation asks
      for (int i = 0; i < kEach;) {
        std::snprintf(rec, sizeof rec, "%d:%07d", p, i);
        bool w;
        if (r->push({rec}, w)) {
          ++i;
          if (w) wake(fd);
        } else {
          usleep(100);  // the test's producer retries; the tracker drops instead
        }
      }
      return 0;
    });
  }
  int next[kProducers] = {0, 0, 0};
  int total = 0;
  bool ordered = true;
  while (total < kProducers * kEach) {
    pollfd pfd{fd, POLLIN, 0};
    // Sleep only on the eventfd: a lost wake-up would stall here until the 20 s bound.
    ASSERT_EQ(poll(&pfd, 1, 20000), 1) << "no wake-up after " << total << " records";
    clearWake(fd);
    total += static_cast<int>(r->drain([&](std::string_view rec) {
      int p = rec[0] - '0', i = std::atoi(std::string(rec.substr(2)).c_str());
      if (p < 0 || p >= kProducers || next[p] != i)
        ordered = false;
      else
        ++next[p];
    }));
  }
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(reaper.wait(reaper.pids.front()), 0);
  EXPECT_TRUE(ordered);
  EXPECT_EQ(total, kProducers * kEach);
  EXPECT_EQ(r->pushed(), uint64_t{kProducers * kEach});
  EXPECT_LE(r->highWater(), kCapacity);
  close(fd);
}
