// Readiness of one fd on a worker's loop, with a callback: what protocols use instead of libev's
// ev_io (UDP session sockets, raw ICMP, outbound probes). Level-triggered, as libev's epoll
// backend: the callback runs while the fd stays ready, so read until EAGAIN or stop.
// The callback may change, stop or destroy the watcher.
#pragma once

#include <ev.h>

#include <functional>

namespace manifold {

class IoWatcher {
 public:
  enum : int { kRead = EV_READ, kWrite = EV_WRITE };
  using Callback = std::function<void(int events)>;  // events: kRead and/or kWrite

  IoWatcher(struct ev_loop* loop, Callback onReady);
  ~IoWatcher() { stop(); }
  IoWatcher(const IoWatcher&) = delete;
  IoWatcher& operator=(const IoWatcher&) = delete;

  // Watches fd for `events` (kRead, kWrite or both); replaces what was watched before.
  void start(int fd, int events);
  void stop();
  bool active() const { return ev_is_active(&watcher_); }
  int fd() const { return watcher_.fd; }
  int events() const { return watcher_.events & (EV_READ | EV_WRITE); }

 private:
  static void onIo(struct ev_loop*, ev_io* watcher, int events);

  struct ev_loop* loop_;
  Callback onReady_;
  ev_io watcher_;
};

}  // namespace manifold
