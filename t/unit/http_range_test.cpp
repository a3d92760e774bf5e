// Unit tests of Range parsing and multipart/byteranges pieces (protocols/http/range.*).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/http/range.hpp"

namespace manifold::http {
namespace {

using V = std::vector<ByteRange>;

RangeResult parse(std::string_view h, uint64_t size, V& out, size_t maxRanges = 16) {
  return parseRange(h, size, out, maxRanges);
}

TEST(HttpRange, SingleRanges) {
  V v;
  ASSERT_EQ(parse("bytes=0-99", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 99}}));
  ASSERT_EQ(parse("bytes=500-", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{500, 999}}));
  ASSERT_EQ(parse("bytes=-100", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{900, 999}}));
  ASSERT_EQ(parse("bytes=-5000", 1000, v), RangeResult::Satisfiable);  // whole
  EXPECT_EQ(v, (V{{0, 999}}));
  ASSERT_EQ(parse("bytes=900-5000", 1000, v), RangeResult::Satisfiable);  // clamped
  EXPECT_EQ(v, (V{{900, 999}}));
  ASSERT_EQ(parse("bytes=999-999", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{999, 999}}));
  ASSERT_EQ(parse("Bytes=0-0", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 0}}));
  ASSERT_EQ(parse("bytes=0-99999999999999999999999", 10, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 9}}));
  EXPECT_EQ(v[0].length(), 10u);
}

TEST(HttpRange, Unsatisfiable) {
  V v;
  EXPECT_EQ(parse("bytes=1000-", 1000, v), RangeResult::Unsatisfiable);
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(parse("bytes=1000-2000", 1000, v), RangeResult::Unsatisfiable);
  EXPECT_EQ(parse("bytes=-0", 1000, v), RangeResult::Unsatisfiable);
  EXPECT_EQ(parse("bytes=5000-6000, 2000-", 1000, v), RangeResult::Unsatisfiable);
  EXPECT_EQ(parse("bytes=99999999999999999999999-", 1000, v), RangeResult::Unsatisfiable);
  // Empty representation: served whole.
  EXPECT_EQ(parse("bytes=0-", 0, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=-1", 0, v), RangeResult::Ignore);
}

TEST(HttpRange, ListsDropUnsatisfiableMembers) {
  V v;
  ASSERT_EQ(parse("bytes=0-9, 5000-6000 ,20-29", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 9}, {20, 29}}));
  ASSERT_EQ(parse("bytes=,0-9,,", 1000, v), RangeResult::Satisfiable);  // empty elements
  EXPECT_EQ(v, (V{{0, 9}}));
  ASSERT_EQ(parse("bytes=\t0-9 ,\t-1", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 9}, {999, 999}}));
}

TEST(HttpRange, MergesOverlappingAndAdjacentKeepingOrder) {
  V v;
  ASSERT_EQ(parse("bytes=0-9,10-19", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 19}}));
  ASSERT_EQ(parse("bytes=0-9,5-30", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 30}}));
  ASSERT_EQ(parse("bytes=0-9,11-19", 1000, v), RangeResult::Satisfiable);  // gap of one byte
  EXPECT_EQ(v, (V{{0, 9}, {11, 19}}));
  // Asked order is kept for non-touching ranges...
  ASSERT_EQ(parse("bytes=500-599,0-99", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{500, 599}, {0, 99}}));
  // ...and a merged range takes the place of the earliest member.
  ASSERT_EQ(parse("bytes=500-599,0-99,100-499", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 599}}));
  ASSERT_EQ(parse("bytes=800-899,0-9,850-950,20-29", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{800, 950}, {0, 9}, {20, 29}}));
  ASSERT_EQ(parse("bytes=0-0,0-0,0-0", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 0}}));
  ASSERT_EQ(parse("bytes=-100,0-", 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v, (V{{0, 999}}));
}

TEST(HttpRange, IgnoredHeaders) {
  V v;
  EXPECT_EQ(parse("", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("items=0-9", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes 0-9", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=,", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=9-0", 1000, v), RangeResult::Ignore);  // last < first
  EXPECT_EQ(parse("bytes=a-b", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=-", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=1", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=0-9,x", 1000, v), RangeResult::Ignore);
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(parse("bytes=0 - 9", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=+1-2", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=1-2-3", 1000, v), RangeResult::Ignore);
  EXPECT_EQ(parse("bytes=--1", 1000, v), RangeResult::Ignore);
}

TEST(HttpRange, TooManyRangesIsIgnored) {
  V v;
  std::string h = "bytes=";
  for (int i = 0; i < 16; ++i) h += std::to_string(i * 10) + "-" + std::to_string(i * 10 + 1) + ",";
  EXPECT_EQ(parse(h, 1000, v), RangeResult::Satisfiable);
  EXPECT_EQ(v.size(), 16u);
  EXPECT_EQ(parse(h + "500-501", 1000, v), RangeResult::Ignore);
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(parse("bytes=0-1,3-4,6-7", 1000, v, 2), RangeResult::Ignore);
  // Counted before merging: 17 copies of one range are still abuse.
  std::string same = "bytes=0-0";
  for (int i = 0; i < 16; ++i) same += ",0-0";
  EXPECT_EQ(parse(same, 1000, v), RangeResult::Ignore);
}

TEST(HttpRange, ContentRangeValues) {
  std::string s = "x";
  appendContentRange(s, {0, 99}, 1234);
  EXPECT_EQ(s, "xbytes 0-99/1234");
  s.clear();
  appendUnsatisfiedRange(s, 1234);
  EXPECT_EQ(s, "bytes */1234");
}

TEST(HttpRange, MultipartPieces) {
  std::string b = multipartBoundary(42);
  EXPECT_EQ(b.size(), 24u);
  EXPECT_EQ(b, multipartBoundary(42));
  EXPECT_NE(b, multipartBoundary(43));
  EXPECT_EQ(b.substr(0, 8), "manifold");

  std::string out = "HEAD";
  appendPartHeader(out, "BND", "text/plain", {0, 4}, 20);
  EXPECT_EQ(out,
            "HEAD\r\n--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/20\r\n\r\n");
  out.clear();
  appendPartHeader(out, "BND", "", {10, 19}, 20);
  EXPECT_EQ(out, "\r\n--BND\r\nContent-Range: bytes 10-19/20\r\n\r\n");
  out.clear();
  appendClosingBoundary(out, "BND");
  EXPECT_EQ(out, "\r\n--BND--\r\n");
}

TEST(HttpRange, MultipartLengthIsExact) {
  const std::string body = "0123456789abcdefghijklmnopqrstuvwxyz";
  const std::string boundary = multipartBoundary(7);
  const V cases[] = {{{0, 4}}, {{0, 4}, {10, 19}}, {{35, 35}, {0, 0}, {9, 10}}, {{0, 35}}};
  for (const std::string ct : {"text/plain", ""}) {
    for (const V& ranges : cases) {
      std::string out;
      for (const ByteRange& r : ranges) {
        appendPartHeader(out, boundary, ct, r, body.size());
        out.append(body, r.first, r.length());
      }
      appendClosingBoundary(out, boundary);
      EXPECT_EQ(multipartLength(boundary, ct, ranges, body.size()), out.size());
    }
  }
  // Big numbers change digit counts.
  V big = {{0, 9999999999ULL}, {123456789012ULL, 123456789012ULL}};
  std::string heads;
  uint64_t bytes = 0;
  for (const ByteRange& r : big) {
    appendPartHeader(heads, "b", "a/b", r, 999999999999ULL);
    bytes += r.length();
  }
  appendClosingBoundary(heads, "b");
  EXPECT_EQ(multipartLength("b", "a/b", big, 999999999999ULL), heads.size() + bytes);
}

}  // namespace
}  // namespace manifold::http
