// Unit tests of the loop pieces protocols use instead of libev (worker/timer.*, io_watcher.*),
// on a real libev loop.
#include <ev.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker/clock.hpp"
#include "worker/io_watcher.hpp"
#include "worker/timer.hpp"

using manifold::IoWatcher;
using manifold::Timer;

TEST(WorkerTimer, OnceFiresOnceNoEarlierThanAsked) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  int fired = 0;
  Timer t(loop, [&] { ++fired; });
  const uint64_t start = manifold::clock::monotonicNs();
  t.once(0.02);
  EXPECT_TRUE(t.active());
  ev_run(loop, 0);  // returns when no watcher is left
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.active());
  EXPECT_GE(manifold::clock::monotonicNs() - start, 19'000'000u);  // libev rounds to 1 ms
  ev_loop_destroy(loop);
}

TEST(WorkerTimer, RepeatsUntilStoppedFromItsCallback) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  int fired = 0;
  Timer r(loop, [&] {
    if (++fired == 3) r.stop();
  });
  r.repeat(0.005, 0);
  ev_run(loop, 0);
  EXPECT_EQ(fired, 3);
  ev_loop_destroy(loop);
}

TEST(WorkerTimer, WeakTimerDoesNotKeepTheLoopAlive) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  int weakFired = 0, fired = 0;
  Timer weak(loop, [&] { ++weakFired; });
  weak.keepsLoopAlive(false);
  weak.repeat(10);  // far in the future: the loop must end without waiting for it
  Timer strong(loop, [&] { ++fired; });
  strong.once(0.01);
  const uint64_t start = manifold::clock::monotonicNs();
  ev_run(loop, 0);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(weakFired, 0);
  EXPECT_LT(manifold::clock::monotonicNs() - start, 2'000'000'000u);
  EXPECT_TRUE(weak.active());
  weak.stop();
  // A weak one-shot that fires gives its reference back: the loop still ends afterwards.
  weak.once(0.001);
  strong.once(0.02);
  ev_run(loop, 0);
  EXPECT_EQ(weakFired, 1);
  EXPECT_EQ(fired, 2);
  ev_loop_destroy(loop);
}

TEST(WorkerTimer, DestroyedInsideItsCallback) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  int fired = 0;
  Timer* t = nullptr;
  t = new Timer(loop, [&] {
    ++fired;
    delete t;  // a session that ends on its own timeout
  });
  t->repeat(0.001, 0);
  ev_run(loop, 0);  // would not return (or would crash) if the timer outlived its callback
  EXPECT_EQ(fired, 1);
  ev_loop_destroy(loop);
}

TEST(WorkerIoWatcher, ReadReadinessAndStop) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, fds), 0);
  int reads = 0;
  IoWatcher w(loop, [&](int events) {
    EXPECT_TRUE(events & IoWatcher::kRead);
    char buf[8];
    while (read(fds[0], buf, sizeof buf) > 0) ++reads;
    if (reads == 2) w.stop();
  });
  w.start(fds[0], IoWatcher::kRead);
  EXPECT_EQ(w.fd(), fds[0]);
  ASSERT_EQ(write(fds[1], "a", 1), 1);
  ASSERT_EQ(write(fds[1], "b", 1), 1);
  ev_run(loop, 0);
  EXPECT_EQ(reads, 2);
  EXPECT_FALSE(w.active());
  close(fds[0]);
  close(fds[1]);
  ev_loop_destroy(loop);
}
