// Tier: protocol on the wire — [dns:*] answered with Debian's `dig` (bind9-dnsutils) and raw
// UDP/TCP packets: zones, NXDOMAIN/NODATA, REFUSED, CNAME chains, glue, referrals, 0x20, ANY,
// EDNS (BADVERS, payload, truncation at RRset boundaries), malformed input, IPv6, zone errors
// at start and on reload, counters in manifold-shm.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

const char* kRepoZone = "etc/zones/example.com.zone";

std::string dnsSection(const std::string& extra = "") {
  return "[dns:main]\nlisten = 127.0.0.1:{port:dns} [::1]:{port:dns}"
         "\nzones = example.com=" +
         std::string(getcwd(nullptr, 0)) + "/" + kRepoZone + "\n" + extra;
}

const std::string kQname(
    "\x07"
    "example\x03"
    "com\x00",
    13);
const std::string kTypeAIn("\x00\x01\x00\x01", 4);

}  // namespace

TEST(DnsProtocol, AuthoritativeAnswers) {
  Instance m(dnsSection());
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  auto soa = dig(port, "example.com SOA");
  EXPECT_NE(soa.find("flags: qr aa;"), std::string::npos) << soa;
  EXPECT_NE(soa.find("2024010101 7200 3600 1209600 300"), std::string::npos) << soa;
  // CNAME chain inside the zone.
  EXPECT_EQ(digShort(port, "alias.example.com A"),
            "www.example.com.\nweb.example.com.\n192.0.2.80\n192.0.2.81\n");
  // NXDOMAIN with the SOA (negative TTL = min(SOA TTL, MINIMUM) = 300).
  auto nx = dig(port, "nothere.example.com A");
  EXPECT_NE(nx.find("status: NXDOMAIN"), std::string::npos) << nx;
  EXPECT_NE(nx.find("AUTHORITY: 1"), std::string::npos) << nx;
  EXPECT_NE(nx.find("example.com.\t\t300\tIN\tSOA"), std::string::npos) << nx;
  // NODATA at a name with data, and at an empty non-terminal.
  for (std::string q : {"mail.example.com AAAA", "b.c.example.com A"}) {
    auto nd = dig(port, q);
    EXPECT_NE(nd.find("status: NOERROR"), std::string::npos) << nd;
    EXPECT_NE(nd.find("ANSWER: 0, AUTHORITY: 1"), std::string::npos) << nd;
  }
  // REFUSED outside our zones, no AA.
  auto ref = dig(port, "example.org A");
  EXPECT_NE(ref.find("status: REFUSED"), std::string::npos) << ref;
  EXPECT_EQ(ref.find(" aa"), std::string::npos) << ref;
  // MX with additional A for the in-zone target only.
  auto mx = dig(port, "example.com MX");
  EXPECT_NE(mx.find("mail.example.com.\t300\tIN\tA\t192.0.2.25"), std::string::npos) << mx;
  // Referral for a delegated child: no AA, NS in authority, glue in additional.
  auto deleg = dig(port, "host.sub.example.com A");
  EXPECT_NE(deleg.find("flags: qr;"), std::string::npos) << deleg;
  EXPECT_NE(deleg.find("sub.example.com.\t3600\tIN\tNS\tns.sub.example.com."), std::string::npos)
      << deleg;
  EXPECT_NE(deleg.find("ns.sub.example.com.\t3600\tIN\tA\t192.0.2.200"), std::string::npos)
      << deleg;
  // 0x20: the question's case comes back as sent; matching ignores it.
  auto mixed = dig(port, "wWw.ExAmple.COM A");
  EXPECT_NE(mixed.find(";wWw.ExAmple.COM.\t"), std::string::npos) << mixed;
  EXPECT_NE(mixed.find("192.0.2.80"), std::string::npos) << mixed;
  // ANY: one RRset (RFC 8482).
  auto any = dig(port, "example.com ANY");
  EXPECT_NE(any.find("ANSWER: 1,"), std::string::npos) << any;
  // TXT with several strings, SRV, CAA, PTR, AAAA over IPv6, TCP.
  EXPECT_EQ(digShort(port, "txt.example.com TXT").size() > 20, true);
  EXPECT_EQ(digShort(port, "_sip._tcp.example.com SRV"), "10 60 5060 sip.example.com.\n");
  EXPECT_EQ(digShort(port, "example.com CAA"), "0 issue \"letsencrypt.org\"\n");
  EXPECT_EQ(digShort(port, "4.3.2.1.example.com PTR"), "host.example.com.\n");
  EXPECT_EQ(digShort(port, "example.com AAAA", "::1"), "2001:db8::1\n");
  EXPECT_EQ(digShort(port, "+tcp web.example.com A"), "192.0.2.80\n192.0.2.81\n");
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsProtocol, EdnsAndTruncation) {
  Instance m("");
  std::string zone = "$ORIGIN big.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 127.0.0.1\n";
  for (int i = 0; i < 40; ++i)
    zone +=
        "many TXT \"record number " + std::to_string(i) + " with some padding to make it long\"\n";
  zone += "many A 10.0.0.1\n";
  writeFile(m.path("big.zone"), zone);
  m.rewriteConfig(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = big.test=" + m.path("big.zone") + "\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  // No EDNS: 512 bytes; the TXT RRset does not fit whole, so TC and an empty answer section.
  auto plain = dig(port, "+noedns +ignore many.big.test TXT");
  EXPECT_NE(plain.find("flags: qr aa tc;"), std::string::npos) << plain;
  EXPECT_NE(plain.find("ANSWER: 0,"), std::string::npos) << plain;
  // EDNS with a big buffer is still capped at 1232 (max_udp_payload).
  auto edns = dig(port, "+bufsize=4096 +ignore many.big.test TXT");
  EXPECT_NE(edns.find(" tc;"), std::string::npos) << edns;
  EXPECT_NE(edns.find("MSG SIZE  rcvd:"), std::string::npos);
  // TCP: everything.
  auto tcp = dig(port, "+tcp many.big.test TXT");
  EXPECT_NE(tcp.find("ANSWER: 40,"), std::string::npos) << tcp;
  // A small answer is not truncated; the OPT is echoed with our payload.
  auto small = dig(port, "many.big.test A");
  EXPECT_NE(small.find("udp: 1232"), std::string::npos) << small;
  EXPECT_EQ(small.find(" tc"), std::string::npos) << small;
  // EDNS version 1: BADVERS.
  auto bad = dig(port, "+edns=1 +noednsneg many.big.test A");
  EXPECT_NE(bad.find("status: BADVERS"), std::string::npos) << bad;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsProtocol, MalformedInputNeverCrashes) {
  Instance m(dnsSection());
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  auto pids = m.workerPids();
  // QDCOUNT 2 -> FORMERR.
  auto r = udpExchange(port, header(1, 0x0100, 2, 0, 0, 0) + kQname + kTypeAIn + kQname + kTypeAIn);
  EXPECT_EQ(rcodeOf(r), 1);
  // QDCOUNT 0 -> FORMERR.
  EXPECT_EQ(rcodeOf(udpExchange(port, header(2, 0x0100, 0, 0, 0, 0))), 1);
  // A compression pointer in the question (even a loop) -> FORMERR.
  EXPECT_EQ(
      rcodeOf(udpExchange(port, header(3, 0, 1, 0, 0, 0) + std::string("\xc0\x0c", 2) + kTypeAIn)),
      1);
  // A label length running past the end -> FORMERR.
  EXPECT_EQ(rcodeOf(udpExchange(port, header(4, 0, 1, 0, 0, 0) + std::string("\x3f"
                                                                             "abc",
                                                                             4))),
            1);
  // Truncated question -> FORMERR; opcode STATUS -> NOTIMP.
  EXPECT_EQ(rcodeOf(udpExchange(port, header(5, 0, 1, 0, 0, 0) + kQname)), 1);
  EXPECT_EQ(rcodeOf(udpExchange(port, header(6, 2 << 11, 1, 0, 0, 0) + kQname + kTypeAIn)), 4);
  // QR=1 and runts get no answer at all.
  EXPECT_EQ(udpExchange(port, header(7, 0x8000, 1, 0, 0, 0) + kQname + kTypeAIn, 300), "");
  EXPECT_EQ(udpExchange(port, std::string("\x00\x01\x02", 3), 300), "");
  // A bad OPT (two of them) -> FORMERR.
  std::string opt("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
  EXPECT_EQ(rcodeOf(udpExchange(port, header(8, 0, 1, 0, 0, 2) + kQname + kTypeAIn + opt + opt)),
            1);
  // TCP: two queries in one segment, answered in order; then a zero length closes.
  std::string q1 = header(9, 0, 1, 0, 0, 0) + kQname + kTypeAIn;
  std::string framed;
  for (int i = 0; i < 2; ++i) {
    framed.push_back(0);
    framed.push_back(static_cast<char>(q1.size()));
    framed += q1;
  }
  auto tcp = rawExchange(port, framed, 2000);
  ASSERT_GT(tcp.size(), 4u);
  size_t first = static_cast<uint8_t>(tcp[0]) << 8 | static_cast<uint8_t>(tcp[1]);
  EXPECT_EQ(tcp.size(), 2 * (2 + first)) << tcp.size();
  // Still the same workers, still answering.
  EXPECT_EQ(m.workerPids(), pids);
  EXPECT_EQ(digShort(port, "example.com A"), "192.0.2.1\n");
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_NE(stats.find("rcode_formerr"), std::string::npos) << stats;
  EXPECT_NE(stats.find("queries_tcp"), std::string::npos) << stats;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsProtocol, ZoneErrorsAtStartAndOnReload) {
  Instance m("");
  writeFile(m.path("z.zone"),
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 127.0.0.1\nwww A 10.0.0.1\n");
  writeFile(m.path("bad.zone"), "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n\nwww A 10.0.0.300\n");
  std::string good =
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = z.test=" + m.path("z.zone") + "\n";
  std::string bad =
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = z.test=" + m.path("bad.zone") + "\n";
  // -t refuses the bad zone naming file and line.
  m.rewriteConfig(bad);
  int rc = 0;
  auto out = run(binPath("manifold") + " -t -c " + m.configPath() + " 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("bad.zone:4: A: bad IPv4 address '10.0.0.300'"), std::string::npos) << out;
  m.rewriteConfig(good);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  EXPECT_EQ(digShort(port, "www.z.test A"), "10.0.0.1\n");
  // A reload with the broken zone fails and the old data keeps serving.
  m.rewriteConfig(bad);
  m.signal(SIGHUP);
  EXPECT_TRUE(m.waitForLog("bad.zone:4:")) << m.log();
  EXPECT_EQ(digShort(port, "www.z.test A"), "10.0.0.1\n");
  EXPECT_EQ(m.stop(), 0) << m.log();
}
