// Tier: integration — lingering close (worker/connection.hpp): after an error response to a
// client that is still sending, the server half-closes and drains the rest of the input for a
// bounded time, so the client reads the whole error instead of a connection reset. The client
// here writes like Python's http.client does with a 70 KB header on a loaded machine: the whole
// request in pieces, with pauses, before it reads anything.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

// Writes `data` in `piece`-byte writes with `pauseMs` between them; false (and errno in *error)
// when a write fails. Notes whether a response was readable before the last write.
bool slowWrite(int fd, const std::string& data, size_t piece, int pauseMs, int* error,
               bool* answeredWhileWriting) {
  for (size_t at = 0; at < data.size(); at += piece) {
    size_t n = std::min(piece, data.size() - at);
    if (::send(fd, data.data() + at, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) {
      *error = errno;
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) *answeredWhileWriting = true;
    sleepMs(pauseMs);
  }
  return true;
}

}  // namespace

TEST(CoreLingeringClose, ClientStillSendingAfter431ReadsTheWholeResponse) {
  int port = freePort(), status = freePort();
  Instance m(httpSection("www", port, "{dir}/www") + statusSection(status));
  run("mkdir -p " + m.path("www"));
  ASSERT_TRUE(m.start()) << m.log();

  // 70 KB of header: the 32 KB limit is passed about halfway, the client keeps writing.
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; request.size() < 70000; ++i)
    request += "X-Filler-" + str(i) + ": " + std::string(1000, 'f') + "\r\n";
  request += "\r\n";

  RawClient client(port);
  ASSERT_TRUE(client.ok());
  int error = 0;
  bool answeredWhileWriting = false;
  bool wroteAll = slowWrite(client.fd(), request, 4096, 25, &error, &answeredWhileWriting);
  EXPECT_TRUE(wroteAll) << "a write failed after the server answered: " << strerror(error);
  EXPECT_TRUE(answeredWhileWriting) << "the 431 should arrive before the request ends";

  // The complete 431, then EOF (the server's half-close), not a reset.
  int r;
  while ((r = client.readSome(5000)) > 0) {
  }
  EXPECT_EQ(r, 0) << (r == -2 ? "connection reset" : "no EOF within 5 s");
  Reply reply;
  ASSERT_GT(parseReply(client.buffer(), reply, false, true), 0u) << client.buffer();
  EXPECT_EQ(reply.status, 431);
  EXPECT_EQ(reply.header("Connection"), "close");
  EXPECT_NE(reply.body.find("431"), std::string::npos);
  // Lingering is bounded: a client that neither sends nor closes is dropped after the
  // lingering timeout (2 s of silence).
  auto start = Clock::now();
  while (counter(status, "http:www", "connections_open") != 0 && msSince(start) < 5000)
    sleepMs(100);
  EXPECT_EQ(counter(status, "http:www", "connections_open"), 0);
  EXPECT_GT(msSince(start), 1000) << "closed without lingering";
}

TEST(CoreLingeringClose, LingeringEndsAtOnceWhenTheClientCloses) {
  int port = freePort();
  Instance m(httpSection("www", port, "{dir}/www"));
  run("mkdir -p " + m.path("www"));
  ASSERT_TRUE(m.start()) << m.log();
  RawClient client(port);
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(40000, 'b');
  ASSERT_TRUE(client.send(head));  // over the limit, unfinished: the server lingers
  Reply reply;
  ASSERT_TRUE(client.read(reply));
  EXPECT_EQ(reply.status, 431);
  // Half-closing ends the lingering: the server's close follows at once.
  ::shutdown(client.fd(), SHUT_WR);
  auto start = Clock::now();
  EXPECT_TRUE(client.waitClosed(1500));
  EXPECT_LT(msSince(start), 1000);
}
