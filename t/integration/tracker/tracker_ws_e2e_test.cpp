// Tier: end-to-end with real clients — headless Chromium (Debian) opens two pages running the
// WebTorrent library (npm); one seeds a file, the other downloads it from the magnet link, with
// our WebSocket tracker as their only tracker (the pages are served by Manifold's static server).
// The downloaded bytes must hash to the seeded ones, and the tracker must have relayed the offer
// and the answer between the browsers.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

std::string jsonString(const std::string& json, const std::string& path) {
  std::smatch m;
  if (!std::regex_search(json, m,
                         std::regex(path + "\":\\{\"sha256\":\"([0-9a-f]{64})\",\"size\":(\\d+)")))
    return "";
  return m[1].str() + "/" + m[2].str();
}

uint64_t counter(Instance& m, const std::string& name) {
  const std::string stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  std::smatch match;
  if (!std::regex_search(stats, match, std::regex("\\b" + name + "\\s+(\\d+)"))) return 0;
  return std::stoull(match[1]);
}

}  // namespace

TEST(TrackerWsE2e, ChromiumPagesShareAFileThroughTheWebSocketTracker) {
  int rc = 0;
  run("t/integration/tracker/npm-install 2>&1", &rc);
  ASSERT_EQ(rc, 0) << "npm packages could not be installed";
  const std::string chromium = run("command -v chromium || command -v chromium-browser");
  ASSERT_FALSE(chromium.empty()) << "chromium is missing (make deps installs it)";

  Instance m(R"(
[tracker:wt]
listen = 127.0.0.1:{port:t}
udp = off
ws = on
memory = 4M
ws_memory = 2M

[http:pages]
listen = 127.0.0.1:{port:w}
root = {dir}/www
xcache_size = 4M
)");
  run("mkdir -p " + m.path("www") + " && cp t/integration/tracker/webtorrent-e2e/page.html " +
      "build/npm/node_modules/webtorrent/dist/webtorrent.min.js " + m.path("www"));
  ASSERT_TRUE(m.start()) << m.log();
  const std::string page = "http://127.0.0.1:" + std::to_string(m.port("w")) + "/page.html";
  const std::string tracker = "ws://127.0.0.1:" + std::to_string(m.port("t")) + "/announce";
  const std::string out =
      run("WS_MODULE=$PWD/build/npm/node_modules/ws node "
          "t/integration/tracker/webtorrent-e2e/cdp-driver.mjs " +
              chromium.substr(0, chromium.find('\n')) + " " + page + " " + tracker + " 1048576 120",
          &rc);
  ASSERT_EQ(rc, 0) << out;
  const std::string seeded = jsonString(out, "seeded"), downloaded = jsonString(out, "downloaded");
  ASSERT_FALSE(seeded.empty()) << out;
  EXPECT_EQ(downloaded, seeded) << out;
  EXPECT_NE(seeded.find("/1048576"), std::string::npos);
  EXPECT_GE(counter(m, "ws_offers_same_worker") + counter(m, "ws_offers_other_worker"), 1u);
  EXPECT_GE(counter(m, "ws_answers_same_worker") + counter(m, "ws_answers_other_worker"), 1u);
}
