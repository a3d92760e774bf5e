// Tier: reload/chaos — HUPs sent faster than generations become ready end on the newest config,
// with no request lost and no generation left behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "t/integration/harness.hpp"

using namespace manifold::testing;

TEST(CoreRapidReload, BackToBackHupsEndOnTheNewestConfig) {
  int port = freePort();
  auto site = [&](const std::string& index) {
    return "[http:www]\nlisten = 127.0.0.1:" + std::to_string(port) + "\nroot = {dir}/www\nindex = " +
           index + "\n";
  };
  Instance m(site("one.html"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/one.html"), "one\n");
  writeFile(m.path("www/two.html"), "two\n");
  writeFile(m.path("www/three.html"), "three\n");
  ASSERT_TRUE(m.start()) << m.log();
  ASSERT_EQ(curl(port, "/").body, "one\n");

  m.rewriteConfig(site("two.html"));
  m.signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  m.rewriteConfig(site("three.html"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForLog("generation 3 ready", 10000)) << m.log();
  // Every generation but the newest drains and finishes.
  ASSERT_TRUE(m.waitForLog("generation 2 finished", 10000)) << m.log();
  ASSERT_TRUE(m.waitForLog("generation 1 finished", 10000)) << m.log();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(curl(port, "/").body, "three\n");
  EXPECT_EQ(m.workerPids().size(), 2u);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
