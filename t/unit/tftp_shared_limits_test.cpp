// Tier: unit (shm, multi-process) — TFTP's instance-wide limits: the session caps and the rate
// buckets shared by every worker through one region, and a killed worker's sessions given back.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "protocols/tftp/rate_limit.hpp"
#include "protocols/tftp/session_caps.hpp"

using namespace manifold::tftp;

namespace {
// A shared anonymous mapping stands in for the segment's region: it survives fork.
struct SharedRegion {
  explicit SharedRegion(size_t bytes) : bytes(bytes) {
    base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  ~SharedRegion() { munmap(base, bytes); }
  size_t bytes;
  void* base;
};
}  // namespace

TEST(TftpSessionCaps, TotalAndPerSourceCapsSpanInstances) {
  SharedRegion r(SessionCaps::regionBytes());
  SessionCaps::formatRegion(r.base, r.bytes, false);
  SessionCaps a(r.base, 0, 5, 3), b(r.base, 1, 5, 3);  // two workers
  ASSERT_TRUE(a.shared() && b.shared());
  EXPECT_EQ(a.acquire(1), SessionCaps::Verdict::Ok);
  EXPECT_EQ(b.acquire(1), SessionCaps::Verdict::Ok);
  EXPECT_EQ(a.acquire(1), SessionCaps::Verdict::Ok);
  EXPECT_EQ(b.acquire(1), SessionCaps::Verdict::SourceBusy);  // 3 from source 1 in all
  EXPECT_EQ(b.acquire(2), SessionCaps::Verdict::Ok);
  EXPECT_EQ(a.acquire(3), SessionCaps::Verdict::Ok);
  EXPECT_EQ(b.acquire(4), SessionCaps::Verdict::Busy);  // 5 in all
  a.release(1);
  EXPECT_EQ(b.acquire(4), SessionCaps::Verdict::Ok);
  EXPECT_EQ(b.acquire(1), SessionCaps::Verdict::Busy);
}

TEST(TftpSessionCaps, ADeadWorkersSessionsAreGivenBack) {
  SharedRegion r(SessionCaps::regionBytes());
  SessionCaps::formatRegion(r.base, r.bytes, false);
  pid_t child = fork();
  if (child == 0) {
    SessionCaps dying(r.base, 0, 4, 4);
    for (int i = 0; i < 4; ++i) dying.acquire(7);
    _exit(0);  // no destructor: as if killed
  }
  int status = 0;
  waitpid(child, &status, 0);
  {
    SessionCaps survivor(r.base, 1, 4, 4);
    EXPECT_EQ(survivor.acquire(7), SessionCaps::Verdict::Busy);  // the dead one's still count
    survivor.reclaimDead();                                      // the instance-task sweep
    for (int i = 0; i < 4; ++i) EXPECT_EQ(survivor.acquire(7), SessionCaps::Verdict::Ok) << i;
  }
  child = fork();
  if (child == 0) {
    SessionCaps dying(r.base, 0, 4, 4);
    for (int i = 0; i < 4; ++i) dying.acquire(7);
    _exit(0);
  }
  waitpid(child, &status, 0);
  {
    SessionCaps respawned(r.base, 0, 4, 4);  // takes the dead worker's slot: forgets its counts
    EXPECT_EQ(respawned.acquire(7), SessionCaps::Verdict::Ok);
  }
  // A region adopted on reload keeps its layout; a released slot counts nothing.
  SessionCaps::formatRegion(r.base, r.bytes, true);
  SessionCaps next(r.base, 2, 1, 1);
  EXPECT_EQ(next.acquire(7), SessionCaps::Verdict::Ok);
}

TEST(TftpSessionCaps, WithoutARegionCountsThisProcess) {
  SessionCaps alone(nullptr, 0, 2, 1);
  EXPECT_FALSE(alone.shared());
  EXPECT_EQ(alone.acquire(1), SessionCaps::Verdict::Ok);
  EXPECT_EQ(alone.acquire(1), SessionCaps::Verdict::SourceBusy);
  EXPECT_EQ(alone.acquire(2), SessionCaps::Verdict::Ok);
  EXPECT_EQ(alone.acquire(3), SessionCaps::Verdict::Busy);
}

TEST(TftpRateLimit, BucketIsSharedThroughTheRegion) {
  SharedRegion r(SourceRateLimiter::regionBytes());
  SourceRateLimiter::formatRegion(r.base, r.bytes, false);
  SourceRateLimiter a(10, 4, r.base), b(10, 4, r.base);
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += a.allow(42, 50.0) + b.allow(42, 50.0);
  EXPECT_EQ(allowed, 4);  // one burst for both workers
  EXPECT_TRUE(b.allow(43, 50.0));
  EXPECT_TRUE(a.allow(42, 50.1));  // refilled one token in 0.1 s
  EXPECT_FALSE(b.allow(42, 50.1));
}
