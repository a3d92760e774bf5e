#include "worker/timer.hpp"

#include <utility>

namespace manifold {

Timer::Timer(struct ev_loop* loop, Callback onFire) : loop_(loop), onFire_(std::move(onFire)) {
  ev_timer_init(&watcher_, onTimer, 0., 0.);
  watcher_.data = this;
}

// libev counts an active watcher as a loop reference; a weak timer gives its reference back
// while active (ev_unref after start, ev_ref before stop, as libev's manual prescribes).
void Timer::arm() {
  ev_timer_start(loop_, &watcher_);
  if (weak_) ev_unref(loop_);
}

void Timer::once(double after) {
  stop();
  ev_timer_set(&watcher_, after < 0 ? 0. : after, 0.);
  arm();
}

void Timer::repeat(double interval, double firstAfter) {
  stop();
  ev_timer_set(&watcher_, firstAfter < 0 ? interval : firstAfter, interval);
  arm();
}

void Timer::again() {
  const bool was = active();
  if (was && weak_) ev_ref(loop_);
  ev_timer_again(loop_, &watcher_);
  if (active() && weak_) ev_unref(loop_);
}

void Timer::stop() {
  if (!active()) return;
  if (weak_) ev_ref(loop_);
  ev_timer_stop(loop_, &watcher_);
}

void Timer::keepsLoopAlive(bool keeps) {
  if (weak_ == !keeps) return;
  if (active()) {
    if (keeps)
      ev_ref(loop_);
    else
      ev_unref(loop_);
  }
  weak_ = !keeps;
}

double Timer::remaining() const {
  return active() ? ev_timer_remaining(loop_, const_cast<ev_timer*>(&watcher_)) : 0.;
}

void Timer::onTimer(struct ev_loop*, ev_timer* watcher, int) {
  auto* self = static_cast<Timer*>(watcher->data);
  // libev stopped a one-shot timer before calling us: give back the reference it had taken.
  if (self->weak_ && !self->active()) ev_ref(self->loop_);
  // The callback may destroy this Timer: touch nothing after it.
  self->onFire_();
}

}  // namespace manifold
