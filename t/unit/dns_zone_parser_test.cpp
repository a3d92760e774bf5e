// Unit tests of the RFC 1035 master-file parser (protocols/dns/zone_parser.*) and name helpers.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "protocols/dns/wire.hpp"
#include "protocols/dns/zone_parser.hpp"

namespace manifold::dns {
namespace {

ZoneParseResult parse(const std::string& text, std::map<std::string, std::string> files = {}) {
  IncludeReader reader = [files](const std::string& path, std::string& content, std::string& why) {
    auto it = files.find(path);
    if (it == files.end()) {
      why = "cannot open";
      return false;
    }
    content = it->second;
    return true;
  };
  return parseZoneText(text, "/z/main.zone", "example.com.", reader);
}

std::string wire(const std::string& text) {
  std::string out, why;
  EXPECT_TRUE(textToName(text, "", out, why)) << why;
  return out;
}

const char* kSoa = "@ 3600 IN SOA ns1 hostmaster ( 1 7200 3600 1209600 300 )\n";

TEST(DnsZoneParser, NamesAndOrigin) {
  EXPECT_EQ(wire("www.example.com."), std::string("\3www\7example\3com\0", 17));
  EXPECT_EQ(wire("."), std::string("\0", 1));
  EXPECT_EQ(nameToText(wire("a\\.b.example.")), "a\\.b.example.");
  EXPECT_EQ(nameToText(wire("\\065b.")), "Ab.");
  std::string out, why;
  EXPECT_FALSE(textToName("a..b.", "", out, why));
  EXPECT_FALSE(textToName(std::string(64, 'x') + ".", "", out, why));
  EXPECT_FALSE(textToName("relative", "", out, why));
  std::string longName;
  for (int i = 0; i < 130; ++i) longName += "a.";
  EXPECT_FALSE(textToName(longName, "", out, why));
  EXPECT_TRUE(isSubdomain(wire("a.b.example.com."), wire("example.com.")));
  EXPECT_FALSE(isSubdomain(wire("badexample.com."), wire("example.com.")));
  EXPECT_EQ(lowerName(wire("WwW.ExAmPlE.")), wire("www.example."));
}

TEST(DnsZoneParser, TtlUnits) {
  uint32_t v;
  EXPECT_TRUE(parseTtl("3600", v));
  EXPECT_EQ(v, 3600u);
  EXPECT_TRUE(parseTtl("1h30m", v));
  EXPECT_EQ(v, 5400u);
  EXPECT_TRUE(parseTtl("1w1d", v));
  EXPECT_EQ(v, 691200u);
  EXPECT_FALSE(parseTtl("", v));
  EXPECT_FALSE(parseTtl("h", v));
  EXPECT_FALSE(parseTtl("99999999999", v));
  EXPECT_FALSE(parseTtl("10x", v));
}

TEST(DnsZoneParser, RecordsDirectivesAndInheritance) {
  auto r = parse(std::string("$TTL 1h\n") + kSoa +
                 "  IN NS ns1 ; owner inherited\n"
                 "www 300 A 192.0.2.1\n"
                 "    IN 60 AAAA 2001:db8::1 ; class before TTL, owner inherited\n"
                 "$ORIGIN sub.example.com.\n"
                 "mx MX 10 mail\n"
                 "txt TXT \"a b\" c \"q\\\"x\"\n"
                 "srv SRV 1 2 3 target.example.org.\n"
                 "ptr PTR @\n"
                 "caa CAA 0 issue \"ca.example\"\n"
                 "cn CNAME www.example.com.\n"
                 "gen TYPE65280 \\# 3 0a0B0c\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.records.size(), 11u);
  EXPECT_EQ(r.records[0].type, kTypeSoa);
  EXPECT_EQ(r.records[0].ttl, 3600u);
  EXPECT_EQ(r.records[1].owner, wire("example.com."));
  EXPECT_EQ(r.records[1].rdata, wire("ns1.example.com."));
  EXPECT_EQ(r.records[2].ttl, 300u);
  EXPECT_EQ(r.records[2].rdata, std::string("\xc0\x00\x02\x01", 4));
  EXPECT_EQ(r.records[3].owner, wire("www.example.com."));
  EXPECT_EQ(r.records[3].ttl, 60u);
  EXPECT_EQ(r.records[3].rdata.size(), 16u);
  EXPECT_EQ(r.records[4].owner, wire("mx.sub.example.com."));
  EXPECT_EQ(r.records[4].rdata, std::string("\0\x0a", 2) + wire("mail.sub.example.com."));
  EXPECT_EQ(r.records[5].rdata, std::string("\3a b\1c\3q\"x"));
  EXPECT_EQ(r.records[6].rdata, std::string("\0\1\0\2\0\3", 6) + wire("target.example.org."));
  EXPECT_EQ(r.records[7].rdata, wire("sub.example.com."));
  EXPECT_EQ(r.records[8].rdata, std::string("\0\5issueca.example", 17));
  EXPECT_EQ(r.records[10].type, 65280);
  EXPECT_EQ(r.records[10].rdata, "\x0a\x0b\x0c");
  EXPECT_EQ(r.records[6].line, 9);
}

TEST(DnsZoneParser, SoaAcrossLinesKeepsLineNumbers) {
  auto r = parse("$TTL 60\n@ SOA ns hm (\n 1 ; serial\n 2\n 3\n 4\n 5 )\nwww A 10.0.0.1\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.records[0].line, 2);
  EXPECT_EQ(r.records[1].line, 8);
  EXPECT_EQ(r.records[0].rdata.size(),
            wire("ns.example.com.").size() + wire("hm.example.com.").size() + 20);
}

TEST(DnsZoneParser, IncludeIsRelativeToTheIncludingFile) {
  auto r = parse(std::string("$TTL 60\n") + kSoa +
                     "$INCLUDE hosts.inc\n$INCLUDE other.inc other.example.com.\nlast A 10.0.0.9\n",
                 {{"/z/hosts.inc", "h1 A 10.0.0.1\n"}, {"/z/other.inc", "@ A 10.0.0.2\n"}});
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[1].owner, wire("h1.example.com."));
  EXPECT_EQ(r.records[1].file, "/z/hosts.inc");
  EXPECT_EQ(r.records[2].owner, wire("other.example.com."));
  EXPECT_EQ(r.records[3].owner, wire("last.example.com."));  // the includer's origin is back
  auto missing = parse("$INCLUDE nope.inc\n");
  EXPECT_EQ(missing.error, "/z/main.zone:1: $INCLUDE /z/nope.inc: cannot open");
  auto loop = parse("$INCLUDE self.inc\n", {{"/z/self.inc", "$INCLUDE self.inc\n"}});
  EXPECT_FALSE(loop.ok);
  EXPECT_NE(loop.error.find("nested too deeply"), std::string::npos) << loop.error;
}

TEST(DnsZoneParser, ErrorsNameFileAndLine) {
  auto expectError = [](const std::string& text, const std::string& want) {
    auto r = parse(text);
    EXPECT_FALSE(r.ok) << text;
    EXPECT_EQ(r.error, want) << text;
  };
  expectError("$TTL 60\nwww A 10.0.0.256\n", "/z/main.zone:2: A: bad IPv4 address '10.0.0.256'");
  expectError("$TTL 60\nwww AAAA 1::2::3\n", "/z/main.zone:2: AAAA: bad IPv6 address '1::2::3'");
  expectError("$TTL 60\nwww MX ten mail\n", "/z/main.zone:2: MX: bad preference 'ten'");
  expectError("www A 10.0.0.1\n", "/z/main.zone:1: no TTL given and no $TTL before it");
  expectError("$TTL 60\n  A 10.0.0.1\n", "/z/main.zone:2: no owner name and no previous owner");
  expectError("$TTL 60\nwww BOGUS x\n",
              "/z/main.zone:2: expected a TTL, class or type, got 'BOGUS'");
  expectError("$TTL 60\n@ SOA ns hm ( 1 2 3\n4 5\n",
              "/z/main.zone:2: unbalanced '(' opened in this entry");
  expectError("$TTL 60\nt TXT \"open\n", "/z/main.zone:2: unterminated quoted string");
  expectError("$TTL 60\nwww CH A 10.0.0.1\n", "/z/main.zone:2: only class IN is served");
  expectError("$FOO bar\n", "/z/main.zone:1: unknown directive $FOO");
  expectError("$TTL 60\nt TXT " + std::string("\"") + std::string(256, 'x') + "\"\n",
              "/z/main.zone:2: TXT: string longer than 255 bytes");
  expectError("$TTL 60\n)\n", "/z/main.zone:2: ')' without '('");
}

}  // namespace
}  // namespace manifold::dns
