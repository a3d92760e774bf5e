// Unit tests of zone transfers in (protocols/dns/xfr_in.*): our own AXFR image (compressed, over
// several messages) parsed back and written as a zone copy that the loader reads to the same
// records; IXFR sequences (up to date, incremental steps applied, a deletion we lack refused);
// replies that are not ours, not for the zone or not signed when a key is set; a signed stream
// with an unsigned message in the middle (RFC 8945 5.3.1).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "protocols/dns/message.hpp"
#include "protocols/dns/transfer.hpp"
#include "protocols/dns/xfr_in.hpp"
#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {
namespace {

const std::string kOrigin("\7example\3net\0", 13);

std::string wire(const std::string& text) {
  std::string out, why;
  EXPECT_TRUE(textToName(text, "", out, why)) << why;
  return out;
}

std::string soaRdata(uint32_t serial) {
  std::string rd = wire("ns1.example.net.") + wire("hm.example.net.");
  uint8_t n[20];
  uint32_t v[5] = {serial, 3600, 60, 600, 30};
  for (int i = 0; i < 5; ++i) put32(n + 4 * i, v[i]);
  return rd + std::string(reinterpret_cast<char*>(n), 20);
}

XfrRecord soa(uint32_t serial) { return {kOrigin, kTypeSoa, kClassIn, 300, soaRdata(serial)}; }
XfrRecord a(const std::string& host, uint8_t last) {
  return {wire(host + ".example.net."), kTypeA, kClassIn, 300,
          std::string("\xc0\x00\x02", 3) + static_cast<char>(last)};
}

// The messages of a transfer image (TransferWriter), without their length prefixes.
std::vector<std::string> messages(const std::string& image) {
  std::vector<std::string> out;
  for (size_t at = 0; at + 2 <= image.size();) {
    size_t len = get16(reinterpret_cast<const uint8_t*>(image.data()) + at);
    out.push_back(image.substr(at + 2, len));
    at += 2 + len;
  }
  return out;
}

std::string image(const std::vector<XfrRecord>& rrs, uint32_t serial, size_t max = 200) {
  std::string soaRd = soaRdata(serial);
  TransferWriter w(kOrigin, kOrigin, 300, soaRd, max);
  for (const XfrRecord& r : rrs) EXPECT_TRUE(w.add(r.owner, r.type, r.ttl, r.rdata));
  return w.finish();
}

XfrInParser::Status feedAll(XfrInParser& p, const std::vector<std::string>& msgs) {
  XfrInParser::Status s = XfrInParser::Status::More;
  for (const std::string& m : msgs)
    s = p.feed(reinterpret_cast<const uint8_t*>(m.data()), m.size());
  return s;
}

TEST(DnsXfrIn, OurAxfrParsedBackAndReloadedAsTheSameZone) {
  std::vector<XfrRecord> rrs = {{kOrigin, kTypeNs, kClassIn, 300, wire("ns1.example.net.")},
                                a("ns1", 53),
                                {wire("mail.example.net."), kTypeMx, kClassIn, 300,
                                 std::string("\0\12", 2) + wire("ns1.example.net.")}};
  for (int i = 0; i < 60; ++i) rrs.push_back(a("h" + std::to_string(i), static_cast<uint8_t>(i)));
  auto msgs = messages(image(rrs, 7));
  ASSERT_GT(msgs.size(), 3u);  // 200-byte messages: several
  XfrInParser p(kOrigin, 0, nullptr, "", 0);
  ASSERT_EQ(feedAll(p, msgs), XfrInParser::Status::Done) << p.error();
  EXPECT_EQ(p.kind(), XfrInParser::Kind::Full);
  EXPECT_EQ(p.serial(), 7u);
  std::vector<XfrRecord> zone = fullZone(p.records());
  ASSERT_EQ(zone.size(), rrs.size() + 1);
  EXPECT_EQ(zone[0], soa(7));
  for (size_t i = 0; i < rrs.size(); ++i) EXPECT_EQ(zone[i + 1], rrs[i]) << i;  // decompressed

  // The copy loads back to the same records.
  char path[] = "/tmp/manifold-xfr-in-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << zoneText(kOrigin, zone);
  ZoneDb db;
  std::string err;
  ASSERT_TRUE(db.load({std::string("example.net.=") + path}, err)) << err;
  db.finish();
  unlink(path);
  std::vector<XfrRecord> loaded;
  db.forEachRecord(0, [&](std::string_view o, uint16_t t, uint32_t ttl, std::string_view rd) {
    loaded.push_back({std::string(o), t, kClassIn, ttl, std::string(rd)});
  });
  EXPECT_EQ(loaded, rrs);
  EXPECT_EQ(db.zoneSoa(0).rdata, soaRdata(7));
  EXPECT_EQ(soaTimers(copySoaRdata(zoneText(kOrigin, zone))).expire, 600u);
}

TEST(DnsXfrIn, IxfrUpToDateAndIncrementalSteps) {
  // The primary is at our serial: its SOA alone.
  uint32_t ours = 5;
  XfrInParser up(kOrigin, 0, nullptr, "", 0, &ours);
  uint8_t buf[512];
  PacketWriter w(buf, sizeof buf);
  w.start(0, kFlagQr | kFlagAa);
  w.question(reinterpret_cast<const uint8_t*>(kOrigin.data()), kOrigin.size(), kTypeIxfr, 1);
  w.record(PacketWriter::kAnswer, kOrigin, kTypeSoa, 300, soaRdata(5));
  EXPECT_EQ(up.feed(buf, w.size()), XfrInParser::Status::Done) << up.error();
  EXPECT_EQ(up.kind(), XfrInParser::Kind::UpToDate);

  // 5 -> 6 deletes h1 and adds h2; 6 -> 7 adds h3. As one IXFR stream.
  std::vector<XfrRecord> zone = {soa(5), a("h0", 0), a("h1", 1)};
  std::vector<XfrRecord> seq = {soa(7), soa(5), a("h1", 1), soa(6), a("h2", 2),
                                soa(6), soa(7), a("h3", 3), soa(7)};
  const std::string soa7 = soaRdata(7);  // the writer keeps views of its arguments
  TransferWriter tw(kOrigin, kOrigin, 300, soa7, 512);
  for (size_t i = 1; i + 1 < seq.size(); ++i)
    ASSERT_TRUE(tw.add(seq[i].owner, seq[i].type, seq[i].ttl, seq[i].rdata));
  XfrInParser p(kOrigin, 0, nullptr, "", 0, &ours);
  ASSERT_EQ(feedAll(p, messages(tw.finish())), XfrInParser::Status::Done) << p.error();
  EXPECT_EQ(p.kind(), XfrInParser::Kind::Incremental);
  EXPECT_EQ(p.records(), seq);
  std::string why;
  ASSERT_TRUE(applyIxfr(zone, p.records(), why)) << why;
  std::vector<XfrRecord> want = {soa(7), a("h0", 0), a("h2", 2), a("h3", 3)};
  EXPECT_EQ(zone, want);
  // A step that deletes what we do not hold, or starts from another serial: refused.
  std::vector<XfrRecord> z2 = {soa(5), a("h0", 0)};
  EXPECT_FALSE(applyIxfr(z2, seq, why));
  EXPECT_NE(why.find("h1.example.net."), std::string::npos) << why;
  std::vector<XfrRecord> z3 = {soa(4), a("h1", 1)};
  EXPECT_FALSE(applyIxfr(z3, seq, why));
}

TEST(DnsXfrIn, RepliesThatAreNotAGoodTransfer) {
  auto msgs = messages(image({a("www", 1)}, 3));
  auto fails = [&](uint16_t id, const std::string& origin, std::string m) {
    XfrInParser p(origin, id, nullptr, "", 0);
    return p.feed(reinterpret_cast<const uint8_t*>(m.data()), m.size()) ==
           XfrInParser::Status::Error;
  };
  EXPECT_FALSE(fails(0, kOrigin, msgs[0]));
  EXPECT_TRUE(fails(1, kOrigin, msgs[0]));                    // not our ID
  EXPECT_TRUE(fails(0, std::string("\3org\0", 5), msgs[0]));  // another zone
  std::string refused = msgs[0];
  refused[3] = static_cast<char>(refused[3] | kRcodeRefused);
  EXPECT_TRUE(fails(0, kOrigin, refused));
  for (size_t cut = 0; cut < msgs[0].size(); ++cut)  // truncated anywhere
    EXPECT_TRUE(fails(0, kOrigin, msgs[0].substr(0, cut))) << cut;
  // A record outside the zone.
  auto outside = messages(image({{wire("www.example.org."), kTypeA, 1, 300, "\1\2\3\4"}}, 3));
  EXPECT_TRUE(fails(0, kOrigin, outside[0]));
  // A key is set and the reply is not signed.
  TsigKey key;
  std::string why;
  ASSERT_TRUE(parseTsigKey("k hmac-sha256 c2VjcmV0c2VjcmV0", key, why));
  XfrInParser p(kOrigin, 0, &key, "request-mac", 0);
  EXPECT_EQ(p.feed(reinterpret_cast<const uint8_t*>(msgs[0].data()), msgs[0].size()),
            XfrInParser::Status::Error);
  EXPECT_NE(p.error().find("TSIG"), std::string::npos);
}

TEST(DnsXfrIn, SignedStreamWithAnUnsignedMessageInside) {
  TsigKey key;
  std::string why;
  ASSERT_TRUE(parseTsigKey("k hmac-sha512 c2VjcmV0c2VjcmV0", key, why));
  std::vector<XfrRecord> rrs;
  for (int i = 0; i < 40; ++i) rrs.push_back(a("h" + std::to_string(i), static_cast<uint8_t>(i)));
  auto msgs = messages(image(rrs, 9));
  ASSERT_GE(msgs.size(), 3u);
  std::string requestMac;
  std::string req = xfrRequest(kOrigin, kTypeAxfr, 0, nullptr, &key, 1000, &requestMac);
  ASSERT_EQ(requestMac.size(), 64u);
  // Sign the first and last; the middle ones go unsigned, hashed into the next signed one.
  std::vector<std::string> out;
  std::string mac = requestMac, pending;
  for (size_t i = 0; i < msgs.size(); ++i) {
    bool sign = i == 0 || i + 1 == msgs.size();
    if (!sign) {
      out.push_back(msgs[i]);
      pending += msgs[i];
      continue;
    }
    std::vector<uint8_t> buf(msgs[i].begin(), msgs[i].end());
    buf.resize(msgs[i].size() + key.recordSize());
    // The unsigned messages are hashed after the prior MAC, before this one.
    TsigMac h(key);
    h.updatePriorMac(mac);
    h.update(pending);
    h.update(msgs[i]);
    h.update(tsigVariables(key, 1000, kTsigFudge, 0, {}, i > 0));
    uint8_t m[kTsigMaxMac];
    std::string newMac(reinterpret_cast<char*>(m), h.final(m));
    size_t rr =
        writeTsigRecord(buf.data() + msgs[i].size(), key.recordSize(), key, 1000, 0, 0, newMac, {});
    put16(buf.data() + 10, static_cast<uint16_t>(get16(buf.data() + 10) + 1));
    out.emplace_back(reinterpret_cast<char*>(buf.data()), msgs[i].size() + rr);
    mac = newMac;
    pending.clear();
  }
  XfrInParser p(kOrigin, 0, &key, requestMac, 1000);
  EXPECT_EQ(feedAll(p, out), XfrInParser::Status::Done) << p.error();
  // The same with one byte of an unsigned message changed: the next MAC does not match.
  out[1][20] ^= 1;
  XfrInParser bad(kOrigin, 0, &key, requestMac, 1000);
  EXPECT_EQ(feedAll(bad, out), XfrInParser::Status::Error);
}

}  // namespace
}  // namespace manifold::dns
