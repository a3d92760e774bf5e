// Tier: whole daemon — DNS over UDP and TCP keeps answering through SIGHUP reloads: dnsperf (a
// real client) loses no query while the configuration is reloaded three times under it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "t/integration/dns_test_util.hpp"
#include "t/integration/harness.hpp"

using namespace manifold::testing;

namespace {

std::string section(int port) {
  return "[dns:main]\nlisten = 127.0.0.1:" + std::to_string(port) + "\nzones = example.com=" +
         std::string(getcwd(nullptr, 0)) + "/etc/zones/example.com.zone\n";
}

}  // namespace

TEST(DnsReload, HupUnderLoadLosesNoQuery) {
  const int port = freeDnsPort();
  Instance m(section(port), "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  writeFile(m.path("queries"), "www.example.com A\nexample.com MX\nnx.example.com A\n");
  for (const char* mode : {"udp", "tcp"}) {
    const std::string out = m.path(std::string("dnsperf-") + mode);
    // A steady 3,000 queries/s (not a flood: a lost query here can only be the reload's).
    Background perf("dnsperf -s 127.0.0.1 -p " + std::to_string(port) + " -d " +
                        m.path("queries") + " -l 5 -Q 3000 -c 4 -t 2 -m " + mode,
                    out);
    reloadRepeatedly(m, 3);
    const int status = perf.wait(20000);
    ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    const std::string report = readFile(out);
    std::smatch sent, lost;
    ASSERT_TRUE(std::regex_search(report, sent, std::regex(R"(Queries sent:\s+(\d+))"))) << report;
    ASSERT_TRUE(std::regex_search(report, lost, std::regex(R"(Queries lost:\s+(\d+))"))) << report;
    EXPECT_GT(std::stoll(sent[1]), 10000) << report;
    EXPECT_EQ(lost[1], "0") << mode << "\n" << report << m.log();
  }
  EXPECT_TRUE(m.waitForLog("generation 7 ready", 5000)) << m.log();
  EXPECT_EQ(m.log().find("[error]"), std::string::npos) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}
