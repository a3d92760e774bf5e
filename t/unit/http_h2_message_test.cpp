// HTTP/2 <-> HTTP/1.1 translation (protocols/http/h2_message.hpp): request heads built from
// HTTP/2 fields, chunk encoding of bodies without a length, response fields for nghttp2.
#include <gtest/gtest.h>

#include <string>

#include "protocols/http/h2_message.hpp"
#include "protocols/http/request.hpp"

using namespace manifold::http;

namespace {

std::string nameOf(const nghttp2_nv& nv) {
  return std::string(reinterpret_cast<const char*>(nv.name), nv.namelen);
}
std::string valueOf(const nghttp2_nv& nv) {
  return std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen);
}

}  // namespace

TEST(HttpH2Message, RequestHeadIsHttp11WithHostFromAuthority) {
  H2RequestBuilder b(4096);
  ASSERT_TRUE(b.add(":method", "GET"));
  ASSERT_TRUE(b.add(":scheme", "https"));
  ASSERT_TRUE(b.add(":path", "/a/b?c=d"));
  ASSERT_TRUE(b.add(":authority", "example.test"));
  ASSERT_TRUE(b.add("accept-encoding", "gzip"));
  ASSERT_TRUE(b.add("cookie", "a=1"));
  ASSERT_TRUE(b.add("cookie", "b=2"));
  std::string out;
  ASSERT_TRUE(b.finish(false, out));
  EXPECT_EQ(out,
            "GET /a/b?c=d HTTP/1.1\r\nhost: example.test\r\naccept-encoding: gzip\r\n"
            "cookie: a=1\r\ncookie: b=2\r\n\r\n");
  EXPECT_FALSE(b.chunked());
  EXPECT_FALSE(b.headRequest());
  // The engine's own parser takes it.
  Request request;
  ParseResult r = parseRequest(out, request, ParseLimits{});
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(request.host, "example.test");
  EXPECT_EQ(r.consumed, out.size());
}

TEST(HttpH2Message, BodyWithoutLengthIsChunked) {
  H2RequestBuilder b(4096);
  b.add(":method", "PUT");
  b.add(":path", "/up");
  b.add(":authority", "x");
  std::string out;
  ASSERT_TRUE(b.finish(true, out));
  EXPECT_TRUE(b.chunked());
  EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos);
  encodeChunk("hello", false, out);
  encodeChunk(std::string(300, 'x'), false, out);
  encodeChunk({}, true, out);
  EXPECT_NE(out.find("\r\n\r\n5\r\nhello\r\n12c\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("x\r\n0\r\n\r\n"));

  H2RequestBuilder withLength(4096);
  withLength.add(":method", "PUT");
  withLength.add(":path", "/up");
  withLength.add("content-length", "5");
  std::string head;
  ASSERT_TRUE(withLength.finish(true, head));
  EXPECT_FALSE(withLength.chunked());
  EXPECT_EQ(head.find("transfer-encoding"), std::string::npos);
}

TEST(HttpH2Message, RefusesSplittingValuesOversizeAndMissingPseudoHeaders) {
  H2RequestBuilder b(64);
  EXPECT_FALSE(b.add("x-a", "1\r\nx-b: 2"));
  EXPECT_FALSE(b.add("x-a", std::string("a\0b", 3)));
  EXPECT_FALSE(b.add("x-big", std::string(100, 'a')));
  b.reset();
  b.add(":method", "GET");
  std::string out;
  EXPECT_FALSE(b.finish(false, out));  // no :path
  EXPECT_TRUE(out.empty());
  b.reset();
  b.add(":method", "HEAD");
  b.add(":path", "/");
  EXPECT_TRUE(b.finish(false, out));
  EXPECT_TRUE(b.headRequest());
  EXPECT_EQ(out, "HEAD / HTTP/1.1\r\n\r\n");
}

TEST(HttpH2Message, ResponseFieldsDropHopByHopAndLowercase) {
  std::string wire =
      "HTTP/1.1 206 Partial Content\r\nServer: manifold\r\nConnection: keep-alive\r\n"
      "Keep-Alive: timeout=5\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/100\r\n"
      "Transfer-Encoding: identity\r\nUpgrade: h2c\r\n\r\n";
  manifold::proxy::ResponseHead head;
  // Transfer-Encoding and Content-Length together are refused by the parser: drop it first.
  std::string ok = wire;
  ok.erase(ok.find("Transfer-Encoding"), std::string("Transfer-Encoding: identity\r\n").size());
  ASSERT_EQ(manifold::proxy::parseResponse(ok, head, false).status,
            manifold::proxy::ResponseStatus::Complete);
  std::vector<nghttp2_nv> fields;
  std::string names;
  responseFields(head, fields, names);
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(nameOf(fields[0]), ":status");
  EXPECT_EQ(valueOf(fields[0]), "206");
  EXPECT_EQ(nameOf(fields[1]), "server");
  EXPECT_EQ(nameOf(fields[2]), "content-length");
  EXPECT_EQ(valueOf(fields[2]), "10");
  EXPECT_EQ(nameOf(fields[3]), "content-range");
  EXPECT_EQ(valueOf(fields[3]), "bytes 0-9/100");
}
