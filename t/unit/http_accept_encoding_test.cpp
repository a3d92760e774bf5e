// Unit tests of Accept-Encoding negotiation (protocols/http/accept_encoding.*).
#include <gtest/gtest.h>

#include "protocols/http/accept_encoding.hpp"

namespace manifold::http {
namespace {

TEST(HttpAccept, Gzip) {
  EXPECT_TRUE(acceptsGzip("gzip"));
  EXPECT_TRUE(acceptsGzip("GZIP"));
  EXPECT_TRUE(acceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(acceptsGzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
  EXPECT_TRUE(acceptsGzip("x-gzip"));
  EXPECT_TRUE(acceptsGzip("gzip;q=0.001"));
  EXPECT_TRUE(acceptsGzip("gzip ; Q=1"));
  EXPECT_TRUE(acceptsGzip("*"));
  EXPECT_TRUE(acceptsGzip("identity, *;q=0.5"));
  EXPECT_FALSE(acceptsGzip(""));
  EXPECT_FALSE(acceptsGzip("identity"));
  EXPECT_FALSE(acceptsGzip("deflate, br"));
  EXPECT_FALSE(acceptsGzip("gzip;q=0"));
  EXPECT_FALSE(acceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(acceptsGzip("gzip;q=0, *"));  // explicit refusal beats "*"
  EXPECT_FALSE(acceptsGzip("*;q=0"));
  EXPECT_FALSE(acceptsGzip("gzipx"));
  EXPECT_FALSE(acceptsGzip("gzip;q=abc"));  // malformed qvalue counts as 0
  EXPECT_FALSE(acceptsGzip("gzip;q=1.5"));
  EXPECT_FALSE(acceptsGzip("gzip;q=0.0001"));
}

TEST(HttpAccept, Qvalue) {
  EXPECT_EQ(parseQvalue(""), 1000);
  EXPECT_EQ(parseQvalue("q=0.5"), 500);
  EXPECT_EQ(parseQvalue(" level=1 ; q=0.25"), 250);
  EXPECT_EQ(parseQvalue("q=1.000"), 1000);
  EXPECT_EQ(parseQvalue("q=0."), 0);
  EXPECT_EQ(parseQvalue("q=1.001"), -1);
  EXPECT_EQ(parseQvalue("q="), -1);
}

}  // namespace
}  // namespace manifold::http
