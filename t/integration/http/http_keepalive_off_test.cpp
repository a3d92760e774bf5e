// Tier: protocol on the wire — keepalive_timeout = 0 turns keep-alive off, as nginx does.
#include <gtest/gtest.h>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

TEST(HttpKeepAliveOff, ZeroTimeoutClosesAfterEachResponse) {
  Instance m(
      "[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}/www\nkeepalive_timeout = 0\n");
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/a.txt"), "A");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  // Two pipelined requests: only the first is answered, with Connection: close.
  std::string reply = rawExchange(port,
                                  "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
                                  3000, false);
  EXPECT_NE(reply.find("Connection: close\r\n"), std::string::npos) << reply;
  size_t first = reply.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos) << reply;
  EXPECT_EQ(reply.find("HTTP/1.1 200", first + 1), std::string::npos) << reply;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
