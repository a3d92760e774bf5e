// Per-worker shared state that every service uses: the loop, the worker's identity, a cached
// clock, a buffer free list, the connection cap, and the drain flag.
#pragma once

#include <ev.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace manifold {

class Connection;

class WorkerRuntime {
 public:
  WorkerRuntime(struct ev_loop* loop, unsigned index, unsigned count, unsigned maxConnections);

  struct ev_loop* loop() const {
    return loop_;
  }
  unsigned index() const { return index_; }
  unsigned count() const { return count_; }
  // Instance-wide background work (health checks, NOTIFY, cleaners, repair) runs in exactly one
  // worker of each generation; this is the one place that decides which. Services ask this
  // instead of testing an index. (Today: index 0. During a reload the old generation's
  // designated worker stops its tasks in stopAccepting() while the new one starts them.)
  bool runsInstanceTasks() const { return index_ == 0; }

  // Seconds since the epoch from the loop's cached time: no syscall per request.
  time_t now() const { return static_cast<time_t>(ev_now(loop_)); }
  // The same cached time with its fraction (intervals below a second: file revalidation).
  double loopTime() const { return ev_now(loop_); }

  // Buffers for connections: taken at accept, returned at close, capacity kept.
  std::string takeBuffer();
  void giveBuffer(std::string&& buffer);
  // Input buffers keep their size (the read space) so taking one costs no zero-fill.
  std::string takeInputBuffer();
  void giveInputBuffer(std::string&& buffer);

  // Connection accounting across all TCP services of this worker.
  unsigned connections() const { return connections_; }
  unsigned maxConnections() const { return maxConnections_; }
  bool atConnectionLimit() const { return connections_ >= maxConnections_; }
  void connectionOpened(Connection* conn);
  void connectionClosed(Connection* conn);
  // Callback for acceptors paused at the limit.
  void onCapacity(void (*resume)(void*), void* arg);

  // Graceful stop: set once; connections then close as soon as they are idle.
  bool draining() const { return draining_; }
  void startDraining();
  size_t openConnections() const { return live_.size(); }

 private:
  struct ev_loop* loop_;
  unsigned index_;
  unsigned count_;
  unsigned maxConnections_;
  unsigned connections_ = 0;
  bool draining_ = false;
  std::vector<std::string> freeBuffers_;
  std::vector<std::string> freeInputBuffers_;
  std::vector<Connection*> live_;  // for closing idle ones on drain
  std::vector<std::pair<void (*)(void*), void*>> resumers_;
};

}  // namespace manifold
