// Unit tests of response head building (protocols/http/response.*).
#include <gtest/gtest.h>

#include <string>

#include "protocols/http/response.hpp"

namespace manifold::http {
namespace {

constexpr std::string_view kDate = "Sun, 06 Nov 1994 08:49:37 GMT";

TEST(HttpResponse, StatusTexts) {
  for (int code : {100, 200, 201, 204, 206, 301, 302, 304, 400, 403, 404, 405, 408,
                   409, 411, 412, 413, 414, 415, 416, 431, 500, 501, 503, 505, 507})
    EXPECT_FALSE(statusText(code).empty()) << code;
  EXPECT_EQ(statusText(404), "Not Found");
  EXPECT_EQ(statusText(416), "Range Not Satisfiable");
  EXPECT_EQ(statusText(599), "");
}

TEST(HttpResponse, HeadLines) {
  std::string out = "prev";
  appendStatusLine(out, 1, 200);
  appendHeader(out, "Content-Type", "text/plain");
  appendHeader(out, "Content-Length", uint64_t{18446744073709551615ULL});
  appendHeader(out, "X-Evil", "a\r\nSet-Cookie: b\n");
  appendEndOfHeaders(out);
  EXPECT_EQ(out,
            "prevHTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 18446744073709551615\r\n"
            "X-Evil: a  Set-Cookie: b \r\n"
            "\r\n");
  out.clear();
  appendStatusLine(out, 0, 304);
  appendStatusLine(out, 1, 599);
  EXPECT_EQ(out, "HTTP/1.0 304 Not Modified\r\nHTTP/1.1 599 \r\n");
}

TEST(HttpResponse, ErrorResponse) {
  std::string out;
  appendErrorResponse(out, 1, 404, kDate, "manifold", true, false);
  const std::string body =
      "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
      "<body><h1>404 Not Found</h1></body></html>\n";
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\n"
            "Server: manifold\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/html\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\n"
                "\r\n" +
                body);
  EXPECT_EQ(errorBodyLength(404), body.size());
}

TEST(HttpResponse, ErrorResponseVariants) {
  std::string out;
  appendErrorResponse(out, 1, 405, kDate, "", false, true, "Allow: GET, HEAD\r\n");
  EXPECT_EQ(out,
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/html\r\n"
            "Content-Length: " +
                std::to_string(errorBodyLength(405)) +
                "\r\n"
                "Connection: close\r\n"
                "Allow: GET, HEAD\r\n"
                "\r\n");
  out.clear();
  appendErrorResponse(out, 0, 400, {}, "m", true, false);
  EXPECT_NE(out.find("HTTP/1.0 400 Bad Request\r\nServer: m\r\nContent-Type"), std::string::npos);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Date:"), std::string::npos);
  size_t headEnd = out.find("\r\n\r\n");
  ASSERT_NE(headEnd, std::string::npos);
  EXPECT_EQ(out.size() - headEnd - 4, errorBodyLength(400));

  out.clear();
  appendErrorResponse(out, 1, 304, kDate, "m", true, false, "ETag: \"x\"\r\n");
  EXPECT_EQ(out,
            "HTTP/1.1 304 Not Modified\r\nServer: m\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: \"x\"\r\n\r\n");
}

TEST(HttpResponse, EveryErrorBodyLengthIsExact) {
  for (int code = 400; code < 600; ++code) {
    std::string out;
    appendErrorResponse(out, 1, code, kDate, "s", true, false);
    size_t headEnd = out.find("\r\n\r\n");
    ASSERT_NE(headEnd, std::string::npos);
    std::string cl = "Content-Length: " + std::to_string(out.size() - headEnd - 4) + "\r\n";
    EXPECT_NE(out.find(cl), std::string::npos) << code;
  }
}

TEST(HttpResponse, Chunks) {
  std::string out;
  appendChunk(out, "hello");
  appendChunk(out, "");
  appendChunk(out, std::string(300, 'x'));
  appendChunkHeader(out, 4096);
  appendLastChunk(out);
  EXPECT_EQ(out, "5\r\nhello\r\n12c\r\n" + std::string(300, 'x') + "\r\n1000\r\n0\r\n\r\n");
}

}  // namespace
}  // namespace manifold::http
