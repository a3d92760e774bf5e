// Unit tests of the HTTP/1.1 request head parser (protocols/http/request.*).
#include <gtest/gtest.h>

#include <string>

#include "protocols/http/request.hpp"

namespace manifold::http {
namespace {

using namespace std::string_literals;

ParseResult parse(std::string_view in, Request& r, const ParseLimits& limits = {}) {
  return parseRequest(in, r, limits);
}

// Parses a complete request or fails the test.
Request parseOk(std::string_view in) {
  Request r;
  ParseResult res = parseRequest(in, r);
  EXPECT_EQ(res.status, ParseStatus::Complete) << "errorStatus " << res.errorStatus << " for\n"
                                               << in;
  EXPECT_EQ(res.consumed, in.size());
  return r;
}

int errorOf(std::string_view in, const ParseLimits& limits = {}) {
  Request r;
  ParseResult res = parseRequest(in, r, limits);
  if (res.status != ParseStatus::Error) return res.status == ParseStatus::Complete ? 0 : -1;
  EXPECT_EQ(res.consumed, 0u);
  return res.errorStatus;
}

TEST(HttpRequest, SimpleGet) {
  const std::string in =
      "GET /index.html?a=1&b=2 HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "User-Agent: curl/8.0\r\n"
      "Accept: */*\r\n"
      "\r\n";
  Request r;
  ParseResult res = parse(in, r);
  ASSERT_EQ(res.status, ParseStatus::Complete);
  EXPECT_EQ(res.errorStatus, 0);
  EXPECT_EQ(res.consumed, in.size());
  EXPECT_EQ(r.headerBytes, in.size());
  EXPECT_EQ(r.method, Method::Get);
  EXPECT_EQ(r.methodText, "GET");
  EXPECT_EQ(r.target, "/index.html?a=1&b=2");
  EXPECT_EQ(r.path, "/index.html");
  EXPECT_EQ(r.query, "a=1&b=2");
  EXPECT_EQ(r.versionMajor, 1);
  EXPECT_EQ(r.versionMinor, 1);
  EXPECT_EQ(r.headerCount, 3u);
  EXPECT_EQ(r.headers[0].name, "Host");
  EXPECT_EQ(r.headers[0].value, "example.com");
  EXPECT_EQ(r.headers[2].name, "Accept");
  EXPECT_EQ(r.headers[2].value, "*/*");
  EXPECT_EQ(r.host, "example.com");
  EXPECT_EQ(r.userAgent, "curl/8.0");
  EXPECT_EQ(r.contentLength, -1);
  EXPECT_FALSE(r.chunked);
  EXPECT_TRUE(r.keepAlive);
  EXPECT_FALSE(r.expectContinue);
  EXPECT_EQ(r.find("accept"), "*/*");
  EXPECT_EQ(r.find("ACCEPT"), "*/*");
  EXPECT_EQ(r.find("missing"), "");
}

TEST(HttpRequest, AllKnownHeadersArePickedOut) {
  Request r = parseOk(
      "GET / HTTP/1.1\r\n"
      "host: h\r\n"
      "CONNECTION: keep-alive\r\n"
      "Accept-Encoding: gzip, br\r\n"
      "Range: bytes=0-1\r\n"
      "If-Range: \"x\"\r\n"
      "If-Match: \"a\"\r\n"
      "If-None-Match: \"b\"\r\n"
      "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
      "If-Unmodified-Since: Mon, 07 Nov 1994 08:49:37 GMT\r\n"
      "Expect: 100-Continue\r\n"
      "Content-Type: text/plain\r\n"
      "User-Agent: ua\r\n"
      "Referer: http://r/\r\n"
      "Content-Length: 0\r\n"
      "\r\n");
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.connection, "keep-alive");
  EXPECT_EQ(r.acceptEncoding, "gzip, br");
  EXPECT_EQ(r.range, "bytes=0-1");
  EXPECT_EQ(r.ifRange, "\"x\"");
  EXPECT_EQ(r.ifMatch, "\"a\"");
  EXPECT_EQ(r.ifNoneMatch, "\"b\"");
  EXPECT_EQ(r.ifModifiedSince, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(r.ifUnmodifiedSince, "Mon, 07 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(r.expect, "100-Continue");
  EXPECT_TRUE(r.expectContinue);
  EXPECT_EQ(r.contentType, "text/plain");
  EXPECT_EQ(r.userAgent, "ua");
  EXPECT_EQ(r.referer, "http://r/");
  EXPECT_EQ(r.contentLength, 0);
  EXPECT_EQ(r.headerCount, 14u);
}

TEST(HttpRequest, ValueWhitespaceIsTrimmed) {
  Request r = parseOk("GET / HTTP/1.1\r\nHost:\t  a.b  \t\r\nX-Empty:\r\nX-In: a  b\r\n\r\n");
  EXPECT_EQ(r.host, "a.b");
  EXPECT_EQ(r.find("x-empty"), "");
  EXPECT_EQ(r.headers[1].name, "X-Empty");
  EXPECT_EQ(r.find("x-in"), "a  b");
}

TEST(HttpRequest, Methods) {
  struct {
    const char* text;
    Method m;
  } cases[] = {
      {"GET", Method::Get},       {"HEAD", Method::Head},         {"POST", Method::Post},
      {"PUT", Method::Put},       {"DELETE", Method::Delete},     {"OPTIONS", Method::Options},
      {"MKCOL", Method::Mkcol},   {"PROPFIND", Method::Propfind}, {"PROPPATCH", Method::Proppatch},
      {"COPY", Method::Copy},     {"MOVE", Method::Move},         {"LOCK", Method::Lock},
      {"UNLOCK", Method::Unlock}, {"TRACE", Method::Trace},       {"PATCH", Method::Patch},
      {"BREW", Method::Other},    {"get", Method::Other},         {"X-MY.METHOD~", Method::Other}};
  for (const auto& c : cases) {
    const std::string in = std::string(c.text) + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    Request r = parseOk(in);  // views into `in`
    EXPECT_EQ(r.method, c.m) << c.text;
    EXPECT_EQ(r.methodText, c.text);
    if (c.m != Method::Other) {
      EXPECT_EQ(methodName(c.m), c.text);
    }
  }
  EXPECT_EQ(methodName(Method::Connect), "CONNECT");
  EXPECT_EQ(methodName(Method::Other), "OTHER");
}

TEST(HttpRequest, BadMethodIs400) {
  EXPECT_EQ(errorOf("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GE\x01T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  // Garbage is refused before the line ends (e.g. a TLS ClientHello on a plain port).
  EXPECT_EQ(errorOf("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 400);
}

TEST(HttpRequest, Targets) {
  Request r = parseOk("GET /a/b/ HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/a/b/");
  EXPECT_EQ(r.query, "");

  r = parseOk("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/p");
  EXPECT_EQ(r.query, "");

  r = parseOk("GET /p?x?y=/z HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/p");
  EXPECT_EQ(r.query, "x?y=/z");

  r = parseOk("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.method, Method::Options);
  EXPECT_EQ(r.target, "*");
  EXPECT_EQ(r.path, "*");

  // absolute-form: the host comes from the target, not from Host.
  r = parseOk("GET http://Example.COM:8080/x/y?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  EXPECT_EQ(r.host, "Example.COM:8080");
  EXPECT_EQ(r.path, "/x/y");
  EXPECT_EQ(r.query, "q=1");
  EXPECT_EQ(r.find("host"), "other");

  r = parseOk("GET HTTPS://h.example HTTP/1.1\r\nHost: h.example\r\n\r\n");
  EXPECT_EQ(r.host, "h.example");
  EXPECT_EQ(r.path, "/");

  r = parseOk("GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.path, "/");
  EXPECT_EQ(r.query, "q");

  r = parseOk("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(r.method, Method::Connect);
  EXPECT_EQ(r.host, "example.com:443");
  EXPECT_EQ(r.path, "");
}

TEST(HttpRequest, BadTargetsAre400) {
  EXPECT_EQ(errorOf("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET index.html HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET http://user@h/x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
}

TEST(HttpRequest, Versions) {
  Request r = parseOk("GET / HTTP/1.0\r\n\r\n");  // no Host needed in 1.0
  EXPECT_EQ(r.versionMinor, 0);
  EXPECT_FALSE(r.keepAlive);
  EXPECT_EQ(errorOf("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(errorOf("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(errorOf("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(errorOf("GET / HTTP/3.0\r\n"), 505);  // refused before the head is complete
  EXPECT_EQ(errorOf("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/11\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.x\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / FOO\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET /\r\n\r\n"), 400);  // HTTP/0.9 simple request
}

TEST(HttpRequest, KeepAlive) {
  EXPECT_TRUE(parseOk("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keepAlive);
  EXPECT_FALSE(parseOk("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive);
  EXPECT_FALSE(
      parseOk("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n").keepAlive);
  EXPECT_FALSE(parseOk("GET / HTTP/1.1\r\nHost: h\r\nConnection: te\r\nConnection: close\r\n\r\n")
                   .keepAlive);
  EXPECT_TRUE(parseOk("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n").keepAlive);
  EXPECT_FALSE(parseOk("GET / HTTP/1.0\r\n\r\n").keepAlive);
  EXPECT_TRUE(parseOk("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive);
  EXPECT_FALSE(parseOk("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keepAlive);
}

TEST(HttpRequest, ExpectContinue) {
  EXPECT_TRUE(parseOk("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n")
                  .expectContinue);
  EXPECT_FALSE(parseOk("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                       "Expect: 200-ok\r\n\r\n")
                   .expectContinue);
  // HTTP/1.0 clients cannot wait for a 100 (RFC 9110 10.1.1).
  EXPECT_FALSE(parseOk("PUT /f HTTP/1.0\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n")
                   .expectContinue);
}

TEST(HttpRequest, HostRules) {
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: ..\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: a..b\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"), 400);
  EXPECT_EQ(parseOk("GET / HTTP/1.1\r\nHost:\r\n\r\n").host, "");
  EXPECT_EQ(parseOk("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").host, "[::1]:8080");
  EXPECT_EQ(parseOk("GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n").host, "example.com.");
  // Absolute-form still needs the Host header in HTTP/1.1 (RFC 9112 3.2).
  EXPECT_EQ(errorOf("GET http://h/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parseOk("GET http://h/ HTTP/1.0\r\n\r\n").host, "h");
}

TEST(HttpRequest, HeaderSyntaxErrors) {
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tfolded\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01z\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0z\r\n\r\n"s), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7fz\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rz\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\r\n\r\n"), 400);
  // HTAB and obs-text are fine in values.
  EXPECT_EQ(parseOk("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\tb \xc3\xa9\r\n\r\n").find("x-a"),
            "a\tb \xc3\xa9");
}

TEST(HttpRequest, ContentLength) {
  EXPECT_EQ(parseOk("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n").contentLength, 42);
  EXPECT_EQ(parseOk("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n").contentLength, 7);
  EXPECT_EQ(parseOk("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n")
                .contentLength,
            9223372036854775807LL);
  EXPECT_EQ(parseOk("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
                .contentLength,
            5);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n"),
            400);
}

TEST(HttpRequest, TransferEncoding) {
  Request r = parseOk("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.contentLength, -1);
  EXPECT_EQ(r.transferEncoding, "chunked");
  EXPECT_TRUE(parseOk("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n").chunked);
  EXPECT_TRUE(
      parseOk("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked \r\n\r\n").chunked);
  // Content-Length with Transfer-Encoding: the smuggling pattern.
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 3\r\n\r\n"),
            400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"),
            501);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n"), 501);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n"), 501);
  // chunked not last, or twice: the body length is unknowable.
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(errorOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n"), 400);
  EXPECT_EQ(errorOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(HttpRequest, BareLfAndLeadingEmptyLines) {
  const std::string in = "\r\n\n\r\nGET /x HTTP/1.1\nHost: h\nX: y\r\n\n";
  Request r;
  ParseResult res = parse(in, r);
  ASSERT_EQ(res.status, ParseStatus::Complete);
  EXPECT_EQ(res.consumed, in.size());
  EXPECT_EQ(r.headerBytes, in.size() - 5);
  EXPECT_EQ(r.path, "/x");
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.find("x"), "y");
  // A CR not followed by LF before the request line is an error, not an empty line.
  EXPECT_EQ(errorOf("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  // Only empty lines so far: wait, but not forever.
  EXPECT_EQ(errorOf("\r\n\r\n"), -1);
  EXPECT_EQ(errorOf("\r"), -1);
  EXPECT_EQ(errorOf(std::string(20000, '\n')), 400);
}

TEST(HttpRequest, Pipelined) {
  const std::string in =
      "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "HEAD /three HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
      "GET /four HTTP/1.1\r\nHo";
  std::string_view rest = in;
  Request r;

  ParseResult res = parse(rest, r);
  ASSERT_EQ(res.status, ParseStatus::Complete);
  EXPECT_EQ(r.path, "/one");
  EXPECT_EQ(res.consumed, 30u);
  rest.remove_prefix(res.consumed);

  res = parse(rest, r);
  ASSERT_EQ(res.status, ParseStatus::Complete);
  EXPECT_EQ(r.method, Method::Post);
  EXPECT_EQ(r.path, "/two");
  EXPECT_EQ(r.contentLength, 5);
  rest.remove_prefix(res.consumed);
  EXPECT_EQ(rest.substr(0, 5), "hello");
  rest.remove_prefix(5);

  res = parse(rest, r);
  ASSERT_EQ(res.status, ParseStatus::Complete);
  EXPECT_EQ(r.method, Method::Head);
  EXPECT_EQ(r.path, "/three");
  EXPECT_FALSE(r.keepAlive);
  rest.remove_prefix(res.consumed);

  res = parse(rest, r);
  EXPECT_EQ(res.status, ParseStatus::Incomplete);
  EXPECT_EQ(res.consumed, 0u);
  EXPECT_EQ(rest, "GET /four HTTP/1.1\r\nHo");
}

TEST(HttpRequest, IncompleteAtEveryByteBoundary) {
  const std::string requests[] = {
      "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip\r\n"
      "Range: bytes=0-9\r\nConnection: keep-alive\r\n\r\n",
      "\r\nPOST /upload HTTP/1.0\nContent-Length: 12\nConnection: keep-alive\n\n",
      "PUT http://h:1/a HTTP/1.1\r\nHost: h:1\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\n\r\n",
  };
  for (const std::string& full : requests) {
    Request r;
    for (size_t n = 0; n < full.size(); ++n) {
      ParseResult res = parse(std::string_view(full).substr(0, n), r);
      ASSERT_EQ(res.status, ParseStatus::Incomplete) << "prefix " << n << " of\n" << full;
      EXPECT_EQ(res.consumed, 0u);
    }
    ParseResult res = parse(full, r);
    ASSERT_EQ(res.status, ParseStatus::Complete) << full;
    EXPECT_EQ(res.consumed, full.size());
  }
  // And the fields come out right after a byte-by-byte arrival.
  Request r;
  ASSERT_EQ(parse(requests[2], r).status, ParseStatus::Complete);
  EXPECT_EQ(r.method, Method::Put);
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.expectContinue);
  EXPECT_EQ(r.host, "h:1");
}

TEST(HttpRequest, RequestLineTooLongIs414) {
  ParseLimits limits;
  limits.maxRequestLine = 64;
  std::string target = "/" + std::string(70, 'a');
  // Without a CRLF yet: 414 as soon as the limit is passed.
  EXPECT_EQ(errorOf("GET " + target, limits), 414);
  EXPECT_EQ(errorOf("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n", limits), 414);
  // Exactly at the limit is fine, also while waiting for the LF after a CR.
  std::string line = "GET /" + std::string(64 - 14, 'b') + " HTTP/1.1";
  ASSERT_EQ(line.size(), 64u);
  EXPECT_EQ(errorOf(line, limits), -1);
  EXPECT_EQ(errorOf(line + "\r", limits), -1);
  EXPECT_EQ(errorOf(line + "\r\nHost: h\r\n\r\n", limits), 0);
  EXPECT_EQ(errorOf(line + "x", limits), 414);
  // Default limit 8192.
  EXPECT_EQ(errorOf("GET /" + std::string(8200, 'c')), 414);
}

TEST(HttpRequest, HeadersTooLargeIs431) {
  ParseLimits limits;
  limits.maxHeaderBytes = 100;
  std::string big = "X-Big: " + std::string(120, 'v') + "\r\n";
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\n" + big + "\r\n", limits), 431);
  // Without the end of the line yet.
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(120, 'v'), limits), 431);
  // Exactly 100 bytes of header section (with the final CRLF) is fine.
  std::string head = "Host: h\r\nX: " + std::string(100 - 9 - 5 - 2, 'w') + "\r\n\r\n";
  ASSERT_EQ(head.size(), 100u);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\n" + head, limits), 0);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nA: b\r\n" + head, limits), 431);
}

TEST(HttpRequest, TooManyHeadersIs431) {
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 63; ++i) in += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(errorOf(in + "\r\n"), 0);  // 64 headers
  EXPECT_EQ(errorOf(in + "X-64: v\r\n\r\n"), 431);
  EXPECT_EQ(errorOf(in + "X-64: v\r\n"), 431);  // before the head ends

  ParseLimits limits;
  limits.maxHeaders = 2;
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n", limits), 0);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits), 431);
  limits.maxHeaders = 1000;  // capped at kMaxHeaders
  EXPECT_EQ(errorOf(in + "X-64: v\r\n\r\n", limits), 431);
}

TEST(HttpRequest, ErrorBeforeHeadEnds) {
  // A bad header line is refused without waiting for the rest of the head.
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nBad Header: 1\r\nX: y"), 400);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n folded"), -1);
  EXPECT_EQ(errorOf("GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n folded\r\n"), 400);
}

TEST(HttpRequest, ReusedRequestIsReset) {
  Request r;
  ASSERT_EQ(parse("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nRange: bytes=1-2\r\n"
                  "Expect: 100-continue\r\n\r\n",
                  r)
                .status,
            ParseStatus::Complete);
  ASSERT_EQ(parse("GET /b?q HTTP/1.0\r\n\r\n", r).status, ParseStatus::Complete);
  EXPECT_EQ(r.contentLength, -1);
  EXPECT_EQ(r.range, "");
  EXPECT_EQ(r.host, "");
  EXPECT_FALSE(r.expectContinue);
  EXPECT_EQ(r.headerCount, 0u);
  EXPECT_EQ(r.query, "q");
}

TEST(HttpRequest, Helpers) {
  EXPECT_TRUE(listContainsToken("a, b ,c", "B"));
  EXPECT_TRUE(listContainsToken("close", "close"));
  EXPECT_FALSE(listContainsToken("closer, x", "close"));
  EXPECT_FALSE(listContainsToken("", "close"));
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equalsIgnoreCase("a", "ab"));
  EXPECT_TRUE(isTchar('!'));
  EXPECT_FALSE(isTchar(':'));
  EXPECT_EQ(methodFromToken("PROPFIND"), Method::Propfind);
  EXPECT_EQ(methodFromToken(""), Method::Other);
}

}  // namespace
}  // namespace manifold::http
