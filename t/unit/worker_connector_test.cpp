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

using namespace manifold;
using namespace manifold::testing;

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

// A listening socket, a connector, and the steps most tests share.
class WorkerConnector : public ::testing::Test {
 protected:
  LoopFixture f;
  Listening server;
  Connector connector{f.runtime};

  void connect(Attempt& a, const ConnectOptions& options = {}) {
    connector.connect(server.sa(), sizeof server.address, options, a.callback());
  }
  // Connects a fresh connection; returns the server's end once a.request has arrived on it.
  int connectAndAccept(Attempt& a, const ConnectOptions& options = {}) {
    connect(a, options);
    int peer = -1;
    std::string got;
    bool ok = f.runUntil([&] { return a.done && (peer >= 0 || (peer = server.accept()) >= 0); }) &&
              f.runUntil([&] { return (got += readSome(peer)) == a.request; });
    EXPECT_TRUE(ok) << "no connection, or the request did not arrive: " << got;
    return peer;
  }
};

// A listening socket whose queue is full (backlog 0 and one connection already queued): later
// SYNs are dropped, so a connect to it neither succeeds nor fails until it times out.
class WorkerConnectorBacklogFull : public ::testing::Test {
 protected:
  LoopFixture f;
  Listening server{0};
  Connector connector{f.runtime};
  int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  void SetUp() override {
    ::connect(filler, server.sa(), sizeof server.address);
    f.runUntil([] { return false; }, 0.1);  // lets its handshake end
    ev_now_update(f.loop);
  }
  void TearDown() override { ::close(filler); }
};

}  // namespace

TEST_F(WorkerConnector, ConnectsSendsAndReads) {
  Attempt a;
  int peer = connectAndAccept(a);
  ASSERT_NE(a.outcome.connection, nullptr) << strerror(a.outcome.error);
  EXPECT_FALSE(a.outcome.reused);
  ASSERT_EQ(::write(peer, "pong", 4), 4);
  ASSERT_TRUE(f.runUntil([&] { return a.got == "pong"; }));
  a.outcome.connection->close();
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(f.runtime.openConnections(), 0u);
  ::close(peer);
}

TEST(WorkerConnectorErrors, RefusedIsReportedAsAValue) {
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

TEST_F(WorkerConnectorBacklogFull, ConnectTimesOut) {
  Attempt a;
  ConnectOptions options;
  options.connectTimeout = 0.2;
  double start = manifold::clock::monotonicSeconds();
  connector.connect(server.sa(), sizeof server.address, options, a.callback());
  ASSERT_TRUE(f.runUntil([&] { return a.done; }, 3));
  EXPECT_EQ(a.outcome.connection, nullptr);
  EXPECT_EQ(a.outcome.error, ETIMEDOUT);
  EXPECT_GE(manifold::clock::monotonicSeconds() - start, 0.19);
}

TEST_F(WorkerConnectorBacklogFull, CancelledConnectNeverCallsBack) {
  Attempt a;
  ConnectOptions options;
  options.connectTimeout = 0.05;
  Connector::Id id = connector.connect(server.sa(), sizeof server.address, options, a.callback());
  ASSERT_NE(id, 0u);
  connector.cancel(id);
  f.runUntil([] { return false; }, 0.2);
  EXPECT_FALSE(a.done);
  EXPECT_EQ(connector.connectsInProgress(), 0u);
}

TEST_F(WorkerConnector, KeepAliveConnectionIsReused) {
  Attempt first;
  int peer = connectAndAccept(first);
  ASSERT_EQ(::write(peer, "pong", 4), 4);
  ASSERT_TRUE(f.runUntil([&] { return first.got == "pong"; }));
  EXPECT_TRUE(connector.release(*first.outcome.connection));
  EXPECT_EQ(connector.idleConnections(), 1u);
  EXPECT_FALSE(first.closed);  // handed over to the pool, not closed

  Attempt second;
  second.request = "again";
  connect(second);
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
  int peer2 = connectAndAccept(fresh, options);
  EXPECT_FALSE(fresh.outcome.reused);
  EXPECT_EQ(connector.idleConnections(), 1u);
  fresh.outcome.connection->close();
  ::close(peer);
  ::close(peer2);
}

TEST_F(WorkerConnector, PooledConnectionClosedByThePeerIsNotHandedOut) {
  Attempt first;
  int peer = connectAndAccept(first);
  ASSERT_TRUE(connector.release(*first.outcome.connection));
  ::close(peer);  // the backend closes an idle keep-alive connection
  ASSERT_TRUE(f.runUntil([&] { return connector.idleConnections() == 0; }));
  EXPECT_EQ(f.runtime.openConnections(), 0u);

  Attempt second;
  int peer2 = connectAndAccept(second);
  EXPECT_FALSE(second.outcome.reused);
  second.outcome.connection->close();
  ::close(peer2);
}

TEST_F(WorkerConnector, ReleaseClosesAConnectionThatCannotBeReused) {
  Attempt a;
  int peer = connectAndAccept(a);
  a.outcome.connection->closeAfterFlush();  // e.g. the response said Connection: close
  EXPECT_FALSE(connector.release(*a.outcome.connection));
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(connector.idleConnections(), 0u);
  EXPECT_EQ(f.runtime.openConnections(), 0u);
  ::close(peer);
}

TEST(WorkerConnectorLifetime, DestructorClosesPooledConnections) {
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
