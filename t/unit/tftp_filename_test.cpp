// Tier: unit — TFTP filename normalisation (the first line of the root jail) and rate limiter.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "protocols/tftp/filename.hpp"
#include "protocols/tftp/rate_limit.hpp"

using namespace manifold::tftp;

TEST(TftpFilename, Normalises) {
  std::string out;
  ASSERT_TRUE(normalizeFilename("boot//./pxelinux.0", false, out));
  EXPECT_EQ(out, "boot/pxelinux.0");
  ASSERT_TRUE(normalizeFilename("a/b/", false, out));
  EXPECT_EQ(out, "a/b");
  ASSERT_TRUE(normalizeFilename("/boot/x", true, out));
  EXPECT_EQ(out, "boot/x");
  ASSERT_TRUE(normalizeFilename("..a/b..", false, out));  // dots inside names are fine
  EXPECT_EQ(out, "..a/b..");
}

TEST(TftpFilename, Refuses) {
  std::string out;
  for (const char* bad :
       {"", "/", "./", "..", "../etc/passwd", "a/../../b", "a/..", "/etc/passwd", "a\nb", "a\x7f"})
    EXPECT_FALSE(normalizeFilename(bad, false, out)) << bad;
  EXPECT_FALSE(normalizeFilename("/../x", true, out));
  EXPECT_FALSE(normalizeFilename("//", true, out));
}

TEST(TftpRateLimit, TokenBucketPerSource) {
  SourceRateLimiter limiter(10, 5);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  sockaddr_in b = a;
  inet_pton(AF_INET, "127.0.0.2", &b.sin_addr);
  uint64_t ka = sourceKey(reinterpret_cast<sockaddr*>(&a));
  uint64_t kb = sourceKey(reinterpret_cast<sockaddr*>(&b));
  EXPECT_NE(ka, kb);
  int allowed = 0;
  for (int i = 0; i < 20; ++i) allowed += limiter.allow(ka, 100.0);
  EXPECT_EQ(allowed, 5);                  // the burst
  EXPECT_TRUE(limiter.allow(kb, 100.0));  // another source is not affected
  EXPECT_FALSE(limiter.allow(ka, 100.05));
  EXPECT_TRUE(limiter.allow(ka, 100.2));  // 10/s refills one token in 0.1 s
  SourceRateLimiter off(0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.allow(ka, 1.0));
}

TEST(TftpRateLimit, Ipv6SourcesArePer64) {
  sockaddr_in6 a{}, b{}, c{};
  a.sin6_family = b.sin6_family = c.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8:1:2::1", &a.sin6_addr);
  inet_pton(AF_INET6, "2001:db8:1:2::ffff", &b.sin6_addr);
  inet_pton(AF_INET6, "2001:db8:1:3::1", &c.sin6_addr);
  EXPECT_EQ(sourceKey(reinterpret_cast<sockaddr*>(&a)), sourceKey(reinterpret_cast<sockaddr*>(&b)));
  EXPECT_NE(sourceKey(reinterpret_cast<sockaddr*>(&a)), sourceKey(reinterpret_cast<sockaddr*>(&c)));
}
