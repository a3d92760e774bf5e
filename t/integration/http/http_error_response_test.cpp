// Tier: protocol on the wire — error responses carry one Connection header and the exact body.
#include <gtest/gtest.h>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {
size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}
}  // namespace

TEST(HttpErrorResponse, Http10KeepAliveErrorHasOneConnectionHeaderAndKeepsTheConnection) {
  Instance m("[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}/www\n");
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/a.txt"), "A");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  std::string reply = rawExchange(port,
                                  "GET /missing HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                                  "GET /a.txt HTTP/1.0\r\n\r\n",
                                  3000, false);
  size_t second = reply.find("HTTP/1.0 200");
  ASSERT_NE(second, std::string::npos) << reply;  // the 404 kept the connection open
  std::string first = reply.substr(0, second);
  EXPECT_EQ(first.rfind("HTTP/1.0 404", 0), 0u) << first;
  EXPECT_EQ(countOf(first, "Connection:"), 1u) << first;
  // Content-Length matches the body that follows the head.
  size_t lengthAt = first.find("Content-Length: ");
  ASSERT_NE(lengthAt, std::string::npos) << first;
  size_t length = std::stoul(first.substr(lengthAt + 16));
  EXPECT_EQ(first.size() - (first.find("\r\n\r\n") + 4), length) << first;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
