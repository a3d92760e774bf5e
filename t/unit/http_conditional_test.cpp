// Unit tests of conditional requests and entity tags (protocols/http/conditional.*).
#include <gtest/gtest.h>

#include <string>

#include "protocols/http/conditional.hpp"

namespace manifold::http {
namespace {

constexpr std::string_view kTag = "\"5f3a1b2c-400\"";
constexpr time_t kMtime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr const char* kAtMtime = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr const char* kBefore = "Sun, 06 Nov 1994 08:49:36 GMT";
constexpr const char* kAfter = "Sun, 06 Nov 1994 08:49:38 GMT";

// Holds the request text so the parsed views stay valid.
struct Req {
  std::string text;
  Request r;
  Req(std::string method, std::string headers) {
    text = method + " /f HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
    ParseResult res = parseRequest(text, r);
    EXPECT_EQ(res.status, ParseStatus::Complete) << text;
  }
};

Precondition eval(const char* method, const std::string& headers, std::string_view etag = kTag,
                  time_t mtime = kMtime) {
  Req q(method, headers);
  return evaluatePreconditions(q.r, etag, mtime);
}

constexpr auto P = Precondition::Proceed;
constexpr auto NM = Precondition::NotModified;
constexpr auto F = Precondition::Failed;

TEST(HttpConditional, NoConditions) {
  EXPECT_EQ(eval("GET", ""), P);
  EXPECT_EQ(eval("PUT", ""), P);
}

TEST(HttpConditional, IfMatchIsStrong) {
  EXPECT_EQ(eval("GET", "If-Match: \"5f3a1b2c-400\"\r\n"), P);
  EXPECT_EQ(eval("PUT", "If-Match: \"5f3a1b2c-400\"\r\n"), P);
  EXPECT_EQ(eval("PUT", "If-Match: \"other\"\r\n"), F);
  EXPECT_EQ(eval("PUT", "If-Match: W/\"5f3a1b2c-400\"\r\n"), F);  // weak never matches strongly
  EXPECT_EQ(eval("PUT", "If-Match: \"a\", \"5f3a1b2c-400\"\r\n"), P);
  EXPECT_EQ(eval("PUT", "If-Match: \"a\",\"b\"\r\n"), F);
  EXPECT_EQ(eval("PUT", "If-Match: *\r\n"), P);
  EXPECT_EQ(eval("PUT", "If-Match: *\r\n", ""), F);  // resource does not exist
  EXPECT_EQ(eval("PUT", "If-Match: \"5f3a1b2c-400\"\r\n", "W/\"5f3a1b2c-400\""), F);
  // Every field line counts.
  EXPECT_EQ(eval("PUT", "If-Match: \"a\"\r\nIf-Match: \"5f3a1b2c-400\"\r\n"), P);
  // Malformed: no match.
  EXPECT_EQ(eval("PUT", "If-Match: 5f3a1b2c-400\r\n"), F);
  EXPECT_EQ(eval("PUT", "If-Match: \"5f3a1b2c-400\r\n"), F);
}

TEST(HttpConditional, IfUnmodifiedSince) {
  EXPECT_EQ(eval("PUT", std::string("If-Unmodified-Since: ") + kAtMtime + "\r\n"), P);
  EXPECT_EQ(eval("PUT", std::string("If-Unmodified-Since: ") + kAfter + "\r\n"), P);
  EXPECT_EQ(eval("PUT", std::string("If-Unmodified-Since: ") + kBefore + "\r\n"), F);
  EXPECT_EQ(eval("GET", std::string("If-Unmodified-Since: ") + kBefore + "\r\n"), F);
  EXPECT_EQ(eval("PUT", "If-Unmodified-Since: yesterday\r\n"), P);  // invalid: ignored
  EXPECT_EQ(eval("PUT", std::string("If-Unmodified-Since: ") + kBefore + "\r\n", kTag, -1), P);
  // If-Match takes precedence: If-Unmodified-Since is not looked at.
  EXPECT_EQ(eval("PUT", std::string("If-Match: *\r\nIf-Unmodified-Since: ") + kBefore + "\r\n"), P);
}

TEST(HttpConditional, IfNoneMatchIsWeak) {
  EXPECT_EQ(eval("GET", "If-None-Match: \"5f3a1b2c-400\"\r\n"), NM);
  EXPECT_EQ(eval("HEAD", "If-None-Match: \"5f3a1b2c-400\"\r\n"), NM);
  EXPECT_EQ(eval("GET", "If-None-Match: W/\"5f3a1b2c-400\"\r\n"), NM);
  EXPECT_EQ(eval("GET", "If-None-Match: \"x\", W/\"5f3a1b2c-400\"\r\n"), NM);
  EXPECT_EQ(eval("GET", "If-None-Match: \"x\"\r\n"), P);
  EXPECT_EQ(eval("GET", "If-None-Match: *\r\n"), NM);
  EXPECT_EQ(eval("PUT", "If-None-Match: *\r\n"), F);
  EXPECT_EQ(eval("PUT", "If-None-Match: *\r\n", ""), P);  // create-only PUT of a new file
  EXPECT_EQ(eval("DELETE", "If-None-Match: \"5f3a1b2c-400\"\r\n"), F);
  EXPECT_EQ(eval("POST", "If-None-Match: \"x\"\r\n"), P);
  EXPECT_EQ(eval("GET", "If-None-Match: \"x\"\r\nIf-None-Match: \"5f3a1b2c-400\"\r\n"), NM);
}

TEST(HttpConditional, IfModifiedSince) {
  EXPECT_EQ(eval("GET", std::string("If-Modified-Since: ") + kAtMtime + "\r\n"), NM);
  EXPECT_EQ(eval("GET", std::string("If-Modified-Since: ") + kAfter + "\r\n"), NM);
  EXPECT_EQ(eval("GET", std::string("If-Modified-Since: ") + kBefore + "\r\n"), P);
  EXPECT_EQ(eval("HEAD", std::string("If-Modified-Since: ") + kAtMtime + "\r\n"), NM);
  EXPECT_EQ(eval("GET", "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n"), NM);
  EXPECT_EQ(eval("GET", "If-Modified-Since: garbage\r\n"), P);
  EXPECT_EQ(eval("POST", std::string("If-Modified-Since: ") + kAtMtime + "\r\n"),
            P);  // GET/HEAD only
  EXPECT_EQ(eval("GET", std::string("If-Modified-Since: ") + kAtMtime + "\r\n", kTag, -1), P);
  // If-None-Match present: If-Modified-Since is ignored, even when the tag does not match.
  EXPECT_EQ(
      eval("GET", std::string("If-None-Match: \"x\"\r\nIf-Modified-Since: ") + kAtMtime + "\r\n"),
      P);
}

TEST(HttpConditional, Order) {
  // If-Match fails first even when If-None-Match would give 304.
  EXPECT_EQ(eval("GET", "If-Match: \"x\"\r\nIf-None-Match: \"5f3a1b2c-400\"\r\n"), F);
  // If-Unmodified-Since fails before If-None-Match is looked at.
  EXPECT_EQ(eval("GET", std::string("If-Unmodified-Since: ") + kBefore +
                            "\r\nIf-None-Match: \"5f3a1b2c-400\"\r\n"),
            F);
  EXPECT_EQ(eval("GET", std::string("If-Match: \"5f3a1b2c-400\"\r\nIf-Modified-Since: ") +
                            kAtMtime + "\r\n"),
            NM);
}

TEST(HttpConditional, FieldsSetByHand) {
  Request r;
  r.method = Method::Get;
  r.ifNoneMatch = kTag;
  EXPECT_EQ(evaluatePreconditions(r, kTag, kMtime), NM);
  r.method = Method::Put;
  EXPECT_EQ(evaluatePreconditions(r, kTag, kMtime), F);
}

TEST(HttpConditional, IfRange) {
  EXPECT_FALSE(ifRangeAllows("", kTag, kMtime));  // present but empty (#11.10): whole file
  EXPECT_TRUE(ifRangeAllows("\"5f3a1b2c-400\"", kTag, kMtime));
  EXPECT_FALSE(ifRangeAllows("\"other\"", kTag, kMtime));
  EXPECT_FALSE(ifRangeAllows("W/\"5f3a1b2c-400\"", kTag, kMtime));
  EXPECT_FALSE(ifRangeAllows("\"5f3a1b2c-400\"", "W/\"5f3a1b2c-400\"", kMtime));
  EXPECT_FALSE(ifRangeAllows("\"5f3a1b2c-400\" x", kTag, kMtime));
  EXPECT_TRUE(ifRangeAllows(kAtMtime, kTag, kMtime));
  EXPECT_FALSE(ifRangeAllows(kAfter, kTag, kMtime));  // exact equality only
  EXPECT_FALSE(ifRangeAllows(kBefore, kTag, kMtime));
  EXPECT_FALSE(ifRangeAllows(kAtMtime, kTag, -1));
  EXPECT_FALSE(ifRangeAllows("garbage", kTag, kMtime));
}

TEST(HttpConditional, EtagListParsing) {
  EXPECT_TRUE(etagListMatches("\"a\" , \"b\"", "\"b\"", true));
  EXPECT_TRUE(etagListMatches(" , \"b\",", "\"b\"", true));
  EXPECT_FALSE(etagListMatches("\"a\" \"b\"", "\"b\"", true));  // missing comma: stop
  EXPECT_FALSE(etagListMatches("\"a\", junk, \"b\"", "\"b\"", true));
  EXPECT_FALSE(etagListMatches("", "\"b\"", false));
  EXPECT_TRUE(etagListMatches("\"\"", "\"\"", true));  // empty opaque tag is a tag
  EXPECT_FALSE(etagListMatches("\"b\"", "b", false));  // own tag unquoted: never matches
}

TEST(HttpConditional, MakeEtag) {
  std::string tag = "old";
  makeEtag(uint64_t{0x5f3a1b2c} * 1000000000u, 0x400, 0, tag);
  EXPECT_EQ(tag, "\"5f3a1b2c-400\"");
  makeEtag(0, 0, 0, tag);
  EXPECT_EQ(tag, "\"0-0\"");

  std::string a, b, c, d;
  makeEtag(uint64_t{1700000000} * 1000000000u + 123, 1024, 77, a);
  makeEtag(uint64_t{1700000000} * 1000000000u + 124, 1024, 77, b);
  makeEtag(uint64_t{1700000000} * 1000000000u + 123, 1024, 78, c);
  makeEtag(uint64_t{1700000000} * 1000000000u + 123, 1024, 77, d);
  EXPECT_EQ(a.substr(0, 13), "\"6553f100-400");
  EXPECT_EQ(a.size(), 23u);
  EXPECT_EQ(a.back(), '"');
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a, d);
  // Our own tags always parse as strong tags.
  EXPECT_TRUE(etagListMatches(a, a, true));
  EXPECT_TRUE(ifRangeAllows(a, a, 0));
}

}  // namespace
}  // namespace manifold::http
