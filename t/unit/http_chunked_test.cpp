// Unit tests of the chunked body decoder (protocols/http/chunked.*).
#include <gtest/gtest.h>

#include <string>

#include "protocols/http/chunked.hpp"

namespace manifold::http {
namespace {

using Status = ChunkedDecoder::Status;

struct Decoded {
  Status status = Status::NeedMore;
  std::string body;
  size_t consumed = 0;  // of the whole input, when Done
};

// Feeds `in` in pieces of `piece` bytes (0: all at once), as a connection would.
Decoded decode(std::string_view in, size_t piece = 0) {
  ChunkedDecoder dec;
  Decoded d;
  size_t offset = 0;
  while (offset < in.size() || piece == 0) {
    size_t end = piece == 0 ? in.size() : std::min(in.size(), offset + piece);
    std::string_view buf = in.substr(offset, end - offset);
    for (;;) {
      size_t used = 123456;
      std::string_view data;
      Status st = dec.feed(buf, used, data);
      EXPECT_LE(used, buf.size());
      if (!data.empty()) {
        EXPECT_GE(data.data(), buf.data());  // a view into the input
        EXPECT_LE(data.data() + data.size(), buf.data() + used);
      }
      d.body += data;
      buf.remove_prefix(used);
      offset += used;
      if (st != Status::NeedMore) {
        d.status = st;
        d.consumed = offset;
        return d;
      }
      if (data.empty()) {
        EXPECT_TRUE(buf.empty());  // NeedMore without data: all input eaten
        break;
      }
      if (buf.empty()) break;
    }
    if (piece == 0) break;
  }
  d.status = Status::NeedMore;
  return d;
}

TEST(HttpChunked, Simple) {
  const std::string in = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT";
  for (size_t piece : {0, 1, 2, 3, 7}) {
    Decoded d = decode(in, piece);
    EXPECT_EQ(d.status, Status::Done) << piece;
    EXPECT_EQ(d.body, "hello world");
    EXPECT_EQ(d.consumed, in.size() - 4);  // "NEXT" belongs to the next request
  }
}

TEST(HttpChunked, HexSizesExtensionsTrailers) {
  std::string big(0x1a, 'x');
  Decoded d = decode("1A;name=value;q=\"a \\\" b\"\r\n" + big +
                     "\r\n0;last\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n");
  EXPECT_EQ(d.status, Status::Done);
  EXPECT_EQ(d.body, big);
  d = decode("00000a \t; ext\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(d.status, Status::Done);
  EXPECT_EQ(d.body, "0123456789");
  d = decode("f\r\n0123456789abcde\r\n000\r\n\r\n");
  EXPECT_EQ(d.status, Status::Done);
  EXPECT_EQ(d.body, "0123456789abcde");
}

TEST(HttpChunked, BareLf) {
  Decoded d = decode("3\nabc\n0\n\n");
  EXPECT_EQ(d.status, Status::Done);
  EXPECT_EQ(d.body, "abc");
  d = decode("3\nabc\n0\nTrailer: x\n\n");
  EXPECT_EQ(d.status, Status::Done);
}

TEST(HttpChunked, EmptyBody) {
  Decoded d = decode("0\r\n\r\n");
  EXPECT_EQ(d.status, Status::Done);
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(d.consumed, 5u);
}

TEST(HttpChunked, Incomplete) {
  const std::string in = "5\r\nhello\r\n0\r\n\r\n";
  for (size_t n = 0; n < in.size(); ++n) {
    Decoded d = decode(std::string_view(in).substr(0, n), 1);
    EXPECT_EQ(d.status, Status::NeedMore) << n;
  }
}

TEST(HttpChunked, Errors) {
  const char* bad[] = {
      "x\r\n",                          // not hex
      "\r\n",                           // no size
      ";ext\r\n",                       // no size
      "-1\r\n",                         //
      "5 5\r\nhello\r\n",               // space inside the size
      "5\rX",                           // CR without LF
      "5\r\nhelloX\r\n",                // data longer than the size
      "5\r\nhello\rX",                  //
      "5;a\x01\r\nhello\r\n",           // control in extension
      "5;\"unterminated\r\nhello\r\n",  // CR inside a quoted string
      "0\r\n bad-fold: x\r\n\r\n",      // trailer starting with whitespace
      "0\r\nNo Colon\r\n\r\n",          //
      "0\r\nX: a\x7f\r\n\r\n",          //
      "0\r\n\rX",                       //
      "10000000000000000\r\n",          // 2^64: overflows
      "4000000000000001\r\n",           // just over kMaxChunkSize
      "0x10\r\n",                       //
  };
  for (const char* in : bad) {
    Decoded d = decode(in);
    EXPECT_EQ(d.status, Status::Error) << in;
    EXPECT_EQ(decode(in, 1).status, Status::Error) << in;
  }
}

TEST(HttpChunked, LargestSizeIsAccepted) {
  ChunkedDecoder dec;
  size_t used;
  std::string_view data;
  EXPECT_EQ(dec.feed("4000000000000000\r\nabc", used, data), Status::NeedMore);
  EXPECT_EQ(data, "abc");
  EXPECT_EQ(dec.bodyBytes(), 3u);
}

TEST(HttpChunked, LineLimits) {
  std::string longExt = "5;" + std::string(ChunkedDecoder::kMaxLineBytes, 'a') + "\r\n";
  EXPECT_EQ(decode(longExt).status, Status::Error);
  std::string okExt =
      "5;" + std::string(ChunkedDecoder::kMaxLineBytes - 10, 'a') + "\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(decode(okExt).status, Status::Done);
  std::string trailers = "0\r\n";
  while (trailers.size() < ChunkedDecoder::kMaxTrailerBytes + 100) trailers += "X-T: aaaaaaaa\r\n";
  EXPECT_EQ(decode(trailers + "\r\n").status, Status::Error);
}

TEST(HttpChunked, StatusIsSticky) {
  ChunkedDecoder dec;
  size_t used = 9;
  std::string_view data;
  EXPECT_EQ(dec.feed("0\r\n\r\nGET", used, data), Status::Done);
  EXPECT_EQ(used, 5u);
  EXPECT_TRUE(dec.done());
  EXPECT_EQ(dec.feed("GET", used, data), Status::Done);
  EXPECT_EQ(used, 0u);
  dec.reset();
  EXPECT_FALSE(dec.done());
  EXPECT_EQ(dec.feed("zz", used, data), Status::Error);
  EXPECT_TRUE(dec.failed());
  EXPECT_EQ(dec.feed("0\r\n\r\n", used, data), Status::Error);
  EXPECT_EQ(used, 0u);
}

TEST(HttpChunked, OneRunPerCall) {
  ChunkedDecoder dec;
  std::string_view in = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  size_t used;
  std::string_view data;
  EXPECT_EQ(dec.feed(in, used, data), Status::NeedMore);
  EXPECT_EQ(data, "abc");
  EXPECT_EQ(used, 6u);
  in.remove_prefix(used);
  EXPECT_EQ(dec.feed(in, used, data), Status::NeedMore);
  EXPECT_EQ(data, "de");
  in.remove_prefix(used);
  EXPECT_EQ(dec.feed(in, used, data), Status::Done);
  EXPECT_EQ(data, "");
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(dec.bodyBytes(), 5u);
}

}  // namespace
}  // namespace manifold::http
