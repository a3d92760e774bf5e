// Tier: protocol on the wire — DNS over TCP at tcp_max_connections: the longest-idle
// connection makes room for a new one; connections mid-message are never evicted and must
// finish their message within tcp_message_timeout.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

int connectTcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One example.com SOA query with its 2-byte TCP length prefix.
std::string framedSoaQuery(uint16_t id) {
  std::string q = header(id, 0, 1, 0, 0, 0) +
                  std::string(
                      "\x07"
                      "example\x03"
                      "com\x00",
                      13) +
                  std::string("\x00\x06\x00\x01", 4);
  return std::string(1, static_cast<char>(q.size() >> 8)) +
         std::string(1, static_cast<char>(q.size() & 0xff)) + q;
}

// A one-worker DNS server with tcp_max_connections = 2 and `extra` keys.
std::string cappedServer(const std::string& extra) {
  return "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = example.com=" +
         std::string(getcwd(nullptr, 0)) + "/etc/zones/example.com.zone\n" +
         "tcp_max_connections = 2\ntcp_idle_timeout = 30s\n" + extra;
}

// Sends one framed query for example.com SOA; true when a framed answer with our id arrives
// within timeoutMs.
bool askAndWait(int fd, uint16_t id, int timeoutMs) {
  const std::string framed = framedSoaQuery(id);
  if (write(fd, framed.data(), framed.size()) != static_cast<ssize_t>(framed.size())) return false;
  std::string got;
  pollfd p{fd, POLLIN, 0};
  while (got.size() < 4 && poll(&p, 1, timeoutMs) == 1) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got.size() >= 4 && static_cast<uint8_t>(got[2]) == id >> 8 &&
         static_cast<uint8_t>(got[3]) == (id & 0xff);
}

bool closedByServer(int fd, int timeoutMs) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeoutMs) != 1) return false;
  char buf[64];
  return read(fd, buf, sizeof buf) <= 0;
}

}  // namespace

// Issue #11.1: at tcp_max_connections the longest-idle connection (between messages) gives way
// to a new one, instead of every new client waiting behind idle or slow ones.
TEST(DnsTcpLimit, AtTheCapTheOldestIdleConnectionMakesRoom) {
  Instance m(cappedServer(""), "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  int a = connectTcp(port), b = connectTcp(port);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_TRUE(askAndWait(a, 0x0101, 2000));
  EXPECT_TRUE(askAndWait(b, 0x0202, 2000));
  // a has been idle longest: it is closed, and the third connection is served at once.
  int c = connectTcp(port);
  ASSERT_GE(c, 0);
  EXPECT_TRUE(askAndWait(c, 0x0303, 2000)) << "a new client waited behind idle connections";
  EXPECT_TRUE(closedByServer(a, 2000)) << "the oldest idle connection was not the one closed";
  EXPECT_TRUE(askAndWait(b, 0x0404, 2000)) << "b, more recent than a, must stay";
  // UDP is not affected.
  EXPECT_EQ(rcodeOf(udpExchange(port, header(7, 0, 1, 0, 0, 0) +
                                          std::string("\x07"
                                                      "example\x03"
                                                      "com\x00",
                                                      13) +
                                          std::string("\x00\x06\x00\x01", 4))),
            0);
  close(a);
  close(b);
  close(c);
  EXPECT_EQ(m.stop(), 0);
}

// Connections in the middle of a message are never evicted: a newcomer waits in the backlog,
// and a message trickled a byte at a time is cut at tcp_message_timeout (its own deadline, as
// HTTP request heads have), after which the newcomer is served.
TEST(DnsTcpLimit, SlowSendersMeetTheMessageDeadline) {
  Instance m(cappedServer("tcp_message_timeout = 1500ms\n"), "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  int a = connectTcp(port), b = connectTcp(port);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  // Each starts a 40-byte message and sends one more byte every 400 ms (under the idle timeout).
  ASSERT_EQ(write(a, "\x00\x28", 2), 2);
  ASSERT_EQ(write(b, "\x00\x28", 2), 2);
  sleepMs(300);  // the server has read both beginnings: a and b are mid-message
  int c = connectTcp(port);
  ASSERT_GE(c, 0);
  const std::string framed = framedSoaQuery(0x0505);
  ASSERT_EQ(write(c, framed.data(), framed.size()), static_cast<ssize_t>(framed.size()));
  bool answered = false, cutA = false, cutB = false;
  auto start = Clock::now();
  while (msSince(start) < 5000 && !answered) {
    if (!cutA) cutA = write(a, "x", 1) != 1 || closedByServer(a, 0);
    if (!cutB) cutB = write(b, "x", 1) != 1 || closedByServer(b, 0);
    pollfd p{c, POLLIN, 0};
    if (poll(&p, 1, 400) == 1) {
      char buf[4096];
      ssize_t n = read(c, buf, sizeof buf);
      answered =
          n >= 4 && static_cast<uint8_t>(buf[2]) == 0x05 && static_cast<uint8_t>(buf[3]) == 0x05;
      if (answered) {
        EXPECT_GE(msSince(start), 1000) << "a busy connection was evicted";
      }
    }
  }
  EXPECT_TRUE(answered) << "trickled messages held every slot past tcp_message_timeout";
  EXPECT_TRUE(closedByServer(a, 1000) || cutA);
  close(a);
  close(b);
  close(c);
  EXPECT_EQ(m.stop(), 0);
}
