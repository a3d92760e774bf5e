// A few threads for blocking work that must not run on a worker's loop (compressing a large
// file for the gzip store), after nginx's `aio threads`. The loop hands a job over with
// submit(); a pool thread runs its `work`; the loop thread then runs its `done` (an eventfd
// wakes the loop), so results are installed where the rest of the worker's state lives.
//
// Contract:
//  - Bounded: at most `maxJobs` jobs are queued or running; submit() past that returns false
//    and the caller carries on without the job (no unbounded queue).
//  - `work` runs on a pool thread: it must not touch loop state, call libev or log (it returns
//    what it found for `done` to act on). It receives the pool's cancel flag: a long job checks
//    it between steps and stops early, cleaning up after itself.
//  - `done` runs on the loop thread after its `work` returned, unless the pool was destroyed
//    first. It may submit again.
//  - Draining: the pool does not keep a loop alive by itself when idle (its wake-up watcher runs
//    only while jobs are in flight). Destroying the pool cancels: queued jobs are dropped,
//    running ones see the flag, the threads are joined, and no `done` runs afterwards.
//  - Pool threads run at a lower priority (nice + 5) than the loop thread.
//  - Threads start on the first submit() (a worker that never needs them has none), after
//    fork, so the prefork model is unaffected.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "worker/io_watcher.hpp"

struct ev_loop;

namespace manifold {

class BlockingPool {
 public:
  using Work = std::function<void(const std::atomic<bool>& cancelled)>;
  using Done = std::function<void()>;

  BlockingPool(struct ev_loop* loop, unsigned threads, unsigned maxJobs);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `work`; false (nothing queued) when maxJobs are in flight or threads cannot start.
  bool submit(Work work, Done done);
  unsigned inFlight() const { return inFlight_; }  // queued, running or awaiting `done`

 private:
  struct Job {
    Work work;
    Done done;
  };
  bool startThreads();
  void run();     // a pool thread
  void onWake();  // the loop thread: runs finished jobs' `done`

  unsigned threadCount_, maxJobs_;
  unsigned inFlight_ = 0;  // loop thread only
  int wakeFd_ = -1;        // eventfd
  IoWatcher wake_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queued_;      // guarded by mutex_
  std::vector<Job> finished_;   // guarded by mutex_
  std::vector<Job> finishing_;  // loop thread: swapped out of finished_
  std::atomic<bool> cancelled_{false};
};

}  // namespace manifold
