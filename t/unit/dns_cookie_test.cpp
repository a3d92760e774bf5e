// EDNS COOKIE option lengths (RFC 7873 5.2.2, issue #11.10): a malformed cookie is FORMERR.
#include <gtest/gtest.h>

#include <string>

#include "protocols/dns/message.hpp"

namespace manifold::dns {
namespace {

std::string queryWithCookie(size_t cookieLength) {
  // Header: id 1, RD, one question, one additional (the OPT record).
  std::string q("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01", 12);
  q += std::string(
      "\x03www\x07"
      "example\x03"
      "com\x00\x00\x01\x00\x01",
      21);
  const size_t rdlen = 4 + cookieLength;
  q += std::string("\x00\x00\x29\x10\x00\x00\x00\x00\x00", 9);  // root, OPT, 4096, no flags
  q.push_back(static_cast<char>(rdlen >> 8));
  q.push_back(static_cast<char>(rdlen));
  q += std::string("\x00\x0a", 2);  // COOKIE
  q.push_back(static_cast<char>(cookieLength >> 8));
  q.push_back(static_cast<char>(cookieLength));
  q += std::string(cookieLength, '\x5a');
  return q;
}

QueryStatus parse(const std::string& s) {
  Query q;
  return parseQuery(reinterpret_cast<const uint8_t*>(s.data()), s.size(), q);
}

TEST(DnsCookie, WellFormedLengthsAreAccepted) {
  for (size_t n : {8u, 16u, 24u, 40u}) EXPECT_EQ(parse(queryWithCookie(n)), QueryStatus::Ok) << n;
}

TEST(DnsCookie, MalformedLengthsAreFormErr) {
  for (size_t n : {0u, 1u, 7u, 9u, 15u, 41u, 64u})
    EXPECT_EQ(parse(queryWithCookie(n)), QueryStatus::FormErr) << n;
}

}  // namespace
}  // namespace manifold::dns
