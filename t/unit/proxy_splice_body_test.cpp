// Unit tests of the splice relay's pieces (worker/splice_pipes.*, protocols/proxy/
// splice_body.*) on a real libev loop with real sockets (socketpairs: splice(2) reads and
// writes stream sockets of any family).
#include <ev.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "protocols/proxy/splice_body.hpp"
#include "worker/splice_pipes.hpp"

using manifold::SplicePipe;
using manifold::SplicePipes;
using manifold::proxy::SpliceBody;

namespace {

struct Pair {
  int fd[2] = {-1, -1};
  Pair() { socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd); }
  ~Pair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
};

std::string bytes(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + i / 977) & 0xff);
  return s;
}

// Writes what the socket takes; returns the bytes written.
size_t writeSome(int fd, const std::string& data, size_t& at) {
  while (at < data.size()) {
    ssize_t n = ::write(fd, data.data() + at, data.size() - at);
    if (n <= 0) break;
    at += static_cast<size_t>(n);
  }
  return at;
}

void readAll(int fd, std::string& into) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    into.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

TEST(ProxySplicePipes, EmptyPipesAreReusedAndPipesHoldingBytesAreClosed) {
  SplicePipes pipes(2);
  SplicePipe a;
  ASSERT_TRUE(pipes.acquire(a));
  EXPECT_GE(a.capacity, 65536u);
  const int readFd = a.readFd;
  pipes.release(a);
  EXPECT_FALSE(a.open());
  EXPECT_EQ(pipes.pooled(), 1u);
  SplicePipe b;
  ASSERT_TRUE(pipes.acquire(b));
  EXPECT_EQ(b.readFd, readFd);  // the pooled one
  ASSERT_EQ(::write(b.writeFd, "left", 4), 4);
  b.held = 4;
  pipes.release(b);
  EXPECT_EQ(pipes.pooled(), 0u);
  EXPECT_EQ(fcntl(readFd, F_GETFD), -1);  // closed: nobody reads those bytes later
}

TEST(ProxySpliceBody, MovesExactlyTheBodyWhileTheReaderIsSlowAndLeavesTheRest) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  {
    SplicePipes pipes;
    Pair up, down;  // up.fd[0]: the backend writes; up.fd[1]: the relay reads
    const size_t length = 3 * 1024 * 1024 + 17;
    const std::string body = bytes(length, 3), after = "NEXT RESPONSE";
    const std::string sent = body + after;
    std::vector<SpliceBody::Event> events;
    SpliceBody splice(loop, pipes, [&](SpliceBody::Event e) {
      if (e != SpliceBody::Event::Progress) events.push_back(e);
    });
    ASSERT_TRUE(splice.start(up.fd[1], down.fd[0], length, false));
    size_t at = 0;
    std::string got;
    for (int i = 0; i < 20000 && events.empty(); ++i) {
      writeSome(up.fd[0], sent, at);
      ev_run(loop, EVRUN_NOWAIT);
      if (i % 3 == 0) readAll(down.fd[1], got);  // a reader slower than the writer
    }
    readAll(down.fd[1], got);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], SpliceBody::Event::Done);
    EXPECT_FALSE(splice.active());
    EXPECT_EQ(splice.read(), length);
    EXPECT_EQ(got.size(), body.size());
    EXPECT_TRUE(got == body);
    EXPECT_EQ(pipes.pooled(), 1u);  // empty: back in the pool
    std::string rest;
    writeSome(up.fd[0], sent, at);
    readAll(up.fd[1], rest);
    EXPECT_EQ(rest, after);  // the next response's bytes stay for the connection
  }
  ev_loop_destroy(loop);
}

TEST(ProxySpliceBody, AnUpstreamClosingEarlyIsReportedAndItsPipeNotReused) {
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  {
    SplicePipes pipes;
    Pair up, down;
    std::vector<SpliceBody::Event> events;
    SpliceBody splice(loop, pipes, [&](SpliceBody::Event e) {
      if (e != SpliceBody::Event::Progress) events.push_back(e);
    });
    ASSERT_TRUE(splice.start(up.fd[1], down.fd[0], 1 << 20, true));
    ASSERT_EQ(::write(up.fd[0], "only this", 9), 9);
    ::close(up.fd[0]);
    up.fd[0] = -1;
    for (int i = 0; i < 1000 && events.empty(); ++i) ev_run(loop, EVRUN_NOWAIT);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], SpliceBody::Event::UpstreamClosed);
    EXPECT_EQ(splice.read(), 9u);
    std::string got;
    readAll(down.fd[1], got);
    EXPECT_EQ(got, "only this");

    // Stopped with bytes still in the pipe (the client did not take them): closed, not pooled.
    Pair up2;
    const size_t before = pipes.pooled();
    std::vector<SpliceBody::Event> events2;
    SpliceBody stalled(loop, pipes, [&](SpliceBody::Event e) { events2.push_back(e); });
    int full[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, full), 0);
    size_t at = 0;
    const std::string filler = bytes(8 << 20, 4);
    writeSome(full[0], filler, at);  // full[0] takes nothing more: the client is behind
    ASSERT_TRUE(stalled.start(up2.fd[1], full[0], 1 << 20, false));
    size_t at2 = 0;
    const std::string body = bytes(1 << 20, 5);
    for (int i = 0; i < 200; ++i) {
      writeSome(up2.fd[0], body, at2);
      ev_run(loop, EVRUN_NOWAIT);
    }
    EXPECT_TRUE(stalled.waitingForClient());
    EXPECT_GT(stalled.read(), 0u);
    stalled.stop();
    EXPECT_EQ(pipes.pooled(), before == 0 ? 0u : before - 1);  // taken, then closed
    ::close(full[0]);
    ::close(full[1]);
  }
  ev_loop_destroy(loop);
}
