// A timer on a worker's loop: one-shot or repeating, with a callback. Protocols use this instead
// of libev's ev_timer, so none of them needs <ev.h> or a static trampoline.
//
// Resolution: libev's epoll backend sleeps in whole milliseconds, so a timer fires no earlier
// than asked but may fire up to ~1 ms late (more under load: callbacks run between I/O events).
// Times are seconds (double) on the loop's clock, which is cached per loop iteration: now() costs
// no syscall and is the same for every callback of one iteration.
//
// Cost: the callback is a std::function; a lambda capturing one or two pointers fits its small
// buffer, so arming, re-arming and stopping never allocate (per-session timers are fine).
// The callback may stop, re-arm or destroy the Timer itself.
#pragma once

#include <ev.h>

#include <functional>

namespace manifold {

class Timer {
 public:
  using Callback = std::function<void()>;

  Timer(struct ev_loop* loop, Callback onFire);
  ~Timer() { stop(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires once, `after` seconds from now (re-arming an active timer moves it).
  void once(double after);
  // Fires every `interval` seconds, the first time after `firstAfter` (default: one interval).
  void repeat(double interval, double firstAfter = -1);
  // Re-arms a repeating timer's next firing one interval from now (idle timeouts).
  void again();
  void stop();
  bool active() const { return ev_is_active(&watcher_); }
  // Seconds until it fires (0 if inactive).
  double remaining() const;
  double now() const { return ev_now(loop_); }
  // A background timer (log flushes, cleaners) must not keep a draining worker's loop alive:
  // with false, the loop may end while this timer is still armed.
  void keepsLoopAlive(bool keeps);
  struct ev_loop* loop() const {
    return loop_;
  }

 private:
  static void onTimer(struct ev_loop*, ev_timer* watcher, int);
  void arm();

  struct ev_loop* loop_;
  Callback onFire_;
  ev_timer watcher_;
  bool weak_ = false;  // ev_unref'd while active
};

}  // namespace manifold
