// Tier: end-to-end smoke — the binary starts, serves a file, and stops cleanly.
#include <gtest/gtest.h>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

TEST(Smoke, ServesAFileAndStopsCleanly) {
  int port = freePort();
  Instance m("[http:www]\nlisten = 127.0.0.1:" + std::to_string(port) + "\nroot = {dir}/www\n");
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/hello.txt"), "hello\n");
  ASSERT_TRUE(m.start()) << m.log();
  auto response = curl(port, "/hello.txt");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello\n");
  EXPECT_EQ(m.workerPids().size(), 2u);
  EXPECT_EQ(m.stop(), 0) << m.log();
  EXPECT_FALSE(fileExists("/dev/shm/manifold." + m.shmName()));
}
