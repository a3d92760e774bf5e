// Unit tests of the RDATA presentation forms beyond RFC 1035 (protocols/dns/rdata_text.*):
// HINFO RP NAPTR SSHFP TLSA SMIMEA OPENPGPKEY SPF URI, good and bad, type names in any case, the
// RFC 3597 generic form giving the same wire, and RP/NAPTR names written uncompressed and never
// used as compression targets. DNSSEC types: dns_dnssec_test.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "protocols/dns/message.hpp"
#include "protocols/dns/rdata_text.hpp"
#include "protocols/dns/wire.hpp"
#include "protocols/dns/zone_parser.hpp"
#include "t/unit/dns_zone_text.hpp"

namespace manifold::dns {
namespace {

using namespace test;

std::string cs(const std::string& s) { return static_cast<char>(s.size()) + s; }

const std::string kTlsaData = "d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e971";

struct Good {
  const char* entry;
  std::string wire;
};

const Good kGood[] = {
    {"h HINFO \"Intel x86\" Linux", cs("Intel x86") + cs("Linux")},
    {"rp RP admin.example.org. txt", name("admin.example.org.") + name("txt.example.com.")},
    {"n NAPTR 100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
     std::string("\0\x64\0\x0a", 4) + cs("U") + cs("E2U+sip") + cs("!^.*$!sip:info@example.com!") +
         std::string(1, '\0')},
    {"n NAPTR 1 2 \"\" \"\" \"\" _sip._udp",
     std::string("\0\1\0\2\0\0\0", 7) + name("_sip._udp.example.com.")},
    {"s SSHFP 1 1 ( 0123 4567 89ab CDEF )", "\1\1\x01\x23\x45\x67\x89\xab\xcd\xef"},
    {"_443._tcp TLSA 3 1 1 ( d2abde240d7cd3ee6b4b28c54df034b9\n 7983a1d16e8a410e4561cb106618e971 )",
     "\3\1\1" + std::string("\xd2\xab\xde\x24\x0d\x7c\xd3\xee\x6b\x4b\x28\xc5\x4d\xf0\x34\xb9"
                            "\x79\x83\xa1\xd1\x6e\x8a\x41\x0e\x45\x61\xcb\x10\x66\x18\xe9\x71")},
    {"s SMIMEA 0 0 0 ABCD", std::string("\0\0\0\xab\xcd", 5)},
    {"k OPENPGPKEY ( aGVsbG8g d29y bGQ= )", "hello world"},
    {"spf SPF \"v=spf1 -all\" more", cs("v=spf1 -all") + cs("more")},
    {"_http._tcp URI 10 1 \"http://www.example.com/path\"",
     std::string("\0\x0a\0\1", 4) + "http://www.example.com/path"},
};

TEST(DnsRdataText, NewTypesInPresentationForm) {
  for (const Good& g : kGood) EXPECT_EQ(hex(rdataOf(g.entry)), hex(g.wire)) << g.entry;
  auto r = parseEntries("u URI 1 2 \"ftp://a/\"\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.records[0].type, kTypeUri);
  EXPECT_EQ(typeName(kTypeTlsa), "TLSA");
  EXPECT_EQ(typeName(kTypeOpenpgpkey), "OPENPGPKEY");
  // A URI longer than 255 bytes is fine: the target is not a character-string.
  EXPECT_EQ(rdataOf("u URI 1 1 " + std::string(300, 'x')).size(), 304u);
}

TEST(DnsRdataText, TypeNamesInAnyCase) {
  EXPECT_EQ(rdataOf("t tlsa 3 1 1 " + kTlsaData), rdataOf("t TLSA 3 1 1 " + kTlsaData));
  EXPECT_EQ(rdataOf("t Naptr 1 1 \"s\" \"x\" \"\" t"), rdataOf("t NAPTR 1 1 \"s\" \"x\" \"\" t"));
  EXPECT_EQ(rdataOf("t type52 3 1 1 " + kTlsaData), rdataOf("t TLSA 3 1 1 " + kTlsaData));
  EXPECT_EQ(rdataOf("t OpenPgpKey aGk="), "hi");
  auto r = parseEntries("t sshfp 4 2 00\nt Type99 \"x\"\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.records[0].type, kTypeSshfp);
  EXPECT_EQ(r.records[1].type, kTypeSpf);
}

TEST(DnsRdataText, GenericFormGivesTheSameWire) {
  for (const Good& g : kGood) {
    auto r = parseEntries(std::string(g.entry) + "\n");
    ASSERT_TRUE(r.ok) << g.entry << ": " << r.error;
    const ZoneRecord& rec = r.records[0];
    std::string byNumber = "x TYPE" + std::to_string(rec.type) + " \\# " +
                           std::to_string(rec.rdata.size()) + " " + hex(rec.rdata);
    std::string byName = "x " + typeName(rec.type) + " \\# " + std::to_string(rec.rdata.size()) +
                         " ( " + hex(rec.rdata.substr(0, 3)) + " " + hex(rec.rdata.substr(3)) +
                         " )";
    EXPECT_EQ(rdataOf(byNumber), rec.rdata) << byNumber;
    EXPECT_EQ(rdataOf(byName), rec.rdata) << byName;
  }
  // Generic data of a type we know is checked against that type, as NSD does.
  EXPECT_EQ(errorOf("x RP \\# 2 0102"),
            "z.zone:2: RP: \\# data is not a valid RP: bad or missing mbox");
  EXPECT_EQ(errorOf("x A \\# 3 010203"),
            "z.zone:2: A: \\# data is not a valid A: bad or missing IPv4 address");
  EXPECT_EQ(errorOf("x TYPE13 \\# 3 010203"),
            "z.zone:2: HINFO: \\# data is not a valid HINFO: bad or missing os");
  EXPECT_EQ(errorOf("x TLSA \\# 3 030101"),
            "z.zone:2: TLSA: \\# data is not a valid TLSA: bad or missing association data");
  EXPECT_EQ(errorOf("x TXT \\# 3 05abcd"),
            "z.zone:2: TXT: \\# data is not a valid TXT: bad or missing string");
  EXPECT_EQ(errorOf("x URI \\# 4 00010002"),
            "z.zone:2: URI: \\# data is not a valid URI: bad or missing target");
  EXPECT_EQ(errorOf("x SOA \\# 0"),
            "z.zone:2: SOA: \\# data is not a valid SOA: bad or missing mname");
  EXPECT_EQ(errorOf("x MX \\# 5 000a000000"),
            "z.zone:2: MX: \\# data is not a valid MX: 2 bytes after the last field");
  EXPECT_EQ(rdataOf("x TYPE65280 \\# 0"), "");  // unknown types: any data
  EXPECT_EQ(errorOf("x TYPE65280 \\# 2 0a"),
            "z.zone:2: TYPE65280: \\# length does not match the data");
}

TEST(DnsRdataText, BadRdataNamesTypeAndReason) {
  EXPECT_EQ(errorOf("h HINFO onlyone"), "z.zone:2: HINFO: expected 2 fields, got 1");
  EXPECT_EQ(errorOf("h HINFO " + std::string(256, 'c') + " os"),
            "z.zone:2: HINFO: string longer than 255 bytes");
  EXPECT_EQ(errorOf("r RP a..b txt"), "z.zone:2: RP: empty label in 'a..b'");
  EXPECT_EQ(errorOf("r RP mbox"), "z.zone:2: RP: expected 2 fields, got 1");
  EXPECT_EQ(errorOf("n NAPTR 70000 10 \"U\" \"\" \"\" ."), "z.zone:2: NAPTR: bad order '70000'");
  EXPECT_EQ(errorOf("n NAPTR 1 10 \"U\" \"\" \"\\999\" ."),
            "z.zone:2: NAPTR: bad escape in '\\999'");
  EXPECT_EQ(errorOf("s SSHFP 1 1 0x12"), "z.zone:2: SSHFP: bad hex '0x12'");
  EXPECT_EQ(errorOf("s SSHFP 1 1 123"), "z.zone:2: SSHFP: odd number of hex digits");
  EXPECT_EQ(errorOf("s SSHFP 1 1"), "z.zone:2: SSHFP: expected 3 or more fields, got 2");
  EXPECT_EQ(errorOf("s SSHFP 256 1 00"), "z.zone:2: SSHFP: bad algorithm '256'");
  EXPECT_EQ(errorOf("t TLSA 256 1 1 00"), "z.zone:2: TLSA: bad usage '256'");
  EXPECT_EQ(errorOf("t TLSA 3 1 x 00"), "z.zone:2: TLSA: bad matching type 'x'");
  EXPECT_EQ(errorOf("t SMIMEA 3 1 1 zz"), "z.zone:2: SMIMEA: bad hex 'zz'");
  EXPECT_EQ(errorOf("k OPENPGPKEY not*base64"), "z.zone:2: OPENPGPKEY: bad base64");
  EXPECT_EQ(errorOf("k OPENPGPKEY aGk"), "z.zone:2: OPENPGPKEY: bad base64");  // padding missing
  EXPECT_EQ(errorOf("s SPF"), "z.zone:2: SPF: expected 1 or more fields, got 0");
  EXPECT_EQ(errorOf("u URI 10 1 \"\""), "z.zone:2: URI: empty target");
  EXPECT_EQ(errorOf("u URI 10 \"http://x/\""), "z.zone:2: URI: expected 3 fields, got 2");
  EXPECT_EQ(errorOf("u URI ten 1 \"http://x/\""), "z.zone:2: URI: bad priority 'ten'");
}

// RFC 3597 4: only RFC 1035 types are compressed. The RP names equal the owner's, and a later NS
// must not point into the RP RDATA either.
TEST(DnsRdataText, RpNamesAreNeitherCompressedNorCompressionTargets) {
  std::string owner = name("example.com.");
  std::string rp = name("admin.example.com.") + owner;
  uint8_t buf[512];
  PacketWriter w(buf, sizeof buf);
  w.start(1, 0x8400);
  ASSERT_TRUE(
      w.question(reinterpret_cast<const uint8_t*>(owner.data()), owner.size(), kTypeRp, kClassIn));
  size_t rpStart = w.size() + 2 + 10;  // owner as a pointer, then type, class, TTL, RDLENGTH
  ASSERT_TRUE(w.record(PacketWriter::kAnswer, owner, kTypeRp, 60, rp));
  ASSERT_EQ(get16(buf + rpStart - 2), rp.size());
  EXPECT_EQ(hex(std::string(reinterpret_cast<char*>(buf + rpStart), rp.size())), hex(rp));
  size_t nsStart = w.size() + 2 + 10;
  ASSERT_TRUE(w.record(PacketWriter::kAuthority, owner, kTypeNs, 60, name("admin.example.com.")));
  // "admin" spelled out, then a pointer to the question's example.com at offset 12.
  EXPECT_EQ(hex(std::string(reinterpret_cast<char*>(buf + nsStart), w.size() - nsStart)),
            hex(std::string("\5admin\xc0\x0c", 8)));
}

}  // namespace
}  // namespace manifold::dns
