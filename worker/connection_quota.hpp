// A cap on one service's open connections in a worker (DNS's tcp_max_connections, as NSD's
// tcp-count), below the worker-wide max_connections. At the cap the service's acceptors stop
// reading their listen sockets (new connections wait in the kernel backlog, or go to another
// worker) and resume when a counted connection closes.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace manifold {

class ConnectionQuota {
 public:
  explicit ConnectionQuota(size_t max) : max_(max) {}
  ConnectionQuota(const ConnectionQuota&) = delete;
  ConnectionQuota& operator=(const ConnectionQuota&) = delete;

  bool full() const { return open_ >= max_; }
  size_t open() const { return open_; }

  // Held by a connection's handler for its lifetime.
  class Slot {
   public:
    explicit Slot(ConnectionQuota& q) : q_(&q) { ++q_->open_; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { q_->release(); }

   private:
    ConnectionQuota* q_;
  };

  // Called (with arg) whenever a slot frees; acceptors register their resume here.
  void onRelease(void (*resume)(void*), void* arg) { waiters_.emplace_back(resume, arg); }
  void forget(void* arg) {
    std::erase_if(waiters_, [arg](const auto& w) { return w.second == arg; });
  }

 private:
  void release() {
    const bool wasFull = full();
    --open_;
    if (wasFull)
      for (auto& [resume, arg] : waiters_) resume(arg);
  }

  size_t max_;
  size_t open_ = 0;
  std::vector<std::pair<void (*)(void*), void*>> waiters_;
};

}  // namespace manifold
