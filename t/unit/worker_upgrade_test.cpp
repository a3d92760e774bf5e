// Unit tests of the protocol upgrade hand-off: Connection::upgrade on a socketpair, and the HTTP
// engine's Exchange::switchProtocols through a real listener, on a real loop. Bytes that arrived
// in the same read as the upgrade request must reach the new handler.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "protocols/http/server.hpp"
#include "t/unit/worker_loop_test_util.hpp"
#include "worker/connection.hpp"

using namespace manifold;
using namespace manifold::testing;

namespace {

// Answers every input with "echo:" + input.
struct Echo : ConnectionHandler {
  std::string* seen;
  bool* previousGone;  // the handler it replaced: destroyed before input arrives here
  Echo(std::string* s, bool* gone) : seen(s), previousGone(gone) {}
  void onReadable(Connection& conn) override {
    if (previousGone) {
      EXPECT_TRUE(*previousGone) << "the old handler outlived the hand-off";
    }
    seen->append(conn.pendingInput());
    conn.output().append("echo:").append(conn.pendingInput());
    conn.consume(conn.pendingInput().size());
  }
};

// Reads one line ("UPGRADE\n"), answers "ok\n" and hands the connection to an Echo.
struct LineThenUpgrade : ConnectionHandler {
  std::string* seen;
  bool* gone;
  LineThenUpgrade(std::string* s, bool* g) : seen(s), gone(g) {}
  ~LineThenUpgrade() override { *gone = true; }
  void onReadable(Connection& conn) override {
    size_t eol = conn.pendingInput().find('\n');
    if (eol == std::string_view::npos) return;
    conn.consume(eol + 1);
    conn.output().append("ok\n");
    conn.upgrade(std::make_unique<Echo>(seen, gone));
    EXPECT_FALSE(*gone) << "destroyed during its own callback";
  }
};

Connection* adopt(LoopFixture& f, int fd, std::unique_ptr<ConnectionHandler> handler) {
  return startedConnection(std::move(handler), AF_UNIX, f.runtime, fd);
}

}  // namespace

TEST(WorkerUpgrade, PendingInputReachesTheNewHandlerAtOnce) {
  LoopFixture f;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  std::string seen;
  bool gone = false;
  Connection* conn = adopt(f, fds[0], std::make_unique<LineThenUpgrade>(&seen, &gone));
  // The upgrade request and the first bytes of the new protocol in one write: one read.
  ASSERT_EQ(::write(fds[1], "UPGRADE\nHELLO", 13), 13);
  std::string got;
  ASSERT_TRUE(f.runUntil([&] { return (got += readSome(fds[1])) == "ok\necho:HELLO"; })) << got;
  EXPECT_TRUE(gone);
  EXPECT_EQ(seen, "HELLO");
  ASSERT_EQ(::write(fds[1], "MORE", 4), 4);
  got.clear();
  ASSERT_TRUE(f.runUntil([&] { return (got += readSome(fds[1])) == "echo:MORE"; })) << got;
  conn->close();
  EXPECT_EQ(f.runtime.openConnections(), 0u);
  ::close(fds[1]);
}

TEST(WorkerUpgrade, OutsideACallbackTakesEffectAtOnce) {
  LoopFixture f;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  std::string seen, unused;
  bool gone = false;
  Connection* conn = adopt(f, fds[0], std::make_unique<LineThenUpgrade>(&unused, &gone));
  conn->upgrade(std::make_unique<Echo>(&seen, nullptr));
  EXPECT_TRUE(gone);
  ASSERT_EQ(::write(fds[1], "X\n", 2), 2);
  std::string got;
  ASSERT_TRUE(f.runUntil([&] { return (got += readSome(fds[1])) == "echo:X\n"; })) << got;
  conn->close();
  ::close(fds[1]);
}

namespace {

struct UpgradingSite : manifold::http::RequestHandler {
  std::string seen;
  void onRequest(manifold::http::Exchange& ex) override {
    if (ex.request().find("upgrade") != "echo" ||
        !ex.switchProtocols("echo", std::make_unique<Echo>(&seen, nullptr))) {
      ex.sendError(400);
    }
  }
};

}  // namespace

TEST(WorkerUpgrade, HttpSwitchProtocolsHandsTheConnectionOver) {
  namespace http = manifold::http;
  // Listeners live in a process-wide registry until exit, and their acceptor keeps the runtime:
  // both outlive this test on purpose.
  LoopFixture& f = *new LoopFixture;
  Listening server;
  UpgradingSite handler;
  uint64_t counters[http::kHttpCounterCount] = {};
  http::ServerLimits limits;
  http::Site site;
  site.title = "http:test";
  site.names = {"*"};
  site.handler = &handler;
  site.counters = counters;
  site.limits = &limits;
  http::Listener& listener = http::Listener::forFd(f.runtime, server.fd);
  listener.addSite(&site);
  listener.start();

  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client, server.sa(), sizeof server.address), 0);
  std::string request =
      "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nHELLO";
  ASSERT_EQ(::write(client, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  ::fcntl(client, F_SETFL, O_NONBLOCK);
  const std::string expected =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
      "echo:HELLO";
  std::string got;
  ASSERT_TRUE(f.runUntil([&] { return (got += readSome(client)) == expected; })) << got;
  EXPECT_EQ(handler.seen, "HELLO");
  EXPECT_EQ(counters[http::kStatus1xx], 1u);
  EXPECT_EQ(counters[http::kConnectionsOpen], 0u);  // no longer an HTTP connection
  // The HTTP session is gone: what follows is the new protocol's, not a request.
  ASSERT_EQ(::write(client, "GET / HTTP/1.1\r\n\r\n", 18), 18);
  got.clear();
  ASSERT_TRUE(f.runUntil([&] {
    return (got += readSome(client)) == "echo:GET / HTTP/1.1\r\n\r\n";
  })) << got;
  ::close(client);
  ASSERT_TRUE(f.runUntil([&] { return f.runtime.openConnections() == 0; }));
  listener.stop();
}
