// Unit tests of gzip coding (protocols/http/gzip.*).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "protocols/http/gzip.hpp"

namespace manifold::http {
namespace {

std::string sampleText(size_t n) {
  std::string s;
  while (s.size() < n) s += "The quick brown fox jumps over the lazy dog. 0123456789\n";
  s.resize(n);
  return s;
}

std::string randomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(HttpGzip, RoundTrip) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{1000001}}) {
    std::string in = sampleText(n), z, back;
    ASSERT_TRUE(gzipCompress(in, z));
    ASSERT_GE(z.size(), 18u);  // header 10 + trailer 8
    EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
    if (n >= 65536) {
      EXPECT_LT(z.size(), n / 10);
    }
    ASSERT_TRUE(gzipDecompress(z, back));
    EXPECT_EQ(back, in);
  }
  std::string rnd = randomBytes(300000, 1), z, back;
  ASSERT_TRUE(gzipCompress(rnd, z, 9));
  ASSERT_TRUE(gzipDecompress(z, back));
  EXPECT_EQ(back, rnd);
}

TEST(HttpGzip, OneShotReplacesOutput) {
  std::string z = "stale bytes from an earlier response";
  ASSERT_TRUE(gzipCompress("hello", z));
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
  std::string back = "stale";
  ASSERT_TRUE(gzipDecompress(z, back));
  EXPECT_EQ(back, "hello");
}

TEST(HttpGzip, StreamAppendsToOutput) {
  GzipStream gz;
  ASSERT_TRUE(gz.init());
  std::string out = "HEAD";
  ASSERT_TRUE(gz.write("hello", out));
  ASSERT_TRUE(gz.finish(out));
  EXPECT_EQ(out.substr(0, 4), "HEAD");
  std::string back;
  ASSERT_TRUE(gzipDecompress(std::string_view(out).substr(4), back));
  EXPECT_EQ(back, "hello");
}

TEST(HttpGzip, Levels) {
  std::string in = sampleText(100000), z0, z1, z9, back;
  ASSERT_TRUE(gzipCompress(in, z0, 0));
  ASSERT_TRUE(gzipCompress(in, z1, 1));
  ASSERT_TRUE(gzipCompress(in, z9, 9));
  EXPECT_GT(z0.size(), in.size());  // stored
  EXPECT_LT(z9.size(), z0.size());
  ASSERT_TRUE(gzipDecompress(z0, back));
  EXPECT_EQ(back, in);
  std::string bad;
  ASSERT_TRUE(gzipCompress(in, bad, 42));  // out of range: default level
}

TEST(HttpGzip, DecompressRejectsBadInput) {
  std::string z, back;
  ASSERT_TRUE(gzipCompress(sampleText(5000), z));
  EXPECT_FALSE(gzipDecompress(std::string_view(z).substr(0, z.size() - 1), back));
  EXPECT_EQ(back, "");
  EXPECT_FALSE(gzipDecompress(z + "trailing", back));
  EXPECT_FALSE(gzipDecompress("not gzip at all", back));
  EXPECT_FALSE(gzipDecompress("", back));
  std::string corrupt = z;
  corrupt[z.size() / 2] ^= 0x55;
  EXPECT_FALSE(gzipDecompress(corrupt, back));
  EXPECT_EQ(back, "");
  // Bomb guard.
  std::string zeros(1 << 20, '\0'), zz;
  ASSERT_TRUE(gzipCompress(zeros, zz));
  EXPECT_FALSE(gzipDecompress(zz, back, 1000));
  EXPECT_EQ(back, "");
  EXPECT_TRUE(gzipDecompress(zz, back, 1 << 20));
  EXPECT_EQ(back.size(), size_t{1} << 20);
}

TEST(HttpGzip, StreamMatchesInput) {
  std::string in = sampleText(200000) + randomBytes(50000, 2);
  GzipStream gz;
  EXPECT_FALSE(gz.active());
  std::string out;
  EXPECT_FALSE(gz.write("x", out));  // not initialised
  ASSERT_TRUE(gz.init(6));
  EXPECT_TRUE(gz.active());
  for (size_t at = 0; at < in.size(); at += 7777)
    ASSERT_TRUE(gz.write(std::string_view(in).substr(at, 7777), out));
  ASSERT_TRUE(gz.finish(out));
  EXPECT_FALSE(gz.active());
  EXPECT_FALSE(gz.write("more", out));
  std::string back;
  ASSERT_TRUE(gzipDecompress(out, back));
  EXPECT_EQ(back, in);

  // Reuse for a second member, same and different level.
  for (int level : {6, 1}) {
    std::string out2, back2;
    ASSERT_TRUE(gz.init(level));
    ASSERT_TRUE(gz.write("second member", out2));
    ASSERT_TRUE(gz.finish(out2));
    ASSERT_TRUE(gzipDecompress(out2, back2));
    EXPECT_EQ(back2, "second member");
  }
}

TEST(HttpGzip, StreamFlushEmitsDecodableBytes) {
  GzipStream gz;
  ASSERT_TRUE(gz.init());
  std::string out;
  ASSERT_TRUE(gz.write("hello ", out));
  ASSERT_TRUE(gz.flush(out));
  size_t afterFlush = out.size();
  EXPECT_GT(afterFlush, 10u);
  // What was flushed decodes without the end of the member (inflate with Z_SYNC_FLUSH).
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  char buf[64];
  zs.next_in = reinterpret_cast<Bytef*>(out.data());
  zs.avail_in = static_cast<uInt>(out.size());
  zs.next_out = reinterpret_cast<Bytef*>(buf);
  zs.avail_out = sizeof buf;
  int rc = inflate(&zs, Z_SYNC_FLUSH);
  EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR);
  EXPECT_EQ(std::string(buf, sizeof buf - zs.avail_out), "hello ");
  inflateEnd(&zs);

  ASSERT_TRUE(gz.write("world", out));
  ASSERT_TRUE(gz.finish(out));
  std::string back;
  ASSERT_TRUE(gzipDecompress(out, back));
  EXPECT_EQ(back, "hello world");
}

TEST(HttpGzip, EmptyStream) {
  GzipStream gz;
  ASSERT_TRUE(gz.init(9));
  std::string out, back = "stale";
  ASSERT_TRUE(gz.write("", out));
  ASSERT_TRUE(gz.finish(out));
  ASSERT_TRUE(gzipDecompress(out, back));
  EXPECT_EQ(back, "");
}

}  // namespace
}  // namespace manifold::http
