#include "worker/io_watcher.hpp"

#include <utility>

namespace manifold {

IoWatcher::IoWatcher(struct ev_loop* loop, Callback onReady)
    : loop_(loop), onReady_(std::move(onReady)) {
  ev_io_init(&watcher_, onIo, -1, EV_READ);
  watcher_.data = this;
}

void IoWatcher::start(int fd, int events) {
  ev_io_stop(loop_, &watcher_);
  ev_io_set(&watcher_, fd, events & (EV_READ | EV_WRITE));
  ev_io_start(loop_, &watcher_);
}

void IoWatcher::stop() { ev_io_stop(loop_, &watcher_); }

void IoWatcher::onIo(struct ev_loop*, ev_io* watcher, int events) {
  static_cast<IoWatcher*>(watcher->data)->onReady_(events & (EV_READ | EV_WRITE));
}

}  // namespace manifold
