// Tier: protocol on the wire — DNS over TCP at tcp_max_connections: connections beyond the cap
// wait (the worker stops accepting, as NSD at tcp-count) and are served once one closes.
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

// Sends one framed query for example.com SOA; true when a framed answer with our id arrives
// within timeoutMs.
bool askAndWait(int fd, uint16_t id, int timeoutMs) {
  std::string q = header(id, 0, 1, 0, 0, 0) +
                  std::string(
                      "\x07"
                      "example\x03"
                      "com\x00",
                      13) +
                  std::string("\x00\x06\x00\x01", 4);
  std::string framed = std::string(1, static_cast<char>(q.size() >> 8)) +
                       std::string(1, static_cast<char>(q.size() & 0xff)) + q;
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

}  // namespace

TEST(DnsTcpLimit, ConnectionsBeyondTheCapWaitUntilOneCloses) {
  Instance m("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = example.com=" +
                 std::string(getcwd(nullptr, 0)) + "/etc/zones/example.com.zone\n" +
                 "tcp_max_connections = 2\ntcp_idle_timeout = 30s\n",
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  int a = connectTcp(port), b = connectTcp(port);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_TRUE(askAndWait(a, 0x0101, 2000));
  EXPECT_TRUE(askAndWait(b, 0x0202, 2000));
  // The third completes its handshake in the kernel backlog but is not accepted yet.
  int c = connectTcp(port);
  ASSERT_GE(c, 0);
  EXPECT_FALSE(askAndWait(c, 0x0303, 700)) << "served beyond tcp_max_connections";
  // UDP is not affected.
  EXPECT_EQ(rcodeOf(udpExchange(port, header(7, 0, 1, 0, 0, 0) +
                                          std::string("\x07"
                                                      "example\x03"
                                                      "com\x00",
                                                      13) +
                                          std::string("\x00\x06\x00\x01", 4))),
            0);
  close(a);  // a slot frees: the waiting connection is accepted and its query answered
  std::string got;
  pollfd p{c, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1) << "not accepted after a slot freed";
  char buf[4096];
  ssize_t n = read(c, buf, sizeof buf);
  ASSERT_GE(n, 4);
  EXPECT_EQ(static_cast<uint8_t>(buf[2]), 0x03);
  EXPECT_EQ(static_cast<uint8_t>(buf[3]), 0x03);
  close(b);
  close(c);
  EXPECT_EQ(m.stop(), 0);
}
