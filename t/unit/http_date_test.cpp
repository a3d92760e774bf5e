// Unit tests of HTTP-date formatting and parsing (protocols/http/date.*).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "protocols/http/date.hpp"

namespace manifold::http {
namespace {

std::string fmt(time_t t) {
  char buf[29];
  formatHttpDate(t, buf);
  return std::string(buf, sizeof buf);
}

time_t parsed(std::string_view s) {
  time_t t = 12345;
  if (!parseHttpDate(s, t)) return -999;
  return t;
}

TEST(HttpDate, Format) {
  EXPECT_EQ(fmt(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(fmt(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(fmt(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(fmt(1700000000), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(fmt(2147483648), "Tue, 19 Jan 2038 03:14:08 GMT");
  EXPECT_EQ(fmt(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(fmt(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(fmt(253402300800 + 86400 * 400), "Fri, 31 Dec 9999 23:59:59 GMT");  // clamped
}

TEST(HttpDate, FormatWritesExactly29Bytes) {
  char buf[32];
  std::memset(buf, '#', sizeof buf);
  formatHttpDate(784111777, buf);
  EXPECT_EQ(std::string(buf, 29), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(buf[29], '#');
}

TEST(HttpDate, ParseThreeFormats) {
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parsed("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parsed("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parsed("Sun Nov 06 08:49:37 1994"), 784111777);
  EXPECT_EQ(parsed("sun, 06 nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parsed("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parsed("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
  EXPECT_EQ(parsed("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648);
  EXPECT_EQ(parsed("Wed, 31 Dec 1969 23:59:59 GMT"), -1);
  EXPECT_EQ(parsed("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
  EXPECT_EQ(parsed("Saturday, 06-Nov-10 08:49:37 GMT"), 1289033377);  // yy < 70: 20yy
  EXPECT_EQ(parsed("Tue, 31 Dec 2024 23:59:60 GMT"), 1735689599);     // leap second
  EXPECT_EQ(parsed("Wed, 31 Dec 9999 23:59:59 GMT"), 253402300799);
}

TEST(HttpDate, RoundTrip) {
  for (time_t t : {time_t{0}, time_t{1}, time_t{86399}, time_t{784111777}, time_t{951868799},
                   time_t{1700000000}, time_t{4102444800}, time_t{-86400}}) {
    EXPECT_EQ(parsed(fmt(t)), t) << fmt(t);
  }
}

TEST(HttpDate, Rejects) {
  EXPECT_EQ(parsed(""), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 08:49:37 UTC"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 08:49:37 GMT "), -999);
  EXPECT_EQ(parsed(" Sun, 06 Nov 1994 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 08:49:37 GMT; length=12"), -999);
  EXPECT_EQ(parsed("Sun, 6 Nov 1994 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun,  06 Nov 1994 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 94 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06 Foo 1994 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Xyz, 06 Nov 1994 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 31 Nov 1994 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 29 Feb 1900 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 00 Nov 1994 08:49:37 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 24:00:00 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 08:60:00 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 08:49:61 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 1994 08:49 GMT"), -999);
  EXPECT_EQ(parsed("Sun, 06-Nov-94 08:49:37 GMT"), -999);       // short day name, RFC 850 body
  EXPECT_EQ(parsed("Sunday, 06 Nov 1994 08:49:37 GMT"), -999);  // long name, IMF body
  EXPECT_EQ(parsed("Sun Nov  6 08:49:37 1994 "), -999);
  EXPECT_EQ(parsed("Sun Nov 6 08:49:37 1994"), -999);
  EXPECT_EQ(parsed("1994-11-06T08:49:37Z"), -999);
  EXPECT_EQ(parsed("Sun, 06 Nov 0000 08:49:37 GMT"), -999);
}

TEST(HttpDate, FailureLeavesOutputAlone) {
  time_t t = 777;
  EXPECT_FALSE(parseHttpDate("nope", t));
  EXPECT_EQ(t, 777);
}

}  // namespace
}  // namespace manifold::http
