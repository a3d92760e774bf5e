#include "worker/timer.hpp"

#include <utility>

namespace manifold {

Timer::Timer(struct ev_loop* loop, Callback onFire) : loop_(loop), onFire_(std::move(onFire)) {
  ev_timer_init(&watcher_, onTimer, 0., 0.);
  watcher_.data = this;
}

void Timer::once(double after) {
  ev_timer_stop(loop_, &watcher_);
  ev_timer_set(&watcher_, after < 0 ? 0. : after, 0.);
  ev_timer_start(loop_, &watcher_);
}

void Timer::repeat(double interval, double firstAfter) {
  ev_timer_stop(loop_, &watcher_);
  ev_timer_set(&watcher_, firstAfter < 0 ? interval : firstAfter, interval);
  ev_timer_start(loop_, &watcher_);
}

void Timer::again() { ev_timer_again(loop_, &watcher_); }

void Timer::stop() { ev_timer_stop(loop_, &watcher_); }

double Timer::remaining() const {
  return active() ? ev_timer_remaining(loop_, const_cast<ev_timer*>(&watcher_)) : 0.;
}

void Timer::onTimer(struct ev_loop*, ev_timer* watcher, int) {
  // The callback may destroy this Timer: touch nothing after it.
  static_cast<Timer*>(watcher->data)->onFire_();
}

}  // namespace manifold
