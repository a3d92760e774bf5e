// Tier: end-to-end with real servers — secondary zones (protocols/dns/secondary*, xfr_in.*,
// service_secondary.cpp): Manifold as a TSIG-signed secondary of Manifold that follows NOTIFY
// (the refresh is an hour), refuses an unsigned NOTIFY, keeps serving while the primary is down,
// keeps its copy across a restart, stops serving (SERVFAIL) at SOA expire and comes back with
// the primary; and Manifold as a secondary of NSD, taking NSD's IXFR after a one-record change.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

const std::string kSecret = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OS0wMTIzNDU2Nzg5";

// refresh an hour (only NOTIFY makes the secondary fetch), retry 1 s, expire 12 s (room for
// the stops and restarts before the expiry part on a busy machine).
std::string zone(int serial, const std::string& extra) {
  return "$ORIGIN example.net.\n$TTL 300\n@ SOA ns1 hm " + std::to_string(serial) +
         " 3600 1 12 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\nmail MX 10 www\n" + extra;
}

std::string status(int port, const std::string& q) {
  std::string out = dig(port, "+time=1 +tries=1 " + q);
  size_t at = out.find("status: ");
  return at == std::string::npos ? "" : out.substr(at + 8, out.find(',', at) - at - 8);
}

}  // namespace

TEST(DnsSecondary, OfManifoldWithTsigNotifyOutageRestartExpire) {
  const int pport = freeDnsPort(), sport = freeDnsPort();
  std::string dir = makeTempDir();
  run("mkdir -p " + dir + "/copies");
  writeFile(dir + "/p.zone", zone(1, ""));
  const std::string primaryConfig =
      "[dns:p]\nlisten = 127.0.0.1:" + std::to_string(pport) + "\nzones = example.net=" + dir +
      "/p.zone\nkey = xfr-key hmac-sha256 " + kSecret +
      "\nallow_transfer = 127.0.0.1 key=xfr-key\nnotify = 127.0.0.1:" + std::to_string(sport) +
      " key=xfr-key\n";
  const std::string secondaryConfig =
      "[dns:s]\nlisten = 127.0.0.1:" + std::to_string(sport) + "\nkey = xfr-key hmac-sha256 " +
      kSecret + "\nsecondary = example.net 127.0.0.1:" + std::to_string(pport) +
      " key=xfr-key\nsecondary_dir = " + dir + "/copies\n";
  auto p = std::make_unique<Instance>(primaryConfig);
  ASSERT_TRUE(p->start()) << p->log();
  auto s = std::make_unique<Instance>(secondaryConfig);
  ASSERT_TRUE(s->start()) << s->log();
  EXPECT_TRUE(
      eventually([&] { return digShort(sport, "www.example.net A") == "192.0.2.80\n"; }, 8000))
      << s->log() << p->log();
  EXPECT_TRUE(s->waitForLog("secondary example.net: serial 1 transferred in from 127.0.0.1:" +
                            std::to_string(pport) + " (AXFR"))
      << s->log();
  // The copy is answered like a zone of our own, AA set, additional data and all.
  EXPECT_EQ(normalizedDig(sport, "mail.example.net MX"),
            normalizedDig(pport, "mail.example.net MX"));

  // A change on the primary reaches the secondary through the signed NOTIFY.
  writeFile(dir + "/p.zone", zone(2, "new TXT \"hello\"\n"));
  p->signal(SIGHUP);
  EXPECT_TRUE(
      eventually([&] { return digShort(sport, "new.example.net TXT") == "\"hello\"\n"; }, 8000))
      << s->log() << p->log();
  EXPECT_TRUE(p->waitForLog("NOTIFY example.net. serial 2 to 127.0.0.1:" + std::to_string(sport) +
                            " acknowledged"))
      << p->log();
  // An unsigned NOTIFY (the zone wants the key) is refused.
  std::string origin("\7example\3net\0", 13);
  std::string notify =
      header(7, 4 << 11 | 0x0400, 1, 0, 0, 0) + origin + std::string("\x00\x06\x00\x01", 4);
  EXPECT_EQ(rcodeOf(udpExchange(sport, notify)), 5);

  // Primary down: the secondary keeps answering; a restart of the secondary serves the copy from
  // disk at once.
  EXPECT_EQ(p->stop(), 0) << p->log();
  p.reset();
  EXPECT_EQ(digShort(sport, "www.example.net A"), "192.0.2.80\n");
  EXPECT_EQ(s->stop(), 0) << s->log();
  s = std::make_unique<Instance>(secondaryConfig);
  ASSERT_TRUE(s->start()) << s->log();
  EXPECT_EQ(digShort(sport, "new.example.net TXT"), "\"hello\"\n") << s->log();
  // No answer from the primary for SOA expire (12 s): SERVFAIL, as NSD.
  EXPECT_EQ(status(sport, "www.example.net A"), "NOERROR");
  EXPECT_TRUE(eventually([&] { return status(sport, "www.example.net A") == "SERVFAIL"; }, 20000))
      << s->log();
  EXPECT_TRUE(s->waitForLog("secondary example.net: expired")) << s->log();
  // The primary back: retried every second (SOA retry), served again.
  p = std::make_unique<Instance>(primaryConfig);
  ASSERT_TRUE(p->start()) << p->log();
  EXPECT_TRUE(eventually([&] { return status(sport, "www.example.net A") == "NOERROR"; }, 10000))
      << s->log();
  auto stats = run(binPath("manifold-shm") + " -n " + s->shmName() + " stats");
  EXPECT_NE(stats.find("xfr_in "), std::string::npos) << stats;
  // Per-zone gauges: the serial served and when it was transferred in.
  size_t at = stats.find("z_example_net_serial (gauge)");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_EQ(atol(stats.c_str() + stats.find_first_of("0123456789", at + 25)), 2) << stats;
  at = stats.find("z_example_net_xfr_in_time (gauge)");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_GT(atol(stats.c_str() + stats.find_first_of("0123456789", at + 25)), 1700000000) << stats;
  EXPECT_EQ(s->stop(), 0) << s->log();
  EXPECT_EQ(p->stop(), 0) << p->log();
  run("rm -rf " + dir);
}

TEST(DnsSecondary, OfNsdFollowsNotifyWithIxfr) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  const int sport = freeDnsPort();
  std::string dir = makeTempDir();
  run("mkdir -p " + dir + "/copies " + dir + "/nsd");
  std::string big;
  for (int i = 0; i < 500; ++i)
    big += "h" + std::to_string(i) + " A 10.0.1." + std::to_string(i % 250) + "\n";
  writeFile(dir + "/nsd/p.zone", zone(1, big));
  // NSD keeps the differences between versions of the zone file (create-ixfr) and serves them.
  Nsd nsd(dir + "/nsd", "example.net", dir + "/nsd/p.zone",
          "  provide-xfr: 127.0.0.1 NOKEY\n  notify: 127.0.0.1@" + std::to_string(sport) +
              " NOKEY\n  store-ixfr: yes\n  create-ixfr: yes\n");
  ASSERT_TRUE(nsd.start()) << nsd.output();
  Instance s("[dns:s]\nlisten = 127.0.0.1:" + std::to_string(sport) +
             "\nsecondary = example.net 127.0.0.1:" + std::to_string(nsd.port()) +
             "\nsecondary_dir = " + dir + "/copies\n");
  ASSERT_TRUE(s.start()) << s.log();
  EXPECT_TRUE(
      eventually([&] { return digShort(sport, "h499.example.net A") == "10.0.1.249\n"; }, 8000))
      << s.log();
  writeFile(dir + "/nsd/p.zone", zone(2, big + "added A 192.0.2.99\n"));
  run("kill -HUP $(cat " + dir + "/nsd/nsd.pid)");
  EXPECT_TRUE(
      eventually([&] { return digShort(sport, "added.example.net A") == "192.0.2.99\n"; }, 10000))
      << s.log() << nsd.output();
  EXPECT_TRUE(s.waitForLog("serial 2 transferred in from 127.0.0.1:" + std::to_string(nsd.port()) +
                           " (IXFR"))
      << s.log();
  EXPECT_EQ(digShort(sport, "h0.example.net A"), "10.0.1.0\n");
  EXPECT_EQ(s.stop(), 0) << s.log();
  run("rm -rf " + dir);
}
