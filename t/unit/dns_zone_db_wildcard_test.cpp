// Tier: unit — wildcards in the compiled zone (protocols/dns/zone_db.*, RFC 4592): synthesis with
// the query name as owner, NODATA, blocking by existing names and empty non-terminals, CNAME at
// a wildcard, CNAME targets that match one, nothing below a zone cut.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "protocols/dns/message.hpp"
#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {
namespace {

struct Rr {
  bool ownerIsQuestion = false;  // the owner is a pointer to the question name (offset 12)
  uint16_t type = 0;
  std::string rdata;
};

struct Reply {
  uint16_t flags = 0;
  uint16_t counts[3] = {0, 0, 0};
  std::vector<Rr> sections[3];
  bool aa() const { return flags & 0x0400; }
  uint8_t rcode() const { return flags & 0xF; }
};

size_t skipName(const std::string& m, size_t pos) {
  while (pos < m.size()) {
    uint8_t l = static_cast<uint8_t>(m[pos]);
    if (l == 0) return pos + 1;
    if ((l & 0xC0) == 0xC0) return pos + 2;
    pos += 1 + l;
  }
  return pos;
}

Reply parseReply(const std::string& m) {
  Reply r;
  const auto* p = reinterpret_cast<const uint8_t*>(m.data());
  r.flags = get16(p + 2);
  for (int s = 0; s < 3; ++s) r.counts[s] = get16(p + 6 + 2 * s);
  size_t pos = skipName(m, kHeaderSize) + 4;
  for (int s = 0; s < 3; ++s)
    for (unsigned i = 0; i < r.counts[s] && pos < m.size(); ++i) {
      Rr rr;
      rr.ownerIsQuestion = get16(p + pos) == 0xC00C;
      pos = skipName(m, pos);
      rr.type = get16(p + pos);
      uint16_t len = get16(p + pos + 8);
      rr.rdata = m.substr(pos + 10, len);
      pos += 10 + len;
      r.sections[s].push_back(rr);
    }
  return r;
}

// "foo.w.test" -> wire.
std::string wire(const std::string& text) {
  std::string out, why;
  EXPECT_TRUE(textToName(text + ".", "", out, why)) << why;
  return out;
}

class DnsZoneDbWildcard : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dns-wild-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/w.zone")
        << "$ORIGIN w.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
           "ns A 10.0.0.53\n"
           "* A 10.0.0.1\n"
           "* MX 10 mail\n"
           "mail A 10.0.0.25\n"
           "a.b A 10.0.0.2\n"  // b.w.test: an empty non-terminal
           "host A 10.0.0.3\n"
           "*.c CNAME host\n"
           "sub NS ns.sub\n"
           "ns.sub A 10.0.0.200\n"
           "*.sub A 10.0.0.99\n"  // below the cut: glue-like, never a match
           "chain CNAME nothere.e\n"
           "*.e TXT \"e\"\n";
    std::string err;
    ASSERT_TRUE(db_.load({"w.test=" + dir_ + "/w.zone"}, err)) << err;
    db_.setAnswerOptions(true, RrsetOrder::kFixed);  // minimal: the sections below are exact
    db_.finish();
  }
  void TearDown() override {
    unlink((dir_ + "/w.zone").c_str());
    rmdir(dir_.c_str());
  }
  Reply ask(const std::string& name, uint16_t type, AnswerInfo* infoOut = nullptr) {
    std::string pkt("\0\7\0\0\0\1\0\0\0\0\0\0", 12);
    pkt += wire(name) + char(type >> 8) + char(type) + std::string("\0\1", 2);
    Query q;
    EXPECT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(pkt.data()), pkt.size(), q),
              QueryStatus::Ok);
    std::vector<uint8_t> out(65535);
    AnswerContext ctx;
    AnswerInfo info;
    size_t n = db_.answer(q, ctx, out.data(), out.size(), info);
    if (infoOut) *infoOut = info;
    return parseReply(std::string(reinterpret_cast<char*>(out.data()), n));
  }
  std::string dir_;
  ZoneDb db_;
};

const std::string kIp1("\x0a\x00\x00\x01", 4);

TEST_F(DnsZoneDbWildcard, SynthesizesWithTheQueryNameAsOwner) {
  for (const char* name : {"foo.w.test", "FoO.w.TeSt", "deep.er.w.test", "*.w.test"}) {
    Reply r = ask(name, kTypeA);
    EXPECT_EQ(r.rcode(), kRcodeNoError) << name;
    EXPECT_TRUE(r.aa()) << name;
    ASSERT_EQ(r.counts[0], 1) << name;
    EXPECT_TRUE(r.sections[0][0].ownerIsQuestion) << name;
    EXPECT_EQ(r.sections[0][0].type, kTypeA);
    EXPECT_EQ(r.sections[0][0].rdata, kIp1) << name;
  }
  // Another type of the same wildcard, with the MX target's address as usual.
  Reply mx = ask("foo.w.test", kTypeMx);
  ASSERT_EQ(mx.counts[0], 1);
  EXPECT_TRUE(mx.sections[0][0].ownerIsQuestion);
  EXPECT_EQ(mx.counts[2], 1);
}

TEST_F(DnsZoneDbWildcard, NoDataWhenTheWildcardLacksTheType) {
  AnswerInfo info;
  Reply r = ask("foo.w.test", kTypeAaaa, &info);
  EXPECT_EQ(r.rcode(), kRcodeNoError);
  EXPECT_TRUE(r.aa());
  EXPECT_TRUE(info.nodata);
  EXPECT_EQ(r.counts[0], 0);
  ASSERT_EQ(r.counts[1], 1);
  EXPECT_EQ(r.sections[1][0].type, kTypeSoa);
}

TEST_F(DnsZoneDbWildcard, ExistingNamesAndEmptyNonTerminalsBlockIt) {
  Reply host = ask("host.w.test", kTypeA);
  ASSERT_EQ(host.counts[0], 1);
  EXPECT_EQ(host.sections[0][0].rdata, std::string("\x0a\x00\x00\x03", 4));
  EXPECT_EQ(ask("host.w.test", kTypeTxt).counts[0], 0);  // NODATA, not the wildcard's data
  // Below an existing name, the closest encloser is that name: it has no "*" child.
  EXPECT_EQ(ask("x.host.w.test", kTypeA).rcode(), kRcodeNxDomain);
  // b.w.test exists as an empty non-terminal (a.b.w.test): NODATA itself, and it blocks.
  Reply ent = ask("b.w.test", kTypeA);
  EXPECT_EQ(ent.rcode(), kRcodeNoError);
  EXPECT_EQ(ent.counts[0], 0);
  EXPECT_EQ(ask("x.b.w.test", kTypeA).rcode(), kRcodeNxDomain);
  // The wildcard node is an existing name too: nothing below it matches.
  EXPECT_EQ(ask("x.*.w.test", kTypeA).rcode(), kRcodeNxDomain);
}

TEST_F(DnsZoneDbWildcard, CnameAtTheWildcardIsFollowed) {
  Reply r = ask("anything.c.w.test", kTypeA);
  EXPECT_EQ(r.rcode(), kRcodeNoError);
  EXPECT_TRUE(r.aa());
  ASSERT_EQ(r.counts[0], 2);
  EXPECT_TRUE(r.sections[0][0].ownerIsQuestion);
  EXPECT_EQ(r.sections[0][0].type, kTypeCname);
  EXPECT_EQ(r.sections[0][1].type, kTypeA);
  EXPECT_EQ(r.sections[0][1].rdata, std::string("\x0a\x00\x00\x03", 4));
  // A CNAME whose target only exists through a wildcard.
  Reply chain = ask("chain.w.test", kTypeTxt);
  EXPECT_EQ(chain.rcode(), kRcodeNoError);
  ASSERT_EQ(chain.counts[0], 2);
  EXPECT_EQ(chain.sections[0][1].type, kTypeTxt);
  EXPECT_EQ(chain.sections[0][1].rdata, std::string("\1e", 2));
}

TEST_F(DnsZoneDbWildcard, NoMatchBelowAZoneCut) {
  Reply r = ask("x.sub.w.test", kTypeA);
  EXPECT_FALSE(r.aa());  // a referral
  EXPECT_EQ(r.rcode(), kRcodeNoError);
  EXPECT_EQ(r.counts[0], 0);
  ASSERT_EQ(r.counts[1], 1);
  EXPECT_EQ(r.sections[1][0].type, kTypeNs);
}

}  // namespace
}  // namespace manifold::dns
