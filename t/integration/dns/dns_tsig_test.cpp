// Tier: end-to-end with real clients — TSIG (protocols/dns/tsig.*, service_tsig.cpp): `dig -y`
// transfers (AXFR and IXFR, hmac-sha256 and hmac-sha512) of a zone long enough for many signed
// messages, compared with NSD serving the same file with the same key; a wrong secret (BADSIG),
// an unknown key (BADKEY) and an unsigned request refused as NSD refuses them; NSD as a TSIG
// secondary following our signed NOTIFY.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <regex>
#include <string>
#include <thread>

#include "protocols/dns/message.hpp"
#include "protocols/dns/tsig.hpp"
#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

const std::string kSecret = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OS0wMTIzNDU2Nzg5";

std::string bigZone(int serial, int names, int refresh = 86400) {
  std::string z = "$ORIGIN big.example.\n$TTL 300\n@ SOA ns hm " + std::to_string(serial) + " " +
                  std::to_string(refresh) + " " + std::to_string(refresh) +
                  " 604800 60\n@ NS ns\nns A 192.0.2.1\n";
  for (int i = 0; i < names; ++i)
    z += "h" + std::to_string(i) + " TXT \"record number " + std::to_string(i) + "\"\n";
  return z;
}

std::string nsdKey(const std::string& name, const std::string& alg) {
  return "key:\n  name: " + name + "\n  algorithm: " + alg + "\n  secret: \"" + kSecret + "\"\n";
}

// The TSIG line of dig's output with the time (which differs between runs) blanked.
std::string tsigLine(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("\\n([^\\n]*\\tANY\\tTSIG\\t[^\\n]*)"))) return "";
  return std::regex_replace(m[1].str(), std::regex(" [0-9]{9,} 300 0 [0-9]+ "), " T 300 0 ID ");
}

// The zone's records in a dig transfer, without the TSIG RR of each message.
std::vector<std::string> zoneRecords(const std::string& digOutput) {
  std::vector<std::string> out;
  for (std::string& r : sortedRecords(digOutput))
    if (r.find("\tTSIG\t") == std::string::npos) out.push_back(std::move(r));
  return out;
}

}  // namespace

TEST(DnsTsigTransfer, DigYAxfrIxfrAndRefusalsAsNsd) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  Instance m(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = big.example={dir}/big.zone\n"
      "key = xfr-key hmac-sha256 " +
      kSecret + "\nkey = k512.example hmac-sha512 " + kSecret +
      "\nallow_transfer = 127.0.0.1 key=xfr-key\nallow_transfer = 127.0.0.0/8 "
      "key=k512.example\n");
  const int names = 3000;  // about 90 KB: several 16 KB messages, each signed
  writeFile(m.path("big.zone"), bigZone(7, names));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  Nsd nsd(m.dir() + "/nsd", "big.example", m.path("big.zone"),
          "  provide-xfr: 127.0.0.1 xfr-key\n  provide-xfr: 127.0.0.1 k512.example\n" +
              nsdKey("xfr-key", "hmac-sha256") + nsdKey("k512.example", "hmac-sha512"));
  ASSERT_TRUE(nsd.start()) << nsd.output();

  const std::string y256 = "-y hmac-sha256:xfr-key:" + kSecret + " ";
  const std::string y512 = "-y hmac-sha512:k512.example:" + kSecret + " ";
  for (const std::string& y : {y256, y512}) {
    std::string ours = dig(port, "+time=5 " + y + "big.example AXFR");
    // dig checks every message's MAC (chained) and says "failed" or "could not be validated"
    // otherwise.
    EXPECT_EQ(ours.find("ailed"), std::string::npos) << ours.substr(0, 600);
    EXPECT_EQ(ours.find("validated"), std::string::npos) << ours.substr(0, 600);
    auto records = zoneRecords(ours);
    EXPECT_EQ(records.size(), static_cast<size_t>(names + 4));
    EXPECT_EQ(records, zoneRecords(dig(nsd.port(), "+time=5 " + y + "big.example AXFR")));
    int recs = 0, msgs = 0;
    size_t at = ours.find(";; XFR size: ");
    ASSERT_NE(at, std::string::npos) << ours.substr(0, 600);
    sscanf(ours.c_str() + at, ";; XFR size: %d records (messages %d", &recs, &msgs);
    EXPECT_GE(msgs, 5);
    // IXFR from an older serial: the whole zone, signed the same way.
    std::string ixfr = dig(port, "+time=5 " + y + "big.example IXFR=3");
    EXPECT_EQ(ixfr.find("ailed"), std::string::npos) << ixfr.substr(0, 600);
    EXPECT_EQ(zoneRecords(ixfr).size(), static_cast<size_t>(names + 4));
    // Ordinary signed query: signed answer.
    std::string soa = dig(port, y + "big.example SOA");
    EXPECT_NE(soa.find("status: NOERROR"), std::string::npos) << soa;
    EXPECT_NE(soa.find("TSIG"), std::string::npos) << soa;
    EXPECT_EQ(soa.find("WARNING -- Some TSIG"), std::string::npos) << soa;
  }
  // A wrong secret (BADSIG) and a key nobody has (BADKEY): NOTAUTH with the TSIG error, no MAC,
  // the same TSIG line as NSD's; unsigned: REFUSED. dig reports each as a failed transfer.
  for (const std::string& bad : {std::string("-y hmac-sha256:xfr-key:QUJDREVGR0hJSktMTU5PUA== "),
                                 std::string("-y hmac-sha256:nokey:") + kSecret + " "}) {
    std::string ours = dig(port, "+time=3 " + bad + "big.example AXFR");
    std::string theirs = dig(nsd.port(), "+time=3 " + bad + "big.example AXFR");
    EXPECT_NE(ours.find("Transfer failed"), std::string::npos) << ours;
    EXPECT_EQ(tsigLine(ours), tsigLine(theirs)) << ours << theirs;
    EXPECT_NE(tsigLine(ours), "");
    std::string q = dig(port, bad + "+norec big.example SOA");
    std::string nq = dig(nsd.port(), bad + "+norec big.example SOA");
    EXPECT_NE(q.find("status: NOTAUTH"), std::string::npos) << q;
    EXPECT_NE(q.find("QUERY: 0, ANSWER: 0"), std::string::npos) << q;
    EXPECT_NE(nq.find("QUERY: 0, ANSWER: 0"), std::string::npos) << nq;
  }
  EXPECT_NE(
      tsigLine(dig(port, "-y hmac-sha256:nokey:" + kSecret + " big.example SOA")).find("BADKEY"),
      std::string::npos);
  EXPECT_NE(dig(port, "+time=3 big.example AXFR").find("Transfer failed"), std::string::npos);
  // A query signed 1000 s ago (outside the 300 s fudge): BADTIME with the server's clock in
  // other data and no MAC, as from NSD (RFC 8945 would sign it; NSD 4.6 does not).
  {
    using namespace manifold::dns;
    TsigKey key;
    std::string why;
    ASSERT_TRUE(parseTsigKey("xfr-key hmac-sha256 " + kSecret, key, why)) << why;
    const uint64_t now = static_cast<uint64_t>(time(nullptr));
    uint8_t q[512];
    PacketWriter w(q, sizeof q);
    w.start(0x4242, 0);
    std::string origin("\3big\7example\0", 13);
    w.question(reinterpret_cast<const uint8_t*>(origin.data()), origin.size(), kTypeSoa, kClassIn);
    std::string mac;
    size_t n = signTsig(q, w.size(), sizeof q, key, {}, now - 1000, false, &mac);
    ASSERT_GT(n, 0u);
    for (int server : {port, nsd.port()}) {
      std::string reply = udpExchange(server, std::string(reinterpret_cast<char*>(q), n));
      ASSERT_GT(reply.size(), 12u) << server;
      EXPECT_EQ(rcodeOf(reply), 9) << server;  // NOTAUTH
      TsigRecord rec;
      const auto* r = reinterpret_cast<const uint8_t*>(reply.data());
      ASSERT_EQ(findTsig(r, reply.size(), rec), TsigFind::Found) << server;
      EXPECT_EQ(rec.error, kTsigBadTime) << server;
      EXPECT_EQ(rec.otherLength, 6) << server;
      EXPECT_EQ(rec.macSize, 0) << server;
      EXPECT_EQ(rec.timeSigned, now - 1000) << server;
      uint64_t theirs = static_cast<uint64_t>(get16(rec.other)) << 32 | get32(rec.other + 2);
      EXPECT_LE(theirs > now ? theirs - now : now - theirs, 5u) << server;
    }
  }
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  size_t at = stats.find("tsig_failures ");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_EQ(atol(stats.c_str() + stats.find_first_of("0123456789", at)), 6) << stats;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsTsigTransfer, NsdSecondaryWithKeyFollowsSignedNotify) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  int port = freeDnsPort();
  std::string dir = makeTempDir();
  // NSD takes transfers and NOTIFY only signed with xfr-key (an unsigned NOTIFY would be answered
  // NOTAUTH, and our log would say so instead of "acknowledged"). NSD sometimes drops a NOTIFY
  // that arrives right after its first transfer, so a 5 s refresh backs it up, and a transfer that
  // fails on a loaded machine is retried after 5 s, not the usual day (retry = refresh).
  Nsd nsd(dir + "/nsd", "big.example", dir + "/nsd/secondary.zone",
          "  request-xfr: 127.0.0.1@" + std::to_string(port) + " xfr-key\n  allow-notify: " +
              "127.0.0.1 xfr-key\n" + nsdKey("xfr-key", "hmac-sha256"));
  Instance m("[dns:main]\nlisten = 127.0.0.1:" + std::to_string(port) +
             "\nzones = big.example={dir}/big.zone\nkey = xfr-key hmac-sha256 " + kSecret +
             "\nallow_transfer = 127.0.0.1 key=xfr-key\nnotify = 127.0.0.1:" +
             std::to_string(nsd.port()) + " key=xfr-key\n");
  writeFile(m.path("big.zone"), bigZone(1, 2000, 5));
  ASSERT_TRUE(m.start()) << m.log();
  ASSERT_TRUE(nsd.start(15000)) << nsd.output() << m.log();
  auto nsdShort = [&](const std::string& q) { return digShort(nsd.port(), "+time=1 " + q); };
  EXPECT_EQ(nsdShort("h1999.big.example TXT"), "\"record number 1999\"\n");
  // NSD serves serial 1 before its transfer daemon has settled: a NOTIFY in that moment is
  // acknowledged and then neither acted on nor followed by the refresh timer (seen once in CI).
  sleep(2);
  writeFile(m.path("big.zone"), bigZone(2, 2000, 5) + "new A 192.0.2.77\n");
  m.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return nsdShort("new.big.example A") == "192.0.2.77\n"; }, 30000))
      << m.log() << nsd.output();
  EXPECT_TRUE(m.waitForLog(
      "NOTIFY big.example. serial 2 to 127.0.0.1:" + std::to_string(nsd.port()) + " acknowledged"))
      << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
  run("rm -rf " + dir);
}
