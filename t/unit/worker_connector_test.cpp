// Unit tests of worker/connector.*: outbound connects (ok, refused, timed out) and the
// keep-alive pool (reuse, a pooled connection the peer closed is dropped), against listening
// sockets made here, on a real loop.
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

#include "t/unit/worker_loop_test_util.hpp"
#include "worker/connection.hpp"
#include "worker/connector.hpp"

using manifold::Connection;
using manifold::ConnectionHandler;
using manifold::ConnectOptions;
using manifold::Connector;
using manifold::ConnectOutcome;
using manifold::testing::Listening;
using manifold::testing::LoopFixture;
using manifold::testing::readSome;

namespace {

// Collects the response bytes of one exchange.
struct Reader : ConnectionHandler {
  std::string* got;
  bool* closed;
  Reader(std::string* g, bool* c) : got(g), closed(c) {}
  void onReadable(Connection& conn) override {
    got->append(conn.pendingInput());
    conn.consume(conn.pendingInput().size());
  }
  void onClose(Connection&) override { *closed = true; }
};

struct Attempt {
  bool done = false;
  ConnectOutcome outcome;
  std::string got;
  bool closed = false;
  std::string request = "ping";
  // The callback: records the outcome and, on success, sends `request` and reads the answer.
  Connector::Callback callback() {
    return [this](const ConnectOutcome& o) -> std::unique_ptr<ConnectionHandler> {
      done = true;
      outcome = o;
      if (!o.connection) return nullptr;
      o.connection->output().append(request);
      return std::make_unique<Reader>(&got, &closed);
    };
  }
};

}  // namespace

TEST(WorkerConnector, ConnectsSendsAndReads) {
  LoopFixture f;
  Listening server;
  Connector connector(f.runtime);
  Attempt a;
  connector.connect(server.sa(), sizeof server.address, {}, a.callback());
  int peer = -1;
  ASSERT_TRUE(f.runUntil([&] { return a.done && (peer >= 0 || (peer = server.accept()) >= 0); }));
  ASSERT_NE(a.outcome.connection, nullptr) << strerror(a.outcome.error);
  EXPECT_FALSE(a.outcome.reused);
  std::string request;
  ASSERT_TRUE(f.runUntil([&] { return (request += readSome(peer)) == "ping"; }));
  ASSERT_EQ(::write(peer, "pong", 4), 4);
  ASSERT_TRUE(f.runUntil([&] { return a.got == "pong"; }));
  a.outcome.connection->close();
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(f.runtime.openConnections(), 0u);
  ::close(peer);
}

TEST(WorkerConnector, RefusedIsReportedAsAValue) {
  LoopFixture f;
  sockaddr_in closed;
  {
    Listening gone;  // a port that was just free: nothing listens there any more
    closed = gone.address;
  }
  Connector connector(f.runtime);
  Attempt a;
  connector.connect(reinterpret_cast<sockaddr*>(&closed), sizeof closed, {}, a.callback());
  ASSERT_TRUE(f.runUntil([&] { return a.done; }));
  EXPECT_EQ(a.outcome.connection, nullptr);
  EXPECT_EQ(a.outcome.error, ECONNREFUSED);
  EXPECT_EQ(connector.connectsInProgress(), 0u);
}

TEST(WorkerConnector, ConnectTimesOutWhenTheBacklogIsFull) {
  LoopFixture f;
  Listening server(0);  // backlog 0: one queued connection, later SYNs are dropped
  int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ::connect(filler, server.sa(), sizeof server.address);
  manifold::testing::LoopFixture().runUntil([] { return false; }, 0.1);  // let the handshake end
  Connector connector(f.runtime);
  Attempt a;
  ConnectOptions options;
  options.connectTimeout = 0.2;
  ev_now_update(f.loop);  // the loop's cached time is from before the wait above
  double start = manifold::clock::monotonicSeconds();
  connector.connect(server.sa(), sizeof server.address, options, a.callback());
  ASSERT_TRUE(f.runUntil([&] { return a.done; }, 3));
  EXPECT_EQ(a.outcome.connection, nullptr);
  EXPECT_EQ(a.outcome.error, ETIMEDOUT);
  EXPECT_GE(manifold::clock::monotonicSeconds() - start, 0.19);
  ::close(filler);
}

TEST(WorkerConnector, CancelledConnectNeverCallsBack) {
  LoopFixture f;
  Listening server(0);
  int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ::connect(filler, server.sa(), sizeof server.address);
  manifold::testing::LoopFixture().runUntil([] { return false; }, 0.1);
  Connector connector(f.runtime);
  Attempt a;
  ConnectOptions options;
  options.connectTimeout = 0.05;
  Connector::Id id = connector.connect(server.sa(), sizeof server.address, options, a.callback());
  ASSERT_NE(id, 0u);
  connector.cancel(id);
  f.runUntil([] { return false; }, 0.2);
  EXPECT_FALSE(a.done);
  ::close(filler);
}

TEST(WorkerConnector, KeepAliveConnectionIsReused) {
  LoopFixture f;
  Listening server;
  Connector connector(f.runtime);
  Attempt first;
  connector.connect(server.sa(), sizeof server.address, {}, first.callback());
  int peer = -1;
  ASSERT_TRUE(f.runUntil([&] { return first.done && (peer = server.accept()) >= 0; }));
  ASSERT_TRUE(f.runUntil([&] { return readSome(peer) == "ping"; }));
  ASSERT_EQ(::write(peer, "pong", 4), 4);
  ASSERT_TRUE(f.runUntil([&] { return first.got == "pong"; }));
  EXPECT_TRUE(connector.release(*first.outcome.connection));
  EXPECT_EQ(connector.idleConnections(), 1u);
  EXPECT_FALSE(first.closed);  // handed over to the pool, not closed

  Attempt second;
  second.request = "again";
  connector.connect(server.sa(), sizeof server.address, {}, second.callback());
  ASSERT_TRUE(second.done);  // from the pool: at once
  EXPECT_TRUE(second.outcome.reused);
  EXPECT_EQ(second.outcome.connection, first.outcome.connection);
  EXPECT_EQ(connector.idleConnections(), 0u);
  ASSERT_TRUE(f.runUntil([&] { return readSome(peer) == "again"; }));
  EXPECT_LT(server.accept(), 0);  // no second connection

  // A fresh connect ignores the pool.
  EXPECT_TRUE(connector.release(*second.outcome.connection));
  Attempt fresh;
  ConnectOptions options;
  options.fresh = true;
  connector.connect(server.sa(), sizeof server.address, options, fresh.callback());
  int peer2 = -1;
  ASSERT_TRUE(f.runUntil([&] { return fresh.done && (peer2 = server.accept()) >= 0; }));
  EXPECT_FALSE(fresh.outcome.reused);
  EXPECT_EQ(connector.idleConnections(), 1u);
  fresh.outcome.connection->close();
  ::close(peer);
  ::close(peer2);
}

TEST(WorkerConnector, PooledConnectionClosedByThePeerIsNotHandedOut) {
  LoopFixture f;
  Listening server;
  Connector connector(f.runtime);
  Attempt first;
  connector.connect(server.sa(), sizeof server.address, {}, first.callback());
  int peer = -1;
  ASSERT_TRUE(f.runUntil([&] { return first.done && (peer = server.accept()) >= 0; }));
  ASSERT_TRUE(f.runUntil([&] { return readSome(peer) == "ping"; }));
  ASSERT_TRUE(connector.release(*first.outcome.connection));
  ::close(peer);  // the backend closes an idle keep-alive connection
  ASSERT_TRUE(f.runUntil([&] { return connector.idleConnections() == 0; }));
  EXPECT_EQ(f.runtime.openConnections(), 0u);

  Attempt second;
  connector.connect(server.sa(), sizeof server.address, {}, second.callback());
  int peer2 = -1;
  ASSERT_TRUE(f.runUntil([&] { return second.done && (peer2 = server.accept()) >= 0; }));
  EXPECT_FALSE(second.outcome.reused);
  second.outcome.connection->close();
  ::close(peer2);
}

TEST(WorkerConnector, ReleaseClosesAConnectionThatCannotBeReused) {
  LoopFixture f;
  Listening server;
  Connector connector(f.runtime);
  Attempt a;
  connector.connect(server.sa(), sizeof server.address, {}, a.callback());
  int peer = -1;
  ASSERT_TRUE(f.runUntil([&] { return a.done && (peer = server.accept()) >= 0; }));
  ASSERT_TRUE(f.runUntil([&] { return readSome(peer) == "ping"; }));
  a.outcome.connection->closeAfterFlush();  // e.g. the response said Connection: close
  EXPECT_FALSE(connector.release(*a.outcome.connection));
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(connector.idleConnections(), 0u);
  EXPECT_EQ(f.runtime.openConnections(), 0u);
  ::close(peer);
}

TEST(WorkerConnector, DestructorClosesPooledConnections) {
  LoopFixture f;
  Listening server;
  {
    Connector connector(f.runtime);
    Attempt a;
    connector.connect(server.sa(), sizeof server.address, {}, a.callback());
    ASSERT_TRUE(f.runUntil([&] { return a.done; }));
    ASSERT_NE(a.outcome.connection, nullptr);
    connector.release(*a.outcome.connection);
    EXPECT_EQ(f.runtime.openConnections(), 1u);
  }
  EXPECT_EQ(f.runtime.openConnections(), 0u);
}
