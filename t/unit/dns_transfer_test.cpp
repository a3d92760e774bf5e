// Unit tests of zone transfers out (protocols/dns/transfer.*) and NOTIFY packets and state
// (protocols/dns/notify.*): the message builder's image decoded RR by RR (names decompressed),
// the answer to AXFR/IXFR queries over UDP and TCP, the IXFR SOA in the query parser.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "protocols/dns/message.hpp"
#include "protocols/dns/notify.hpp"
#include "protocols/dns/transfer.hpp"
#include "protocols/dns/zone_db.hpp"
#include "worker/connection.hpp"

namespace manifold::dns {
namespace {

const std::string kOrigin(
    "\x07"
    "example\x03"
    "com\x00",
    13);

std::string wire(const std::string& text) {
  std::string out, why;
  EXPECT_TRUE(textToName(text, "", out, why)) << why;
  return out;
}

// A decoded message: header fields and every answer RR (owner in text, lowercase).
struct Rr {
  std::string owner;
  uint16_t type;
};
struct Decoded {
  uint16_t id = 0, flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
  std::string qname;
  uint16_t qtype = 0;
  std::vector<Rr> rrs;
  bool ok = false;
};

// Reads a possibly compressed name at pos (advancing pos past it); pointers must go backwards.
bool readName(const uint8_t* m, size_t len, size_t& pos, std::string& out) {
  out.clear();
  size_t at = pos;
  bool jumped = false;
  for (int hops = 0; hops < 128; ++hops) {
    if (at >= len) return false;
    uint8_t l = m[at];
    if ((l & 0xC0) == 0xC0) {
      if (at + 1 >= len) return false;
      size_t target = (l & 0x3F) << 8 | m[at + 1];
      if (target >= at) return false;
      if (!jumped) pos = at + 2;
      jumped = true;
      at = target;
      continue;
    }
    if (l == 0) {
      if (!jumped) pos = at + 1;
      if (out.empty()) out = ".";
      return true;
    }
    if (at + 1 + l > len) return false;
    for (size_t i = 1; i <= l; ++i) out.push_back(static_cast<char>(lowerAscii(m[at + i])));
    out.push_back('.');
    at += 1 + l;
  }
  return false;
}

Decoded decode(const uint8_t* m, size_t len) {
  Decoded d;
  if (len < 12) return d;
  d.id = get16(m);
  d.flags = get16(m + 2);
  d.qd = get16(m + 4);
  d.an = get16(m + 6);
  d.ns = get16(m + 8);
  d.ar = get16(m + 10);
  size_t pos = 12;
  if (d.qd) {
    if (!readName(m, len, pos, d.qname) || pos + 4 > len) return d;
    d.qtype = get16(m + pos);
    pos += 4;
  }
  for (unsigned i = 0; i < 0u + d.an + d.ns + d.ar; ++i) {
    Rr rr;
    if (!readName(m, len, pos, rr.owner) || pos + 10 > len) return d;
    rr.type = get16(m + pos);
    size_t rdlen = get16(m + pos + 8);
    pos += 10;
    if (pos + rdlen > len) return d;
    if (rr.type == kTypeNs || rr.type == kTypeCname) {  // the target decodes too
      size_t at = pos;
      std::string target;
      if (!readName(m, len, at, target) || at != pos + rdlen) return d;
    }
    pos += rdlen;
    d.rrs.push_back(rr);
  }
  d.ok = pos == len;
  return d;
}

// The messages of an image (each after its 2-byte length).
std::vector<Decoded> decodeImage(const std::string& image, std::vector<size_t>* sizes = nullptr) {
  std::vector<Decoded> out;
  const auto* p = reinterpret_cast<const uint8_t*>(image.data());
  for (size_t at = 0; at + 2 <= image.size();) {
    size_t len = get16(p + at);
    EXPECT_LE(at + 2 + len, image.size());
    out.push_back(decode(p + at + 2, len));
    if (sizes) sizes->push_back(len);
    at += 2 + len;
  }
  return out;
}

std::string soaRdata(uint32_t serial) {
  std::string rd = wire("ns1.example.com.") + wire("hostmaster.example.com.");
  uint8_t nums[20];
  put32(nums, serial);
  for (int i = 1; i < 5; ++i) put32(nums + 4 * i, 3600);
  return rd + std::string(reinterpret_cast<const char*>(nums), 20);
}

TEST(DnsTransfer, SmallZoneIsOneMessageWithSoaFirstAndLast) {
  std::string soa = soaRdata(7);
  TransferWriter w(kOrigin, kOrigin, 3600, soa);
  ASSERT_TRUE(w.add(kOrigin, kTypeNs, 3600, wire("ns1.example.com.")));
  ASSERT_TRUE(w.add(wire("ns1.example.com."), kTypeA, 3600, std::string("\xc0\x00\x02\x01", 4)));
  ASSERT_TRUE(w.add(wire("sub.example.com."), kTypeNs, 3600, wire("ns.sub.example.com.")));
  ASSERT_TRUE(w.add(wire("ns.sub.example.com."), kTypeA, 3600, std::string("\xc0\x00\x02\x02", 4)));
  std::vector<size_t> offsets;
  std::string image = w.finish(&offsets);
  ASSERT_EQ(offsets, std::vector<size_t>{0});
  auto msgs = decodeImage(image);
  ASSERT_EQ(msgs.size(), 1u);
  const Decoded& d = msgs[0];
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.flags, 0x8400);  // QR AA
  EXPECT_EQ(d.qd, 1);
  EXPECT_EQ(d.qname, "example.com.");
  EXPECT_EQ(d.qtype, kTypeAxfr);
  ASSERT_EQ(d.an, 6);
  EXPECT_EQ(d.rrs.front().type, kTypeSoa);
  EXPECT_EQ(d.rrs.back().type, kTypeSoa);
  EXPECT_EQ(d.rrs[3].owner, "sub.example.com.");
  EXPECT_EQ(d.rrs[4].owner, "ns.sub.example.com.");  // glue below the cut
  EXPECT_LT(image.size(), 2u + 12 + 17 + 6 * 30);    // names compressed
}

TEST(DnsTransfer, LargeZoneSpreadsOverMessagesUnderTheLimit) {
  std::string soa = soaRdata(9);
  TransferWriter w(kOrigin, kOrigin, 3600, soa);
  const unsigned n = 5000;
  for (unsigned i = 0; i < n; ++i) {
    std::string owner = wire("host" + std::to_string(i) + ".example.com.");
    uint8_t a[4] = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                    static_cast<uint8_t>(i)};
    ASSERT_TRUE(w.add(owner, kTypeA, 60, std::string(reinterpret_cast<char*>(a), 4)));
  }
  std::vector<size_t> sizes;
  auto msgs = decodeImage(w.finish(), &sizes);
  ASSERT_GT(msgs.size(), 3u);
  size_t total = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    ASSERT_TRUE(msgs[i].ok) << i;
    EXPECT_LE(sizes[i], kTransferMessageMax - (i == 0 ? 11 : 0)) << i;  // room for the OPT
    EXPECT_EQ(msgs[i].qd, i == 0 ? 1 : 0) << i;
    EXPECT_EQ(msgs[i].an, msgs[i].rrs.size());
    total += msgs[i].rrs.size();
  }
  EXPECT_EQ(total, n + 2);
  EXPECT_EQ(msgs.front().rrs.front().type, kTypeSoa);
  EXPECT_EQ(msgs.back().rrs.back().type, kTypeSoa);
  EXPECT_EQ(msgs[1].rrs[0].owner.rfind("host", 0), 0u);
}

TEST(DnsTransfer, RecordTooLargeForAMessageIsRefused) {
  std::string soa = soaRdata(1);
  TransferWriter w(kOrigin, kOrigin, 3600, soa, 512);
  EXPECT_FALSE(w.add(kOrigin, kTypeTxt, 60, std::string(600, 'x')));
}

std::string hdr(uint16_t id, uint16_t flags, uint16_t qd, uint16_t ns, uint16_t ar) {
  std::string h;
  for (uint16_t v : {id, flags, qd, uint16_t{0}, ns, ar}) {
    h.push_back(static_cast<char>(v >> 8));
    h.push_back(static_cast<char>(v));
  }
  return h;
}
std::string u16(uint16_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v)}; }

// An AXFR/IXFR query for the name in the client's case; IXFR carries an SOA with `serial` whose
// owner and names are compressed against the question.
std::string xfrQuery(uint16_t qtype, const std::string& name, bool withSoa, uint32_t serial,
                     bool edns = false) {
  std::string q =
      hdr(0x4242, 0, 1, withSoa ? 1 : 0, edns ? 1 : 0) + name + u16(qtype) + u16(kClassIn);
  if (withSoa) {
    uint8_t nums[20] = {};
    put32(nums, serial);
    std::string rd =
        std::string("\xc0\x0c\xc0\x0c", 4) + std::string(reinterpret_cast<char*>(nums), 20);
    q += std::string("\xc0\x0c", 2) + u16(kTypeSoa) + u16(kClassIn) + std::string(4, '\0') +
         u16(24) + rd;
  }
  if (edns) q += std::string("\x00", 1) + u16(kTypeOpt) + u16(1232) + std::string(4, '\0') + u16(0);
  return q;
}

TEST(DnsTransfer, ParserReadsTheIxfrSerial) {
  Query q;
  std::string p = xfrQuery(kTypeIxfr, kOrigin, true, 2024010100);
  ASSERT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(p.data()), p.size(), q), QueryStatus::Ok);
  EXPECT_TRUE(q.ixfrSoa);
  EXPECT_EQ(q.ixfrSerial, 2024010100u);
  // An authority section anywhere else, or a non-SOA there, is malformed.
  p = xfrQuery(kTypeAxfr, kOrigin, true, 1);
  EXPECT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(p.data()), p.size(), q),
            QueryStatus::FormErr);
  p = xfrQuery(kTypeIxfr, kOrigin, true, 1);
  p[p.size() - 24 - 2 - 4 - 2 - 1] = kTypeA;  // the RR's type (before class, TTL, RDLENGTH, RDATA)
  EXPECT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(p.data()), p.size(), q),
            QueryStatus::FormErr);
  p = xfrQuery(kTypeIxfr, kOrigin, true, 1);
  p.resize(p.size() - 3);
  EXPECT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(p.data()), p.size(), q),
            QueryStatus::FormErr);
}

class DnsTransferAnswer : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/manifold-unit-xfr-" + std::to_string(getpid()) + ".zone";
    std::ofstream f(path_);
    f << "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 hm 100 3600 600 86400 60\n@ NS ns1\nns1 A "
         "192.0.2.1\n"
         "www A 192.0.2.80\nsub NS ns.sub\nns.sub A 192.0.2.2\n";
    for (int i = 0; i < 2000; ++i) f << "h" << i << " TXT \"some text to make the zone larger\"\n";
    f.close();
    std::string err;
    ASSERT_TRUE(db_.load({"example.com=" + path_}, err)) << err;
    db_.finish();
    net::Cidr local;
    ASSERT_TRUE(net::parseCidr("127.0.0.0/8", local));
    xfr_.allow = {local};
    ASSERT_TRUE(xfr_.build(db_, true, err)) << err;
    ASSERT_TRUE(xfr_.openFile(err)) << err;
    peer_.sin_family = AF_INET;
    peer_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  void TearDown() override { unlink(path_.c_str()); }

  TransferOutcome ask(const std::string& packet, bool udp, size_t limit = 65535,
                      uint32_t from = INADDR_LOOPBACK) {
    Query q;
    EXPECT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(packet.data()), packet.size(), q),
              QueryStatus::Ok);
    peer_.sin_addr.s_addr = htonl(from);
    out_.assign(65535, 0);
    TransferOutcome o =
        xfr_.answer(q, reinterpret_cast<sockaddr*>(&peer_), udp, out_.data(), limit, len_, stream_);
    reply_ = decode(out_.data(), len_);
    return o;
  }

  std::string path_;
  ZoneDb db_;
  Transfers xfr_;
  sockaddr_in peer_{};
  std::vector<uint8_t> out_;
  size_t len_ = 0;
  const ZoneTransfer* stream_ = nullptr;
  Decoded reply_;
};

TEST_F(DnsTransferAnswer, AxfrOverTcpSendsTheFirstMessageAndStreamsTheRest) {
  const std::string mixed(
      "\x07"
      "ExAmPle\x03"
      "COM\x00",
      13);
  ASSERT_EQ(ask(xfrQuery(kTypeAxfr, mixed, false, 0, true), false), TransferOutcome::Served);
  ASSERT_TRUE(reply_.ok);
  EXPECT_EQ(reply_.id, 0x4242);
  EXPECT_EQ(reply_.flags & 0xFE0F, 0x8400);
  EXPECT_EQ(reply_.qtype, kTypeAxfr);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out_.data()) + 12, 13),
            mixed);         // the client's case
  EXPECT_EQ(reply_.ar, 1);  // OPT on the first message only
  EXPECT_EQ(reply_.rrs.front().type, kTypeSoa);
  ASSERT_NE(stream_, nullptr);
  EXPECT_FALSE(stream_->restLengths.empty());
  EXPECT_EQ(stream_->serial, 100u);
  // The other messages are in the file, each after its length; together with the first they
  // hold every record once and end with the SOA.
  std::string rest;
  uint64_t bytes = 0;
  for (uint16_t l : stream_->restLengths) bytes += 2u + l;
  rest.resize(bytes);
  ASSERT_EQ(pread(xfr_.file()->fd, rest.data(), bytes, static_cast<off_t>(stream_->restOffset)),
            static_cast<ssize_t>(bytes));
  size_t total = reply_.an;
  auto msgs = decodeImage(rest);
  for (const auto& m : msgs) {
    EXPECT_TRUE(m.ok);
    EXPECT_EQ(m.qd, 0);
    total += m.rrs.size();
  }
  EXPECT_EQ(total, db_.recordCount() + 1);  // recordCount counts the SOA once; it is sent twice
  EXPECT_EQ(msgs.back().rrs.back().type, kTypeSoa);
}

TEST_F(DnsTransferAnswer, RcodesAsNsd) {
  EXPECT_EQ(ask(xfrQuery(kTypeAxfr, kOrigin, false, 0), true), TransferOutcome::Refused);
  EXPECT_EQ(reply_.flags & 0xF, kRcodeNotImp);  // AXFR over UDP
  EXPECT_EQ(ask(xfrQuery(kTypeAxfr, wire("www.example.com."), false, 0), false),
            TransferOutcome::NotAuth);
  EXPECT_EQ(reply_.flags & 0xF, kRcodeNotAuth);
  EXPECT_EQ(ask(xfrQuery(kTypeAxfr, wire("example.org."), false, 0), false),
            TransferOutcome::NotAuth);
  EXPECT_EQ(ask(xfrQuery(kTypeAxfr, kOrigin, false, 0), false, 65535, 0xC0000201),
            TransferOutcome::Refused);
  EXPECT_EQ(reply_.flags & 0xF, kRcodeRefused);
  EXPECT_EQ(reply_.qd, 1);
  EXPECT_EQ(ask(xfrQuery(kTypeIxfr, kOrigin, false, 0), false), TransferOutcome::FormErr);
  EXPECT_EQ(reply_.flags & 0xF, kRcodeFormErr);
  EXPECT_EQ(ask(hdr(1, 0, 1, 0, 0) + kOrigin + u16(kTypeA) + u16(kClassIn), false),
            TransferOutcome::NotTransfer);
}

TEST_F(DnsTransferAnswer, IxfrFromACurrentClientGetsTheSoaAlone) {
  for (uint32_t serial : {100u, 101u}) {  // ours, and newer (RFC 1982)
    for (bool udp : {true, false}) {
      ASSERT_EQ(ask(xfrQuery(kTypeIxfr, kOrigin, true, serial), udp), TransferOutcome::UpToDate);
      EXPECT_EQ(reply_.flags, 0x8400);
      ASSERT_EQ(reply_.rrs.size(), 1u);
      EXPECT_EQ(reply_.rrs[0].type, kTypeSoa);
      EXPECT_EQ(stream_, nullptr);
    }
  }
}

TEST_F(DnsTransferAnswer, IxfrFromAnOlderClientOverUdpAsksForTcp) {
  ASSERT_EQ(ask(xfrQuery(kTypeIxfr, kOrigin, true, 99), true, 1232), TransferOutcome::UpToDate);
  EXPECT_EQ(reply_.flags, 0x8600);  // TC: the zone does not fit
  ASSERT_EQ(reply_.rrs.size(), 1u);
  ASSERT_EQ(ask(xfrQuery(kTypeIxfr, kOrigin, true, 99), false), TransferOutcome::Served);
  EXPECT_EQ(reply_.qtype, kTypeIxfr);
  EXPECT_GT(reply_.rrs.size(), 2u);  // AXFR-style: the second RR is not an SOA
  EXPECT_NE(reply_.rrs[1].type, kTypeSoa);
}

TEST(DnsNotify, PacketAndAnnouncedSerials) {
  ZoneTransfer z;
  z.origin = kOrigin;
  z.soaOwner = kOrigin;
  z.soaTtl = 3600;
  z.soaRdata = soaRdata(5);
  uint8_t buf[512];
  size_t n = writeNotify(z, 0x1234, buf, sizeof buf);
  Decoded d = decode(buf, n);
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.id, 0x1234);
  EXPECT_EQ(d.flags, 4 << 11 | 0x0400);  // opcode NOTIFY, AA, a query
  EXPECT_EQ(d.qname, "example.com.");
  EXPECT_EQ(d.qtype, kTypeSoa);
  ASSERT_EQ(d.rrs.size(), 1u);
  EXPECT_EQ(d.rrs[0].type, kTypeSoa);

  auto region = std::make_unique<NotifyRegion>();
  NotifyRegion::format(region.get(), false);
  EXPECT_TRUE(region->changed(kOrigin, 5));
  EXPECT_FALSE(region->changed(kOrigin, 5));
  EXPECT_TRUE(region->changed(wire("example.org."), 5));
  EXPECT_TRUE(region->changed(kOrigin, 6));
  NotifyRegion::format(region.get(), true);  // adopted on reload: kept
  EXPECT_FALSE(region->changed(kOrigin, 6));
}

TEST(DnsNotify, TargetsParse) {
  NotifyTarget t;
  std::string why;
  ASSERT_TRUE(parseNotifyTarget("192.0.2.53", t, why)) << why;
  EXPECT_EQ(t.text, "192.0.2.53:53");
  ASSERT_TRUE(parseNotifyTarget("127.0.0.1:5300", t, why)) << why;
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&t.addr)->sin_port), 5300);
  ASSERT_TRUE(parseNotifyTarget("[::1]:5300", t, why)) << why;
  EXPECT_EQ(t.addr.ss_family, AF_INET6);
  ASSERT_TRUE(parseNotifyTarget("2001:db8::1", t, why)) << why;
  EXPECT_FALSE(parseNotifyTarget("*:53", t, why));
  EXPECT_FALSE(parseNotifyTarget("nonsense", t, why));
}

}  // namespace
}  // namespace manifold::dns
