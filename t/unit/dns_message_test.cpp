// Unit tests of the query parser and response writer (protocols/dns/message.*) and of the
// compiled answers (protocols/dns/zone_db.*), over byte buffers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "protocols/dns/message.hpp"
#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {
namespace {

std::string hdr(uint16_t id, uint16_t flags, uint16_t qd, uint16_t ar = 0) {
  std::string h;
  for (uint16_t v : {id, flags, qd, uint16_t{0}, uint16_t{0}, ar}) {
    h.push_back(static_cast<char>(v >> 8));
    h.push_back(static_cast<char>(v));
  }
  return h;
}
const std::string kName(
    "\x03"
    "WwW\x07"
    "example\x03"
    "com\x00",
    17);
const std::string kA("\x00\x01\x00\x01", 4);

QueryStatus parseStr(const std::string& s, Query& q) {
  return parseQuery(reinterpret_cast<const uint8_t*>(s.data()), s.size(), q);
}

TEST(DnsMessage, ParsesAQuestionAndLowercasesTheKey) {
  Query q;
  ASSERT_EQ(parseStr(hdr(7, 0x0100, 1) + kName + kA, q), QueryStatus::Ok);
  EXPECT_EQ(q.id, 7);
  EXPECT_TRUE(q.rd());
  EXPECT_EQ(q.qtype, 1);
  EXPECT_EQ(q.qnameLength, 17u);
  EXPECT_EQ(std::string(q.name()), std::string("\x03"
                                               "www\x07"
                                               "example\x03"
                                               "com\x00",
                                               17));
  EXPECT_FALSE(q.edns);
}

TEST(DnsMessage, EdnsAndClientSubnet) {
  // OPT: root, type 41, payload 4096, version 0, DO; ECS family 1 /24 scope 0 198.51.100.
  std::string opt(
      "\x00\x00\x29\x10\x00\x00\x00\x80\x00\x00\x0b\x00\x08\x00\x07\x00\x01\x18\x00\xc6\x33\x64",
      22);
  Query q;
  ASSERT_EQ(parseStr(hdr(1, 0, 1, 1) + kName + kA + opt, q), QueryStatus::Ok);
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(q.udpPayload, 4096);
  EXPECT_TRUE(q.dnssecOk);
  ASSERT_TRUE(q.ecs.present);
  EXPECT_EQ(q.ecs.sourcePrefix, 24);
  EXPECT_EQ(q.ecs.address[2], 100);
  // Version 1 is parsed (the service answers BADVERS).
  std::string v1 = opt;
  v1[6] = 1;
  ASSERT_EQ(parseStr(hdr(1, 0, 1, 1) + kName + kA + v1, q), QueryStatus::Ok);
  EXPECT_EQ(q.ednsVersion, 1);
  // ECS with a nonzero scope or a wrong length is malformed (RFC 7871 7.1.2).
  std::string badScope = opt;
  badScope[18] = 8;
  EXPECT_EQ(parseStr(hdr(1, 0, 1, 1) + kName + kA + badScope, q), QueryStatus::FormErr);
  // OPT with a non-root owner, two OPTs.
  EXPECT_EQ(parseStr(hdr(1, 0, 1, 2) + kName + kA + opt + opt, q), QueryStatus::FormErr);
}

TEST(DnsMessage, RejectsMalformedQueries) {
  Query q;
  EXPECT_EQ(parseStr("", q), QueryStatus::Drop);
  EXPECT_EQ(parseStr(hdr(1, 0x8000, 1) + kName + kA, q), QueryStatus::Drop);  // a response
  EXPECT_EQ(parseStr(hdr(1, 0, 0), q), QueryStatus::FormErr);
  EXPECT_EQ(parseStr(hdr(1, 0, 2) + kName + kA + kName + kA, q), QueryStatus::FormErr);
  EXPECT_EQ(parseStr(hdr(1, 0, 1) + std::string("\xc0\x0c", 2) + kA, q), QueryStatus::FormErr);
  EXPECT_EQ(parseStr(hdr(1, 0, 1) +
                         std::string("\x40"
                                     "x",
                                     2) +
                         kA,
                     q),
            QueryStatus::FormErr);
  EXPECT_EQ(parseStr(hdr(1, 0, 1) + kName, q), QueryStatus::FormErr);
  EXPECT_EQ(parseStr(hdr(1, 0, 1) + kName.substr(0, 8), q), QueryStatus::FormErr);
  std::string tooLong;
  for (int i = 0; i < 5; ++i) tooLong += std::string(1, 63) + std::string(63, 'a');
  EXPECT_EQ(parseStr(hdr(1, 0, 1) + tooLong + std::string(1, 0) + kA, q), QueryStatus::FormErr);
  EXPECT_EQ(parseStr(hdr(1, 5 << 11, 1) + kName + kA, q), QueryStatus::NotImp);
  // An additional RR with a compression loop in its owner is skipped safely (pointer not followed).
  std::string rr("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  EXPECT_EQ(parseStr(hdr(1, 0, 1, 1) + kName + kA + rr, q), QueryStatus::Ok);
  EXPECT_EQ(parseStr(hdr(1, 0, 1, 3) + kName + kA + rr, q), QueryStatus::FormErr);
}

TEST(DnsMessage, WriterCompressesAndRollsBack) {
  std::vector<uint8_t> buf(512);
  PacketWriter w(buf.data(), buf.size());
  w.start(9, 0x8400);
  std::string qname(
      "\x03"
      "www\x07"
      "example\x03"
      "com\x00",
      17);
  ASSERT_TRUE(w.question(reinterpret_cast<const uint8_t*>(qname.data()), qname.size(), 5, 1));
  std::string target(
      "\x03"
      "web\x07"
      "example\x03"
      "com\x00",
      17);
  ASSERT_TRUE(w.record(PacketWriter::kAnswer, qname, kTypeCname, 60, target));
  // owner -> pointer to 12 (2 bytes); target "web" + pointer to "example.com" at 16.
  EXPECT_EQ(w.size(), 12u + 17 + 4 + 2 + 10 + 4 + 2);
  EXPECT_EQ(buf[33], 0xC0);
  EXPECT_EQ(buf[34], 12);
  size_t before = w.size();
  PacketWriter::Mark m = w.mark();
  w.setCap(before + 5);
  EXPECT_FALSE(w.record(PacketWriter::kAnswer, target, kTypeA, 60, std::string("\1\2\3\4", 4)));
  EXPECT_EQ(w.size(), before);
  EXPECT_EQ(w.count(PacketWriter::kAnswer), 1);
  w.rollback(m);
  EXPECT_EQ(get16(buf.data() + 6), 1);
}

TEST(DnsMessage, ZoneDbAnswersAndTruncatesAtRRsetBoundaries) {
  char tmpl[] = "/tmp/dns-unit-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string zone =
      "$ORIGIN t.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 10.0.0.53\nbig A 10.0.0.1\n";
  for (int i = 0; i < 60; ++i)
    zone += "big TXT \"" + std::string(20, 'a' + i % 26) + std::to_string(i) + "\"\n";
  std::ofstream(dir + "/t.zone") << zone;
  ZoneDb db;
  std::string err;
  ASSERT_TRUE(db.load({"t=" + dir + "/t.zone"}, err)) << err;
  db.finish();
  auto ask = [&](const std::string& name, uint16_t type, size_t limit, AnswerInfo& info) {
    std::string pkt = hdr(3, 0, 1) + name + std::string(1, 0) + char(type >> 8) + char(type) +
                      std::string("\0\1", 2);
    Query q;
    EXPECT_EQ(parseStr(pkt, q), QueryStatus::Ok);
    std::vector<uint8_t> out(65535);
    AnswerContext ctx;
    size_t n = db.answer(q, ctx, out.data(), limit, info);
    return std::string(reinterpret_cast<char*>(out.data()), n);
  };
  AnswerInfo info;
  auto a = ask("\3big\1t", kTypeA, 512, info);
  EXPECT_EQ(get16(reinterpret_cast<const uint8_t*>(a.data()) + 2) & 0x8600,
            0x8400);  // QR AA, no TC
  EXPECT_EQ(get16(reinterpret_cast<const uint8_t*>(a.data()) + 6), 1);
  info = {};
  auto txt = ask("\3big\1t", kTypeTxt, 512, info);
  EXPECT_TRUE(info.truncated);
  EXPECT_LE(txt.size(), 512u);
  EXPECT_EQ(get16(reinterpret_cast<const uint8_t*>(txt.data()) + 6), 0);  // whole RRset or nothing
  info = {};
  auto full = ask("\3big\1t", kTypeTxt, 65535, info);
  EXPECT_FALSE(info.truncated);
  EXPECT_EQ(get16(reinterpret_cast<const uint8_t*>(full.data()) + 6), 60);
  info = {};
  ask("\4nope\1t", kTypeA, 512, info);
  EXPECT_EQ(info.rcode, kRcodeNxDomain);
  info = {};
  ask("\2ns\1t", kTypeMx, 512, info);
  EXPECT_TRUE(info.nodata);
  info = {};
  ask("\3big\3org", kTypeA, 512, info);
  EXPECT_EQ(info.rcode, kRcodeRefused);
  unlink((dir + "/t.zone").c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace manifold::dns
