// Unit tests of Connection's internal mode (no socket, a ConnectionPeer at the far end), which
// the HTTP/2 gateway runs its HTTP/1.1 sessions on: input delivered runs the handler at once,
// its output (bytes, and queued files as ranges, unread) reaches the peer in order, a full peer
// holds the output until resumeOutput(), a paused read takes no input and tells the peer when it
// resumes, and closing tells the peer. On a real loop; no descriptor is used.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "t/unit/worker_loop_test_util.hpp"
#include "worker/connection.hpp"

using namespace manifold;
using namespace manifold::testing;

namespace {

// What the far end saw: bytes, and file ranges as "[file OFFSET+LENGTH]".
struct Peer : ConnectionPeer {
  std::string got;
  bool full = false;
  int closedCalls = 0, readableCalls = 0;
  ssize_t take(const char* data, size_t length) override {
    if (full) {
      errno = EAGAIN;
      return -1;
    }
    got.append(data, length);
    return static_cast<ssize_t>(length);
  }
  ssize_t takeFile(const std::shared_ptr<OpenFile>&, off_t* offset, size_t length) override {
    got += "[file " + std::to_string(*offset) + "+" + std::to_string(length) + "]";
    *offset += static_cast<off_t>(length);
    return static_cast<ssize_t>(length);
  }
  void closed(Connection&) override { ++closedCalls; }
  void readable(Connection&) override { ++readableCalls; }
};

// Answers each line: "LINE" -> "re:LINE\n"; "FILE" also queues a 1 MiB range of a file after
// its answer; "PAUSE" pauses reading; "CLOSE" closes after the answer.
struct Lines : ConnectionHandler {
  std::shared_ptr<OpenFile> file;
  void onReadable(Connection& conn) override {
    for (;;) {
      std::string_view in = conn.pendingInput();
      size_t eol = in.find('\n');
      if (eol == std::string_view::npos) return;
      std::string line(in.substr(0, eol));
      conn.consume(eol + 1);
      conn.output().append("re:").append(line).append("\n");
      if (line == "FILE") conn.queueFile(file, 4096, 1 << 20);
      if (line == "PAUSE") {
        conn.pauseReading(true);
        return;
      }
      if (line == "CLOSE") conn.closeAfterFlush();
    }
  }
};

Connection* internal(LoopFixture& f, Peer& peer, std::unique_ptr<ConnectionHandler> handler) {
  return startedConnection<WorkerRuntime&, ConnectionPeer&>(std::move(handler), AF_INET, f.runtime,
                                                            peer);
}

}  // namespace

TEST(WorkerInternalConnection, AnswersInsideDeliverWithFilesAsRangesInOrder) {
  LoopFixture f;
  Peer peer;
  auto handler = std::make_unique<Lines>();
  handler->file = std::make_shared<OpenFile>(::open("/dev/zero", O_RDONLY | O_CLOEXEC));
  Connection* conn = internal(f, peer, std::move(handler));
  EXPECT_TRUE(conn->internal());
  EXPECT_EQ(f.runtime.openConnections(), 0u);  // not a client connection
  EXPECT_EQ(conn->deliver("one\nFILE\ntw"), 11u);
  EXPECT_EQ(peer.got, "re:one\nre:FILE\n[file 4096+1048576]");  // before deliver() returned
  conn->deliver("o\n");
  EXPECT_EQ(peer.got, "re:one\nre:FILE\n[file 4096+1048576]re:two\n");
  conn->close();
  EXPECT_EQ(peer.closedCalls, 1);
}

TEST(WorkerInternalConnection, FullPeerHoldsOutputUntilResumed) {
  LoopFixture f;
  Peer peer;
  Connection* conn = internal(f, peer, std::make_unique<Lines>());
  peer.full = true;
  conn->deliver("a\n");
  EXPECT_EQ(peer.got, "");
  EXPECT_TRUE(conn->outputPending());
  peer.full = false;
  conn->resumeOutput();  // through the loop
  EXPECT_EQ(peer.got, "");
  ASSERT_TRUE(f.runUntil([&] { return peer.got == "re:a\n"; })) << peer.got;
  conn->close();
}

TEST(WorkerInternalConnection, PausedReadTakesNoInputAndTheResumeIsAnnounced) {
  LoopFixture f;
  Peer peer;
  Connection* conn = internal(f, peer, std::make_unique<Lines>());
  conn->deliver("PAUSE\n");
  EXPECT_EQ(conn->deliver("b\n"), 0u);  // refused while paused
  EXPECT_EQ(peer.got, "re:PAUSE\n");
  conn->pauseReading(false);
  EXPECT_EQ(peer.readableCalls, 1);
  EXPECT_EQ(conn->deliver("b\n"), 2u);
  EXPECT_EQ(peer.got, "re:PAUSE\nre:b\n");
  conn->close();
}

TEST(WorkerInternalConnection, HandlerCloseTellsThePeerOnce) {
  LoopFixture f;
  Peer peer;
  Connection* conn = internal(f, peer, std::make_unique<Lines>());
  conn->deliver("CLOSE\n");  // the connection is gone when this returns
  EXPECT_EQ(peer.got, "re:CLOSE\n");
  EXPECT_EQ(peer.closedCalls, 1);
}
