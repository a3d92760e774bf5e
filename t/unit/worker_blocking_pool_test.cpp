// Unit tests of worker/blocking_pool.*: jobs run off the loop, `done` runs on the loop thread,
// the in-flight bound, an idle pool not keeping the loop alive, and cancellation on destruction.
#include <ev.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "worker/blocking_pool.hpp"
#include "worker/timer.hpp"

using manifold::BlockingPool;

TEST(WorkerBlockingPool, WorkRunsOffTheLoopAndDoneOnIt) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  const auto loopThread = std::this_thread::get_id();
  {
    BlockingPool pool(loop, 2, 3);
    std::atomic<int> worked{0};
    int done = 0;
    bool offLoop = true, onLoop = true;
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(pool.submit(
          [&](const std::atomic<bool>&) {
            if (std::this_thread::get_id() == loopThread) offLoop = false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ++worked;
          },
          [&] {
            if (std::this_thread::get_id() != loopThread) onLoop = false;
            ++done;
          }));
    EXPECT_FALSE(pool.submit([](const std::atomic<bool>&) {}, [] {}));  // bound reached
    EXPECT_EQ(pool.inFlight(), 3u);
    // The loop keeps running while jobs are in flight, and ends once they are done.
    ev_run(loop, 0);
    EXPECT_EQ(worked.load(), 3);
    EXPECT_EQ(done, 3);
    EXPECT_TRUE(offLoop);
    EXPECT_TRUE(onLoop);
    EXPECT_EQ(pool.inFlight(), 0u);
    // Idle: it does not hold the loop, and accepts work again.
    ev_run(loop, 0);
    bool again = false;
    ASSERT_TRUE(pool.submit([](const std::atomic<bool>&) {}, [&] { again = true; }));
    ev_run(loop, 0);
    EXPECT_TRUE(again);
  }
  ev_loop_destroy(loop);
}

TEST(WorkerBlockingPool, DestructionCancelsRunningWorkAndDropsDone) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  std::atomic<bool> started{false}, sawCancel{false};
  bool done = false;
  {
    BlockingPool pool(loop, 1, 2);
    ASSERT_TRUE(pool.submit(
        [&](const std::atomic<bool>& cancelled) {
          started = true;
          while (!cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          sawCancel = true;
        },
        [&] { done = true; }));
    ASSERT_TRUE(pool.submit([](const std::atomic<bool>&) { FAIL() << "queued work ran"; },
                            [&] { done = true; }));
    while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }  // joins
  EXPECT_TRUE(sawCancel.load());
  ev_run(loop, EVRUN_NOWAIT);
  EXPECT_FALSE(done);
  ev_loop_destroy(loop);
}
