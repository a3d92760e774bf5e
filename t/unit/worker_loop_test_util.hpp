// Helpers shared by the worker tests that drive connections on a real libev loop.
#pragma once

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "worker/clock.hpp"
#include "worker/connection.hpp"
#include "worker/runtime.hpp"
#include "worker/timer.hpp"

namespace manifold::testing {

// A loop and the worker runtime around it. Tests close their connections (Connection::close)
// before it goes.
struct LoopFixture {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  WorkerRuntime runtime{loop, 0, 1, 1000};
  ~LoopFixture() { ev_loop_destroy(loop); }
  // Turns the loop until `done` (called once per turn) returns true or `seconds` pass.
  bool runUntil(const std::function<bool()>& done, double seconds = 2) {
    Timer tick(loop, [] {});
    tick.repeat(0.005);
    double end = clock::monotonicSeconds() + seconds;
    for (;;) {
      if (done()) return true;
      if (clock::monotonicSeconds() >= end) return false;
      ev_run(loop, EVRUN_ONCE);
    }
  }
};

// A Connection made from `args` (its constructor's) and started with `handler`; a peer address
// of `family` (only the family is read).
template <class... Args>
Connection* startedConnection(std::unique_ptr<ConnectionHandler> handler, sa_family_t family,
                              Args&&... args) {
  sockaddr_storage peer{};
  peer.ss_family = family;
  auto* conn = new Connection(std::forward<Args>(args)..., peer, sizeof(sockaddr_in));
  conn->start(std::move(handler));
  return conn;
}

// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
struct Listening {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  explicit Listening(int backlog = 16) {
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t len = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
    ::listen(fd, backlog);
  }
  ~Listening() { ::close(fd); }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&address); }
  int accept() { return ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); }
};

// Everything readable on a non-blocking fd right now.
inline std::string readSome(int fd) {
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  return got;
}

}  // namespace manifold::testing
