// The WAN emulator (tools/wan-emu) in its test bed (tools/wan-emu/tunnel-bed): three network
// namespaces made and removed here, iperf3 between the outer two. Checks that the emulator
// really adds the delay, the rate limit and the loss it is given, since the tunnel's benchmark
// and lossy-link tests stand on it.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/tunnel/bed.hpp"

using namespace manifold::testing;

namespace {

// A number from iperf3's JSON report, by a Python path such as ['end']['sum']['lost_percent'].
double field(const std::string& json, const std::string& path) {
  std::string dir = makeTempDir();
  writeFile(dir + "/r.json", json);
  std::string v = run("python3 -c \"import json,sys; print(json.load(open(sys.argv[1]))" + path +
                      ")\" " + dir + "/r.json 2>/dev/null");
  run("rm -rf " + dir);
  return v.empty() ? -1 : std::stod(v);
}

// iperf3 from A to B's server (one test each: the server takes one client and leaves).
std::string iperf(const Bed& bed, const std::string& args) {
  std::string dir = makeTempDir();
  Background server(bed.exec("b", "iperf3 -s -1 --bind 10.201.0.2"), dir + "/server.log");
  std::string out;
  for (int attempt = 0; attempt < 50; ++attempt) {
    sleepMs(100);
    out = run(bed.exec("a", "iperf3 -J -c 10.201.0.2 " + args + " 2>&1"));
    if (out.find("\"error\"") == std::string::npos) break;  // server not listening yet
  }
  server.wait(5000);
  run("rm -rf " + dir);
  return out;
}

}  // namespace

TEST(WanEmu, AddsDelayRateLimitAndLoss) {
  Bed bed("we", "--delay 40");
  ASSERT_TRUE(bed.up());
  // Delay: a slow TCP stream's smallest RTT is the two one-way delays (80 ms) and a little.
  std::string r = iperf(bed, "-t 3 -b 2M");
  double minRtt = field(r, "['end']['streams'][0]['sender']['min_rtt']") / 1000;
  EXPECT_GE(minRtt, 79.0) << r.substr(0, 2000);
  EXPECT_LT(minRtt, 120.0);

  // Rate limit: TCP gets most of 10 Mbit/s and never more.
  bed.set("--delay 5 --rate 10");
  r = iperf(bed, "-t 5");
  double mbit = field(r, "['end']['sum_received']['bits_per_second']") / 1e6;
  EXPECT_GT(mbit, 6.5) << r.substr(0, 2000);
  EXPECT_LT(mbit, 10.2);

  // Loss: 10% of a UDP stream's datagrams go missing (seeded; 3.5 sigma bounds for ~900).
  bed.set("--loss 10 --seed 7");
  r = iperf(bed, "-u -b 3M -t 4");
  double lost = field(r, "['end']['sum']['lost_percent']");
  EXPECT_GT(lost, 6.0) << r.substr(0, 2000);
  EXPECT_LT(lost, 14.0);
}
