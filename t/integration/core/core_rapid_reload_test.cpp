// Tier: reload/chaos — HUPs sent faster than generations become ready end on the newest config,
// with no request lost and no generation left behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

TEST(CoreRapidReload, BackToBackHupsEndOnTheNewestConfig) {
  auto site = [&](const std::string& index) {
    return "[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}/www\nindex = " + index + "\n";
  };
  Instance m(site("one.html"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/one.html"), "one\n");
  writeFile(m.path("www/two.html"), "two\n");
  writeFile(m.path("www/three.html"), "three\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  ASSERT_EQ(curl(port, "/").body, "one\n");

  m.rewriteConfig(site("two.html"));
  m.signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  m.rewriteConfig(site("three.html"));
  m.signal(SIGHUP);
  // The newest config wins. (If the kernel merged the two signals there is one reload, which
  // reads the newest file too.) With the old logic the first new generation retired the
  // second, and "two" was served for good.
  bool newest = false;
  for (int i = 0; i < 100 && !newest; ++i) {
    newest = curl(port, "/").body == "three\n";
    if (!newest) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(newest) << m.log();
  // Every older generation drains and exits: only the newest workers remain.
  bool settled = false;
  for (int i = 0; i < 100 && !settled; ++i) {
    settled = m.workerPids().size() == 2;
    if (!settled) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(settled) << m.log();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(curl(port, "/").body, "three\n");
  EXPECT_EQ(m.stop(), 0) << m.log();
}
