// Tier: integration — HTTP defects an adversarial review found (issue #11), each checked against
// the real server: the close decision on cached answers, If-Range, If-Modified-Since dates.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {
// A site with one small (xcache-served) file whose mtime is 1994-11-06 08:49:37 UTC.
struct Site {
  int port = freePort();
  Instance m{httpSection("www", port, "{dir}/www")};
  Site() {
    run("mkdir -p " + m.path("www"));
    writeFile(m.path("www/a.txt"), "0123456789abcdef\n");
    run("touch -d '1994-11-06 08:49:37 UTC' " + m.path("www/a.txt"));
  }
};
}  // namespace

// #11.6: a GET carrying a body the server will not read, answered from the shm cache, must say
// Connection: close before the server closes (else a pipelined request is dropped silently).
TEST(HttpHardening, CachedAnswerToARequestWithAnUnreadBodySaysClose) {
  Site s;
  ASSERT_TRUE(s.m.start()) << s.m.log();
  ASSERT_EQ(one(s.port, getClose("/a.txt")).status, 200);  // now in the xcache
  for (const std::string bodyHeaders :
       {"Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\nExpect: 100-continue\r\n"}) {
    std::string body = bodyHeaders[0] == 'T' ? "5\r\nhello\r\n0\r\n\r\n" : "hello";
    std::string raw = rawExchange(
        s.port, "GET /a.txt HTTP/1.1\r\nHost: x\r\n" + bodyHeaders + "\r\n" + body + get("/a.txt"));
    std::vector<Reply> replies = parseReplies(raw);
    ASSERT_GE(replies.size(), 1u) << raw;
    EXPECT_EQ(replies[0].status, 200);
    EXPECT_EQ(replies[0].body, "0123456789abcdef\n");
    // Either the server answers the pipelined request too, or it says it will close.
    if (replies.size() < 2) {
      EXPECT_EQ(replies[0].header("Connection"), "close") << raw;
    }
  }
}

// #11.10: a present but empty If-Range never allows a partial answer (RFC 9110 13.1.5).
TEST(HttpHardening, EmptyIfRangeGivesTheWholeFile) {
  Site s;
  ASSERT_TRUE(s.m.start()) << s.m.log();
  Reply r = one(s.port, getClose("/a.txt", "Range: bytes=0-3\r\nIf-Range: \r\n"));
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.body, "0123456789abcdef\n");
  r = one(s.port, getClose("/a.txt", "Range: bytes=0-3\r\n"));
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "0123");
}

// #11.10: If-Modified-Since in all three HTTP-date forms (RFC 9110 5.6.7), and a date later
// than the server's clock ignored (RFC 9110 13.1.3).
TEST(HttpHardening, IfModifiedSinceDates) {
  Site s;
  ASSERT_TRUE(s.m.start()) << s.m.log();
  for (const char* date : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 1994"}) {
    Reply r = one(s.port, getClose("/a.txt", std::string("If-Modified-Since: ") + date + "\r\n"));
    EXPECT_EQ(r.status, 304) << date;
  }
  // Later than now: invalid, so the file is sent even though its mtime is older.
  Reply r = one(s.port, getClose("/a.txt", "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n"));
  EXPECT_EQ(r.status, 200);
  r = one(s.port, getClose("/a.txt", "If-Modified-Since: Fri, 01 Jan 2010 00:00:00 GMT\r\n"));
  EXPECT_EQ(r.status, 304);
}
