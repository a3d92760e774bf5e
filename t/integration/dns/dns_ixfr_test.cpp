// Tier: end-to-end with real clients — IXFR out from the journal (protocols/dns/journal.*):
// after reloads with one-record changes, `dig IXFR=N` gets exactly the journal's steps (checked
// record by record, in order, and against NSD keeping IXFR for the same zone files), over TCP
// and over UDP when it fits one datagram; a serial older than the journal's bounds
// (ixfr_steps) gets the whole zone; NSD as our secondary follows by IXFR.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

std::string zone(int serial, const std::string& www, const std::string& extra) {
  std::string z = "$ORIGIN example.net.\n$TTL 300\n@ SOA ns1 hm " + std::to_string(serial) +
                  " 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A " + www + "\n" + extra;
  for (int i = 0; i < 1500; ++i)
    z += "h" + std::to_string(i) + " TXT \"host " + std::to_string(i) + "\"\n";
  return z;
}

// The RRs of a dig transfer in the order received (comments and blank lines dropped).
std::vector<std::string> inOrder(const std::string& out) {
  std::vector<std::string> rrs;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != ';') rrs.push_back(line);
  return rrs;
}

std::string soaLine(int serial) {
  return "example.net.\t\t300\tIN\tSOA\tns1.example.net. hm.example.net. " +
         std::to_string(serial) + " 3600 600 86400 60";
}

}  // namespace

TEST(DnsIxfr, JournalStepsAnsweredIncrementallyAsNsd) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  Instance m(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = example.net={dir}/z.zone\n"
      "allow_transfer = 127.0.0.1\nixfr_steps = 2\n" +
      statusSection());
  writeFile(m.path("z.zone"), zone(1, "192.0.2.80", ""));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  std::string nsdDir = m.dir() + "/nsd";
  run("mkdir -p " + nsdDir);
  writeFile(nsdDir + "/z.zone", zone(1, "192.0.2.80", ""));
  Nsd nsd(nsdDir, "example.net", nsdDir + "/z.zone",
          "  provide-xfr: 127.0.0.1 NOKEY\n  store-ixfr: yes\n  create-ixfr: yes\n");
  ASSERT_TRUE(nsd.start()) << nsd.output();
  // Three versions after the first: a changed address, an added name, a deleted one.
  const std::string v[] = {zone(2, "192.0.2.81", ""), zone(3, "192.0.2.81", "new A 192.0.2.7\n"),
                           zone(4, "192.0.2.81", "new A 192.0.2.7\n")};
  std::string v4 = v[2];
  v4.erase(v4.find("h7 TXT \"host 7\"\n"), 16);
  for (int i = 0; i < 3; ++i) {
    std::string text = i == 2 ? v4 : v[i];
    writeFile(m.path("z.zone"), text);
    m.signal(SIGHUP);
    ASSERT_TRUE(m.waitForGeneration(static_cast<uint64_t>(i + 2))) << m.log();
    // The next reload needs the previous generation gone (its stats slots).
    ASSERT_TRUE(m.waitForLog("generation " + std::to_string(i + 1) + " finished", 10000))
        << m.log();
    writeFile(nsdDir + "/z.zone", text);
    run("kill -HUP $(cat " + nsdDir + "/nsd.pid)");
    ASSERT_TRUE(eventually(
        [&] {
          return digShort(nsd.port(), "example.net SOA").find(" " + std::to_string(i + 2) + " ") !=
                 std::string::npos;
        },
        5000))
        << nsd.output();
  }
  // From 3: one step, 3 -> 4 deleting h7.
  auto step = inOrder(dig(port, "+time=3 example.net IXFR=3"));
  std::vector<std::string> want = {soaLine(4), soaLine(3),
                                   "h7.example.net.\t\t300\tIN\tTXT\t\"host 7\"", soaLine(4),
                                   soaLine(4)};
  EXPECT_EQ(step, want);
  EXPECT_EQ(sortedRecords(dig(port, "+time=3 example.net IXFR=3")),
            sortedRecords(dig(nsd.port(), "+time=3 example.net IXFR=3")));
  // From 2: two steps (2 -> 3 adds new, 3 -> 4), the same over UDP (it fits one datagram).
  auto two = inOrder(dig(port, "+time=3 example.net IXFR=2"));
  std::vector<std::string> want2 = {soaLine(4), soaLine(2),
                                    soaLine(3), "new.example.net.\t300\tIN\tA\t192.0.2.7",
                                    soaLine(3), "h7.example.net.\t\t300\tIN\tTXT\t\"host 7\"",
                                    soaLine(4), soaLine(4)};
  EXPECT_EQ(two, want2);
  EXPECT_EQ(inOrder(dig(port, "+time=3 +notcp example.net IXFR=2")), want2);
  EXPECT_EQ(sortedRecords(dig(port, "+time=3 example.net IXFR=2")),
            sortedRecords(dig(nsd.port(), "+time=3 example.net IXFR=2")));
  // From 1: beyond ixfr_steps = 2, the whole zone (AXFR-style).
  auto full = sortedRecords(dig(port, "+time=3 example.net IXFR=1"));
  EXPECT_EQ(full.size(), 1500u + 5 + 1 - 1) << full.size();
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  size_t at = stats.find("ixfr_served ");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_EQ(atol(stats.c_str() + stats.find_first_of("0123456789", at)), 5) << stats;
  // Per-zone counters: the serial, the journal's size (three steps kept, two of them within
  // ixfr_steps), the transfers out (5 incremental + 1 whole).
  auto value = [&](const std::string& name) {
    size_t p = stats.find(name);
    return p == std::string::npos
               ? -1
               : atol(stats.c_str() + stats.find_first_of("0123456789", p + name.size()));
  };
  EXPECT_EQ(value("z_example_net_serial (gauge)"), 4) << stats;
  EXPECT_GT(value("z_example_net_journal_bytes (gauge)"), 20) << stats;
  EXPECT_EQ(value("z_example_net_xfr_out "), 6) << stats;
  // The time of the last transfer out (any worker) reaches the metrics endpoint within a second.
  const long long before = static_cast<long long>(time(nullptr));
  ASSERT_FALSE(dig(port, "+time=3 example.net AXFR").empty());
  std::string metrics;
  auto gauge = [&](const std::string& name) {
    metrics =
        one(m.port("status"), "GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n").body;
    std::string key = "manifold_dns_" + name + "{service=\"dns:main\"} ";
    size_t p = metrics.find(key);
    return p == std::string::npos ? -1LL : atoll(metrics.c_str() + p + key.size());
  };
  EXPECT_TRUE(eventually([&] { return gauge("z_example_net_xfr_out_time") >= before; }, 5000))
      << metrics;
  EXPECT_LE(gauge("z_example_net_xfr_out_time"), static_cast<long long>(time(nullptr)));
  // Not a secondary zone: no transfer in.
  EXPECT_EQ(gauge("z_example_net_xfr_in_time"), 0) << metrics;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
