// Tier: end-to-end with real clients — zone transfers out and NOTIFY (protocols/dns/transfer.*,
// notify.*): `dig AXFR` against the real binary compared RR for RR with NSD serving the same file,
// the allow_transfer ACL (default none), NSD's rcodes over UDP, a generated zone of thousands of
// records over many messages, and NSD as a real secondary that follows our NOTIFY after a reload.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

std::string repoZone() { return std::string(getcwd(nullptr, 0)) + "/etc/zones/example.com.zone"; }

// Transfers get more time than a query.
std::string digAxfr(int port, const std::string& args) { return dig(port, "+time=3 " + args); }

// A TCP query (length-prefixed) and the first reply message, without its length.
std::string tcpQuery(int port, const std::string& msg) {
  std::string framed{static_cast<char>(msg.size() >> 8), static_cast<char>(msg.size())};
  std::string r = rawExchange(port, framed + msg, 2000);
  return r.size() > 2 ? r.substr(2) : "";
}

const std::string kOrigin(
    "\x07"
    "example\x03"
    "com\x00",
    13);
const std::string kAxfrIn("\x00\xfc\x00\x01", 4);

}  // namespace

TEST(DnsTransfer, AxfrMatchesNsdAndOnlyAllowedClientsGetIt) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  // [dns:closed] has no allow_transfer: the default refuses everybody.
  Instance m("[dns:open]\nlisten = 127.0.0.1:{port:open}\nzones = example.com=" + repoZone() +
             "\nallow_transfer = 127.0.0.1 ::1\n[dns:closed]\nlisten = 127.0.0.1:{port:closed}"
             "\nzones = example.com=" +
             repoZone() + "\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int open = m.port("open"), closed = m.port("closed");
  Nsd nsd(m.dir() + "/nsd", "example.com", repoZone(), "  provide-xfr: 127.0.0.1 NOKEY\n");
  ASSERT_TRUE(nsd.start()) << nsd.output();

  auto ours = sortedRecords(digAxfr(open, "example.com AXFR"));
  auto theirs = sortedRecords(digAxfr(nsd.port(), "example.com AXFR"));
  ASSERT_GT(theirs.size(), 20u);
  EXPECT_EQ(ours, theirs);
  // Glue below the cut and the delegation are in it; the SOA opens and closes the transfer. Names
  // are compressed against the question, so they come back in the client's case (as from NSD).
  auto raw = digAxfr(open, "ExAmPlE.CoM AXFR");
  EXPECT_NE(raw.find("ns.sub.ExAmPlE.CoM.\t3600\tIN\tA\t192.0.2.200"), std::string::npos) << raw;
  EXPECT_EQ(sortedRecords(raw), sortedRecords(digAxfr(nsd.port(), "ExAmPlE.CoM AXFR")));
  std::vector<std::string> inOrder;
  std::istringstream lines(raw);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != ';') inOrder.push_back(line);
  ASSERT_GT(inOrder.size(), 2u);
  EXPECT_NE(inOrder.front().find("\tSOA\t"), std::string::npos) << raw;
  EXPECT_EQ(inOrder.front(), inOrder.back());

  // Refused over TCP by the ACL (and dig says the transfer failed); NOTAUTH off the apex, as NSD.
  EXPECT_NE(digAxfr(closed, "example.com AXFR").find("Transfer failed"), std::string::npos);
  EXPECT_EQ(rcodeOf(tcpQuery(closed, header(9, 0, 1, 0, 0, 0) + kOrigin + kAxfrIn)), 5);
  std::string www = std::string("\x03www", 4) + kOrigin;
  EXPECT_EQ(rcodeOf(tcpQuery(open, header(10, 0, 1, 0, 0, 0) + www + kAxfrIn)), 9);
  EXPECT_EQ(rcodeOf(tcpQuery(nsd.port(), header(10, 0, 1, 0, 0, 0) + www + kAxfrIn)), 9);
  // AXFR over UDP: NOTIMP, like NSD.
  EXPECT_EQ(rcodeOf(udpExchange(open, header(11, 0, 1, 0, 0, 0) + kOrigin + kAxfrIn)), 4);
  EXPECT_EQ(rcodeOf(udpExchange(nsd.port(), header(11, 0, 1, 0, 0, 0) + kOrigin + kAxfrIn)), 4);
  // IXFR from a current client over UDP: the SOA alone, as NSD; from an older one over TCP: the
  // whole zone (AXFR-style).
  EXPECT_EQ(digAxfr(open, "+short +notcp example.com IXFR=2024010101"),
            digAxfr(nsd.port(), "+short +notcp example.com IXFR=2024010101"));
  EXPECT_EQ(sortedRecords(digAxfr(open, "example.com IXFR=2024010100")), theirs);
  // A NOTIFY to us (never a secondary) is REFUSED, as NSD answers a primary's zone.
  std::string notify =
      header(12, 4 << 11 | 0x0400, 1, 0, 0, 0) + kOrigin + std::string("\x00\x06\x00\x01", 4);
  EXPECT_EQ(rcodeOf(udpExchange(open, notify)), 5);
  EXPECT_EQ(rcodeOf(udpExchange(nsd.port(), notify)), 5);

  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_NE(stats.find("xfr_served"), std::string::npos) << stats;
  auto count = [&](const std::string& section, const std::string& name) {
    size_t at = stats.find(section);
    at = stats.find(name, at);
    return at == std::string::npos
               ? -1
               : atol(stats.c_str() + stats.find_first_of("0123456789", at + name.size()));
  };
  EXPECT_EQ(count("dns:open", "xfr_served "), 3) << stats;  // two AXFR, one IXFR
  EXPECT_EQ(count("dns:closed", "xfr_refused "), 2) << stats;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsTransfer, ThousandsOfRecordsOverManyMessages) {
  Instance m(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = "
      "big.example={dir}/big.zone\nallow_transfer = 127.0.0.0/8\n");
  std::string zone =
      "$ORIGIN big.example.\n$TTL 300\n@ SOA ns hm 7 86400 3600 604800 60\n@ NS ns\nns A "
      "192.0.2.1\n";
  const int n = 6000;
  for (int i = 0; i < n; ++i)
    zone += "h" + std::to_string(i) + " A 10." + std::to_string(i >> 16) + "." +
            std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) + "\nh" +
            std::to_string(i) + " TXT \"record " + std::to_string(i) + "\"\n";
  writeFile(m.path("big.zone"), zone);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  auto out = digAxfr(port, "big.example AXFR");
  auto rrs = sortedRecords(out);
  EXPECT_EQ(rrs.size(), static_cast<size_t>(2 * n + 2 + 2))
      << out.substr(out.size() > 400 ? out.size() - 400 : 0);
  size_t at = out.find(";; XFR size: ");
  ASSERT_NE(at, std::string::npos) << out.substr(0, 400);
  int recs = 0, msgs = 0;
  sscanf(out.c_str() + at, ";; XFR size: %d records (messages %d", &recs, &msgs);
  EXPECT_EQ(recs, 2 * n + 4);
  EXPECT_GE(msgs, 8);  // about 16 KB each
  EXPECT_NE(std::find(rrs.begin(), rrs.end(), "h5999.big.example.\t300\tIN\tTXT\t\"record 5999\""),
            rrs.end());
  // Several transfers at once over separate connections, all complete.
  std::string many = run("for i in 1 2 3 4; do " + digCommand(port, "+time=5 big.example AXFR") +
                         " | grep -c 'IN' & done; wait");
  std::string each = std::to_string(2 * n + 4) + "\n";
  EXPECT_EQ(many, each + each + each + each);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsTransfer, NsdSecondaryFollowsOurNotify) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  // NSD's config names our port and ours names NSD's, both before either starts: freeDnsPort().
  int port = freeDnsPort();
  std::string dir = makeTempDir();
  // A refresh of a day: only our NOTIFY can make NSD fetch the new serial within the test.
  auto zone = [](int serial, const std::string& extra) {
    return "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hm " + std::to_string(serial) +
           " 86400 86400 604800 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n" + extra;
  };
  Nsd nsd(dir + "/nsd", "example.com", dir + "/nsd/secondary.zone",
          "  request-xfr: 127.0.0.1@" + std::to_string(port) +
              " NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n");
  Instance m("[dns:main]\nlisten = 127.0.0.1:" + std::to_string(port) +
             "\nzones = example.com={dir}/example.com.zone\nallow_transfer = 127.0.0.1\nnotify = "
             "127.0.0.1:" +
             std::to_string(nsd.port()) + "\n");
  writeFile(m.path("example.com.zone"), zone(1, ""));
  ASSERT_TRUE(m.start()) << m.log();
  ASSERT_TRUE(nsd.start(10000)) << nsd.output() << m.log();
  auto nsdShort = [&](const std::string& q) { return digShort(nsd.port(), "+time=1 " + q); };
  EXPECT_EQ(nsdShort("www.example.com A"), "192.0.2.80\n");

  writeFile(m.path("example.com.zone"), zone(2, "new A 192.0.2.77\n"));
  m.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return nsdShort("new.example.com A") == "192.0.2.77\n"; }, 8000))
      << m.log() << nsd.output();
  EXPECT_NE(nsdShort("example.com SOA").find(" 2 86400"), std::string::npos);
  EXPECT_TRUE(m.waitForLog(
      "NOTIFY example.com. serial 2 to 127.0.0.1:" + std::to_string(nsd.port()) + " acknowledged"))
      << m.log();
  // A reload with the same serial notifies nobody again (the announced serial is kept in shm).
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(3)) << m.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string log = m.log();
  size_t notifies = 0;
  for (size_t at = log.find("NOTIFY example.com. serial 2"); at != std::string::npos;
       at = log.find("NOTIFY example.com. serial 2", at + 1))
    ++notifies;
  EXPECT_EQ(notifies, 1u) << log;
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_NE(stats.find("notify_acked"), std::string::npos) << stats;
  EXPECT_EQ(m.stop(), 0) << m.log();
  run("rm -rf " + dir);
}
