// Unit tests of the DNSSEC pieces that need no server: the presentation forms of DS, DNSKEY,
// RRSIG, NSEC, NSEC3, NSEC3PARAM, CDS and CDNSKEY (by name and in RFC 3597 generic form, giving
// the same wire; the RFCs' own examples), the canonical name order (RFC 4034 6.1), the NSEC3
// hash (RFC 5155 appendix A) and signature-time helpers.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "protocols/dns/dnssec_text.hpp"
#include "protocols/dns/dnssec_zone.hpp"
#include "protocols/dns/wire.hpp"
#include "protocols/dns/zone_parser.hpp"
#include "t/unit/dns_zone_text.hpp"

namespace manifold::dns {
namespace {

using namespace test;
const auto wire = test::name;

// One of each, as ldns-signzone and dnssec-signzone write them.
const char* const kSigned[] = {
    "@ DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
    "@ CDS 60485 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF",
    "@ DNSKEY 256 3 13 JOa7thLJxYooGw58AvO+Y9uAyehE1At2X1GYJnkoh1JgSDxVU5t/LXkVRUMuH267 "
    "dGlIdQTofbr5MFe+yHppVg==",
    "@ CDNSKEY 0 3 0 AA==",
    "@ RRSIG A 13 2 3600 20270102031214 20261205031214 12142 example.com. "
    "btfPD5xG9su2rHpsTfcHF+A+zWehpBXftT1rQoTD3NzYi/r8E1kL3HO9ZaJRFJnpaJOU7SXiwwU4m0+qCnXVyw==",
    "@ NSEC www.example.com. A NS SOA MX RRSIG NSEC DNSKEY",
    "@ NSEC3PARAM 1 0 1 abcd",
    "@ NSEC3PARAM 1 0 0 -",
    "vtnq6ocn2vkuiv3nju14oqtaen2mt5sk NSEC3 1 0 1 abcd 1n5ho87j01hnni8lhchuamgu3c79d6uu A NS SOA "
    "MX RRSIG DNSKEY NSEC3PARAM",
    "4g1faf3r2bs7so19eijdh9jicidi1bon NSEC3 1 1 0 - 5ui8h56r4776maicvhpdegs6chr19i99",
};

TEST(DnsDnssec, EveryTypeByNameGivesTheWireOfItsGenericForm) {
  for (const char* entry : kSigned) {
    auto r = parseEntries(entry);
    ASSERT_TRUE(r.ok) << entry << ": " << r.error;
    const ZoneRecord& rec = r.records.at(0);
    std::string generic = std::string(entry).substr(0, std::string(entry).find(' ')) + " TYPE" +
                          std::to_string(rec.type) + " \\# " + std::to_string(rec.rdata.size()) +
                          " " + hex(rec.rdata);
    EXPECT_EQ(hex(rdataOf(generic)), hex(rec.rdata)) << entry;
  }
}

TEST(DnsDnssec, FieldsAsTheRfcsWriteThem) {
  // RFC 4034 4.3: "host.example.com. NSEC ... A MX RRSIG NSEC TYPE1234".
  std::string nsec = rdataOf("host NSEC host.example.com. A MX RRSIG NSEC TYPE1234");
  EXPECT_EQ(hex(nsec.substr(wire("host.example.com.").size())),
            "0006400100000003041b000000000000000000000000000000000000000000000000000020");
  // RFC 4034 3.3: 20030322173103 is 1048354263 seconds; plain seconds are accepted too.
  uint32_t t = 0;
  ASSERT_TRUE(parseDnssecTime("20030322173103", t));
  EXPECT_EQ(t, 1048354263u);
  ASSERT_TRUE(parseDnssecTime("1048354263", t));
  EXPECT_EQ(t, 1048354263u);
  EXPECT_EQ(dnssecTimeText(1048354263u), "20030322173103");
  std::string rrsig =
      rdataOf("@ RRSIG NSEC3PARAM 13 2 3600 20030322173103 1048354263 1 example.com. AA==");
  EXPECT_EQ(hex(rrsig.substr(0, 18)),
            "0033"
            "0d"
            "02"
            "00000e10"
            "3e7c9dd7"
            "3e7c9dd7"
            "0001");
  // NSEC3 (RFC 5155 3.3): salt and next hash length-prefixed, "-" = no salt.
  std::string n3 = rdataOf(
      "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom NSEC3 1 1 12 aabbccdd "
      "2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG");
  EXPECT_EQ(hex(n3.substr(0, 10)), "0101000c04aabbccdd14");
  EXPECT_EQ(hex(rdataOf("@ NSEC3PARAM 1 0 0 -")), "0100000000");
  EXPECT_TRUE(bitmapHas(nsec.substr(wire("host.example.com.").size()), 1234));
  EXPECT_FALSE(bitmapHas(nsec.substr(wire("host.example.com.").size()), kTypeNs));
}

TEST(DnsDnssec, BadFieldsAreRefusedWithTheReason) {
  EXPECT_EQ(errorOf("@ DS 1 2 3"), "z.zone:2: DS: expected 4 or more fields, got 3");
  EXPECT_EQ(errorOf("@ DNSKEY 256 3 13 not*base64"), "z.zone:2: DNSKEY: bad base64");
  EXPECT_EQ(errorOf("@ RRSIG A 13 2 3600 20271302000000 20261205031214 1 example.com. AA=="),
            "z.zone:2: RRSIG: bad expiration '20271302000000'");
  EXPECT_EQ(errorOf("@ RRSIG BOGUS 13 2 3600 1 2 1 example.com. AA=="),
            "z.zone:2: RRSIG: bad type covered 'BOGUS'");
  EXPECT_EQ(errorOf("@ NSEC a.example.com. A FOO"),
            "z.zone:2: NSEC: bad type 'FOO' in the type bitmap");
  EXPECT_EQ(errorOf("x NSEC3 1 0 1 zz 1n5ho87j01hnni8lhchuamgu3c79d6uu A"),
            "z.zone:2: NSEC3: bad salt 'zz'");
  EXPECT_EQ(errorOf("x NSEC3 1 0 1 - not-base32hex A"),
            "z.zone:2: NSEC3: bad next hashed owner 'not-base32hex'");
  // Generic data that does not fit the layout: a bitmap window out of order.
  EXPECT_NE(errorOf("@ NSEC \\# 7 00 0001 40 0001 40").find("not a valid NSEC"), std::string::npos);
  EXPECT_NE(errorOf("@ NSEC3PARAM \\# 5 01000001 ff").find("not a valid NSEC3PARAM"),
            std::string::npos);
}

TEST(DnsDnssec, CanonicalOrderIsRfc4034Example) {
  // RFC 4034 6.1, in order.
  const char* names[] = {"example.",         "a.example.",      "yljkjljk.a.example.",
                         "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
                         "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
  for (size_t i = 0; i + 1 < std::size(names); ++i) {
    std::string a = lowerName(wire(names[i])), b = lowerName(wire(names[i + 1]));
    EXPECT_LT(canonicalCompare(a, b), 0) << names[i] << " < " << names[i + 1];
    EXPECT_GT(canonicalCompare(b, a), 0) << names[i + 1] << " > " << names[i];
  }
  EXPECT_EQ(canonicalCompare(wire("a.example."), wire("a.example.")), 0);
}

TEST(DnsDnssec, Nsec3HashIsRfc5155AppendixA) {
  std::string salt = "\xaa\xbb\xcc\xdd";
  EXPECT_EQ(base32HexEncode(nsec3Hash(wire("example."), salt, 12)),
            "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
  EXPECT_EQ(base32HexEncode(nsec3Hash(wire("a.example."), salt, 12)),
            "35mthgpgcu1qg68fab165klnsnk3dpvl");
  std::string back;
  ASSERT_TRUE(base32HexDecode("35MTHGPGCU1QG68FAB165KLNSNK3DPVL", back));
  EXPECT_EQ(back, nsec3Hash(wire("a.example."), salt, 12));
}

TEST(DnsDnssec, Nsec3ChainMatchAndCover) {
  ZoneSec sec;
  auto h = [](char c) { return std::string(1, c) + std::string(19, '\0'); };
  for (char c : {'\x10', '\x20', '\x30'}) {
    sec.nsec3s.push_back(Nsec3Entry{std::pmr::string(h(c)), "", 0, "", {}, 0});
    sec.hashes += h(c);
  }
  EXPECT_EQ(sec.nsec3Match(h('\x20')), 1);
  EXPECT_EQ(sec.nsec3Match(h('\x25')), -1);
  EXPECT_EQ(sec.nsec3Cover(h('\x25')), 1);
  EXPECT_EQ(sec.nsec3Cover(h('\x05')), 2);  // before the first: the last one wraps around
  EXPECT_EQ(sec.nsec3Cover(h('\x35')), 2);
  EXPECT_EQ(sec.nsec3Match("short"), -1);
}

}  // namespace
}  // namespace manifold::dns
