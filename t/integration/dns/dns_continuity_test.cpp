// Tier: whole daemon — DNS keeps answering through SIGHUP reloads and a killed worker, measured
// by dnsperf (a real client) running under them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

// Waits for dnsperf to exit cleanly and returns its report with "Queries sent" and "Queries
// lost" (-1 when absent, or when dnsperf did not exit with 0).
std::string dnsperfReport(Background& perf, const std::string& out, long long& sent,
                          long long& lost) {
  sent = lost = -1;
  const int status = perf.wait(20000);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "dnsperf did not exit cleanly: status " + std::to_string(status);
  const std::string report = readFile(out);
  std::smatch s, l;
  if (std::regex_search(report, s, std::regex(R"(Queries sent:\s+(\d+))"))) sent = std::stoll(s[1]);
  if (std::regex_search(report, l, std::regex(R"(Queries lost:\s+(\d+))"))) lost = std::stoll(l[1]);
  return report;
}

std::string section() {
  return "[dns:main]\nlisten = 127.0.0.1:{port:dns}"
         "\nzones = example.com=" +
         std::string(getcwd(nullptr, 0)) + "/etc/zones/example.com.zone\n";
}

}  // namespace

TEST(DnsContinuity, HupUnderLoadLosesNoQuery) {
  Instance m(section(), "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  writeFile(m.path("queries"), "www.example.com A\nexample.com MX\nnx.example.com A\n");
  for (const char* mode : {"udp", "tcp"}) {
    const std::string out = m.path(std::string("dnsperf-") + mode);
    // A steady 3,000 queries/s (not a flood: a lost query here can only be the reload's).
    Background perf("dnsperf -s 127.0.0.1 -p " + std::to_string(port) + " -d " + m.path("queries") +
                        " -l 5 -Q 3000 -c 4 -t 2 -m " + mode,
                    out);
    reloadRepeatedly(m, 3);
    long long sent, lost;
    const std::string report = dnsperfReport(perf, out, sent, lost);
    EXPECT_GT(sent, 10000) << report;
    EXPECT_EQ(lost, 0) << mode << "\n" << report << m.log();
  }
  EXPECT_TRUE(m.waitForGeneration(7)) << m.log();
  EXPECT_EQ(m.log().find("[error]"), std::string::npos) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// SIGKILL of a worker under load: its sockets belong to the master, so queries queued on them
// wait for the respawned worker; only what the dead worker had read and not yet answered (one
// batch at most) can be lost.
TEST(DnsContinuity, KilledWorkerLosesAtMostOneBatch) {
  Instance m(section(), "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  writeFile(m.path("queries"), "www.example.com A\nexample.com MX\n");
  const std::string out = m.path("dnsperf");
  Background perf("dnsperf -s 127.0.0.1 -p " + std::to_string(port) + " -d " + m.path("queries") +
                      " -l 4 -Q 3000 -c 8 -t 2",
                  out);
  sleepMs(1500);
  const std::vector<pid_t> before = m.workerPids();
  ASSERT_EQ(before.size(), 2u);
  ::kill(before[0], SIGKILL);
  long long sent, lost;
  const std::string report = dnsperfReport(perf, out, sent, lost);
  EXPECT_GT(sent, 9000) << report;
  EXPECT_LE(lost, 64) << report << m.log();
  EXPECT_TRUE(m.waitForLog("killed by signal 9", 3000)) << m.log();
  EXPECT_TRUE(m.waitForLog("started worker 0", 3000, 2)) << m.log();
  const std::vector<pid_t> after = m.workerPids();
  EXPECT_EQ(after.size(), 2u);
  EXPECT_NE(after, before);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
