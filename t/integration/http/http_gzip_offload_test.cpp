// Tier: integration — the gzip store builds off the worker's loop (worker/blocking_pool.hpp):
// while one client's first gzip request for a multi-MB file is being compressed, another
// client's small requests on the same (only) worker keep being answered at once (well under
// 250 ms each on a shared CI machine; the old in-loop build stalled them for the whole
// compression, over a second here); the first request then gets the stored gzip.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

TEST(HttpGzipOffload, SmallRequestsAreAnsweredWhileALargeFileIsCompressed) {
  int port = freePort();
  // One worker, so both clients share its loop; level 9 makes the build last long enough.
  Instance m(httpSection("www", port, "{dir}/www",
                         "gzip_store = {dir}/store\ngzip_level = 9\ngzip_store_max_file = 128M"),
             "", 1);
  run("mkdir -p " + m.path("www"));
  std::string big = textOf(48u << 20, "compress me");
  writeFile(m.path("www/big.txt"), big);
  writeFile(m.path("www/small.txt"), "small\n");
  ASSERT_TRUE(m.start()) << m.log();

  const std::string stored = m.path("store/big.txt.gz");
  const std::string small = "GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  Background first("curl -s -o " + m.path("big.out") + " -D " + m.path("big.head") +
                   " -H 'Accept-Encoding: gzip' http://127.0.0.1:" + str(port) + "/big.txt");
  // A temp file in the store: the build is under way.
  auto building = [&] {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(m.path("store"), ec))
      if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
    return false;
  };
  auto start = Clock::now();
  double slowest = 0;
  int duringBuild = 0;  // small requests begun and answered while the build ran
  while (!fileExists(stored) && msSince(start) < 20000) {
    bool before = building();
    auto t0 = Clock::now();
    std::string reply = rawExchange(port, small, 5000);
    double ms = msSince(t0);
    ASSERT_NE(reply.find("200 OK"), std::string::npos) << reply;
    slowest = std::max(slowest, ms);
    if (before && building()) ++duringBuild;
    sleepMs(5);
  }
  ASSERT_TRUE(fileExists(stored)) << "the store copy was not built";
  EXPECT_GE(duringBuild, 5) << "no small request was answered while the file was compressed";
  EXPECT_LT(slowest, 250) << "a small request waited for the compression (" << duringBuild
                          << " answered during the build)";

  // The first request waited for the build (without blocking anyone) and got the stored gzip.
  ASSERT_EQ(first.wait(20000), 0);
  EXPECT_NE(readFile(m.path("big.head")).find("Content-Encoding: gzip"), std::string::npos);
  std::string body = readFile(m.path("big.out"));
  EXPECT_TRUE(body == readFile(stored)) << "not sent from the store";
  EXPECT_TRUE(gunzip(body) == big);
  EXPECT_EQ(run("ls -A " + m.path("store")), "big.txt.gz\n");  // no temp file left

  // A client that half-closes after its request still gets the answer it waits for.
  std::string other = textOf(6u << 20, "half closed");
  writeFile(m.path("www/other.txt"), other);
  std::string reply = rawExchange(
      port, "GET /other.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", 20000, true);
  EXPECT_NE(reply.find("Content-Encoding: gzip"), std::string::npos) << reply.substr(0, 300);
  size_t bodyAt = reply.find("\r\n\r\n");
  ASSERT_NE(bodyAt, std::string::npos);
  EXPECT_TRUE(gunzip(reply.substr(bodyAt + 4)) == other);
}
