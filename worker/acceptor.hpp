// Accepts TCP connections on one listening socket: an accept4 loop per wake, TCP_NODELAY,
// the worker's connection cap (pauses at the limit, resumes when a connection closes), and a
// short pause on EMFILE/ENFILE instead of a busy loop.
#pragma once

#include <functional>
#include <memory>

#include "worker/connection.hpp"
#include "worker/io_watcher.hpp"
#include "worker/timer.hpp"

namespace manifold {

class ConnectionQuota;

class WorkerRuntime;

class Acceptor {
 public:
  using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(Connection&)>;
  // `quota` (optional, outlives the acceptor): the service's own connection cap.
  Acceptor(WorkerRuntime& runtime, int listenFd, HandlerFactory factory,
           ConnectionQuota* quota = nullptr);
  ~Acceptor();
  void start();
  void stop();  // graceful stop: no more accepts; the socket stays open (the master owns it)

 private:
  void onRetry();
  static void resume(void* self);
  void acceptSome();
  bool atLimit() const;  // at the worker cap, or the service cap with no idle one to evict

  WorkerRuntime& runtime_;
  int fd_;
  HandlerFactory factory_;
  ConnectionQuota* quota_;
  IoWatcher io_;
  Timer retry_;
  bool stopped_ = true;
};

}  // namespace manifold
