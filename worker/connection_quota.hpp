// A cap on one service's open connections in a worker (DNS's tcp_max_connections, as NSD's
// tcp-count), below the worker-wide max_connections.
//
// At the cap, an acceptor first asks the quota to make room: the connection that has been idle
// longest (between messages, nothing half received) is closed for the new one, so slow or idle
// clients cannot hold every slot while real queries wait (issue #11.1). Only when every counted
// connection is busy do the service's acceptors stop reading their listen sockets (new
// connections wait in the kernel backlog, or go to another worker); they resume when a counted
// connection closes.
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

  bool full() const { return slots_.size() >= max_; }
  size_t open() const { return slots_.size(); }

  // Held by a connection's handler for its lifetime.
  class Slot {
   public:
    explicit Slot(ConnectionQuota& q) : q_(&q) {
      index_ = q_->slots_.size();
      q_->slots_.push_back(this);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { q_->release(this); }

    // How to close this connection when room is needed (e.g. Connection::close). Until it is
    // set, the connection is never evicted.
    void onEvict(void (*evict)(void*), void* arg) {
      evict_ = evict;
      arg_ = arg;
    }
    // Idle since `since` (loop time), between messages: may be evicted. busy: it may not.
    void setIdle(double since) {
      idle_ = true;
      idleSince_ = since;
    }
    void setBusy() { idle_ = false; }

   private:
    friend class ConnectionQuota;
    ConnectionQuota* q_;
    size_t index_ = 0;
    void (*evict_)(void*) = nullptr;
    void* arg_ = nullptr;
    double idleSince_ = 0;
    bool idle_ = true;
  };

  // True if evictOldestIdle() would find a connection to close.
  bool canMakeRoom() const {
    for (const Slot* s : slots_)
      if (s->idle_ && s->evict_) return true;
    return false;
  }

  // At the cap: closes the longest-idle evictable connection. True if one was closed (its slot
  // is free now). O(open connections), paid only at the cap.
  bool evictOldestIdle() {
    Slot* oldest = nullptr;
    for (Slot* s : slots_)
      if (s->idle_ && s->evict_ && (!oldest || s->idleSince_ < oldest->idleSince_)) oldest = s;
    if (!oldest) return false;
    ++evictions_;
    oldest->evict_(oldest->arg_);  // destroys the handler, and with it the slot
    return true;
  }
  size_t evictions() const { return evictions_; }

  // Called (with arg) whenever a slot frees; acceptors register their resume here.
  void onRelease(void (*resume)(void*), void* arg) { waiters_.emplace_back(resume, arg); }
  void forget(void* arg) {
    std::erase_if(waiters_, [arg](const auto& w) { return w.second == arg; });
  }

 private:
  void release(Slot* slot) {
    const bool wasFull = full();
    // O(1) removal: the last slot takes the hole.
    slots_[slot->index_] = slots_.back();
    slots_[slot->index_]->index_ = slot->index_;
    slots_.pop_back();
    if (wasFull)
      for (auto& [resume, arg] : waiters_) resume(arg);
  }

  size_t max_;
  size_t evictions_ = 0;
  std::vector<Slot*> slots_;
  std::vector<std::pair<void (*)(void*), void*>> waiters_;
};

}  // namespace manifold
