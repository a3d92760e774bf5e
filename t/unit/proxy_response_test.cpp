// The upstream response head parser: framing, interim heads, and what it refuses.
#include <gtest/gtest.h>

#include <string>

#include "protocols/proxy/response.hpp"

using namespace manifold::proxy;

namespace {

ResponseParse parse(std::string_view in, ResponseHead& h, bool head = false) {
  return parseResponse(in, h, head);
}

}  // namespace

TEST(ProxyResponse, ContentLength) {
  ResponseHead h;
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b \r\n\r\nhello";
  auto r = parse(in, h);
  ASSERT_EQ(r.status, ResponseStatus::Complete);
  EXPECT_EQ(r.consumed, in.size() - 5);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.reason, "OK");
  EXPECT_EQ(h.framing, Framing::Length);
  EXPECT_EQ(h.contentLength, 5);
  EXPECT_TRUE(h.keepAlive);
  ASSERT_EQ(h.headerCount, 2u);
  EXPECT_EQ(h.headers[1].value, "b");
}

TEST(ProxyResponse, IncompleteAtEveryPrefix) {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  ResponseHead h;
  for (size_t n = 0; n < in.size(); ++n)
    EXPECT_EQ(parse(in.substr(0, n), h).status, ResponseStatus::Incomplete) << n;
}

TEST(ProxyResponse, ChunkedAndClose) {
  ResponseHead h;
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", h).status,
            ResponseStatus::Complete);
  EXPECT_EQ(h.framing, Framing::Chunked);
  EXPECT_TRUE(h.keepAlive);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", h).status,
            ResponseStatus::Complete);
  EXPECT_EQ(h.framing, Framing::Close);
  EXPECT_FALSE(h.keepAlive);
  ASSERT_EQ(parse("HTTP/1.0 200 OK\n\n", h).status, ResponseStatus::Complete);
  EXPECT_EQ(h.framing, Framing::Close);
  ASSERT_EQ(
      parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", h).status,
      ResponseStatus::Complete);
  EXPECT_TRUE(h.keepAlive);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", h).status,
            ResponseStatus::Complete);
  EXPECT_FALSE(h.keepAlive);
  EXPECT_EQ(h.connection, "close");
}

TEST(ProxyResponse, NoBody) {
  ResponseHead h;
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", h, true).status,
            ResponseStatus::Complete);
  EXPECT_EQ(h.framing, Framing::None);
  for (const char* s : {"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n"}) {
    ASSERT_EQ(parse(s, h).status, ResponseStatus::Complete);
    EXPECT_EQ(h.framing, Framing::None);
    EXPECT_TRUE(h.keepAlive);
  }
}

TEST(ProxyResponse, InterimHeadsSkipped) {
  ResponseHead h;
  std::string in =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  auto r = parse(in, h);
  ASSERT_EQ(r.status, ResponseStatus::Complete);
  EXPECT_EQ(r.consumed, in.size());
  EXPECT_EQ(h.status, 201);
  EXPECT_EQ(parse("HTTP/1.1 100 Continue\r\n\r\n", h).status, ResponseStatus::Incomplete);
}

TEST(ProxyResponse, Refused) {
  ResponseHead h;
  for (const char* s : {
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
           "HTTP/1.1 101 Switching Protocols\r\n\r\n",
           "HTTP/2.0 200 OK\r\n\r\n",
           "HTTP/1.1 20 OK\r\n\r\n",
           "HTTP/1.1 200OK\r\n\r\n",
           "ICY 200 OK\r\n\r\n",
       })
    EXPECT_EQ(parse(s, h).status, ResponseStatus::Error) << s;
  // Equal duplicates are one length (RFC 9112 6.3).
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", h).status,
            ResponseStatus::Complete);
  EXPECT_EQ(parse(std::string(70000, 'a'), h).status, ResponseStatus::Error);
}
