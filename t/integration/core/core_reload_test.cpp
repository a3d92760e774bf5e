// Tier: end-to-end, reload and graceful stop — HUP under keep-alive load loses no request, a
// broken config keeps the old one serving, listen addresses added/removed by a reload, counters
// kept across a reload, QUIT drains in-flight downloads, shutdown_timeout bounds the drain.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <regex>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

// The harness always writes shutdown_timeout = 10s into [master]; tests that need another
// value rewrite that line (after every rewriteConfig too).
void setShutdownTimeout(const Instance& m, const std::string& value) {
  std::string text = readFile(m.configPath());
  size_t at = text.find("shutdown_timeout = 10s");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, std::string("shutdown_timeout = 10s").size(), "shutdown_timeout = " + value);
  writeFile(m.configPath(), text);
}

// True if a TCP connect to 127.0.0.1:port is refused (nothing listens).
bool connectionRefused(int port) {
  int rc = -1;
  std::string out = run(
      "curl -s -o /dev/null --max-time 2 http://127.0.0.1:" + std::to_string(port) + "/file", &rc);
  return rc == 7;  // curl: "Failed to connect to host"
}

}  // namespace

// The key reload test: a keep-alive load generator must not see a single error or non-2xx
// response while the configuration is reloaded three times under it.
TEST(CoreReload, HupUnderKeepAliveLoadLosesNoRequest) {
  Instance m(httpSite(), "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  std::string output = m.path("wrk.out");
  Background wrk("wrk -t2 -c20 -d6s --latency http://127.0.0.1:" + std::to_string(port) + "/file",
                 output);
  reloadRepeatedly(m, 3, 1200);
  int status = wrk.wait(15000);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::string report = readFile(output);
  EXPECT_TRUE(m.waitForGeneration(4)) << m.log();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(report, match, std::regex(R"((\d+) requests in)"))) << report;
  EXPECT_GT(std::stoll(match[1]), 1000) << report;
  if (std::regex_search(
          report, match,
          std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))"))) {
    for (int i = 1; i <= 4; ++i) EXPECT_EQ(match[i], "0") << report << m.log();
  }
  EXPECT_EQ(report.find("Non-2xx or 3xx responses"), std::string::npos) << report;
  EXPECT_EQ(report.find("Socket errors"), std::string::npos) << report;
  EXPECT_EQ(m.log().find("[error]"), std::string::npos) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreReload, BrokenConfigIsRefusedAndTheOldOneKeepsServing) {
  std::string services = httpSite();
  Instance m(services, "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  auto workers = m.workerPids();
  ASSERT_EQ(workers.size(), 2u);
  m.rewriteConfig(services + "no_such_key = 1\n");
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForLog("reload refused", 3000)) << m.log();
  std::string log = m.log();
  EXPECT_TRUE(
      std::regex_search(log, std::regex(R"(reload refused.*manifold\.ini:\d+: no_such_key)")))
      << log;
  sleepMs(200);
  auto after = m.workerPids();
  std::sort(workers.begin(), workers.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, workers) << "a refused reload must not touch the workers\n" << m.log();
  EXPECT_EQ(m.log().find("generation 2"), std::string::npos) << m.log();
  EXPECT_EQ(countFailures(port, 10), 0);
  // Fixed: the next reload goes through.
  m.rewriteConfig(services);
  m.signal(SIGHUP);
  EXPECT_TRUE(m.waitForGeneration(2)) << m.log();
  EXPECT_EQ(countFailures(port, 10), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreReload, ReloadAddsAndRemovesListenAddresses) {
  // portB is first bound by a reload, where nothing re-picks a taken port: it stays freePort().
  int portB = freePort();
  Instance m(httpSite("a"), "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int portA = m.port("a");
  EXPECT_TRUE(connectionRefused(portB));
  // Add a second site on a new port.
  m.rewriteConfig(httpSite("a") + httpSite(portB, "b"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  EXPECT_EQ(countFailures(portB, 10), 0) << m.log();
  EXPECT_EQ(countFailures(portA, 10), 0) << m.log();
  ASSERT_TRUE(m.waitForLog("generation 1 finished", 5000)) << m.log();
  // Remove the first one: once generation 2 is gone, its port refuses connections.
  m.rewriteConfig(httpSite(portB, "b"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(3)) << m.log();
  ASSERT_TRUE(m.waitForLog("generation 2 finished", 5000)) << m.log();
  EXPECT_TRUE(connectionRefused(portA)) << "port " << portA << " must be closed\n" << m.log();
  EXPECT_EQ(countFailures(portB, 10), 0) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreReload, CountersSurviveAReloadWithUnchangedServices) {
  Instance m(httpSite() + statusSection(), "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www"), statusPort = m.port("status");
  ASSERT_EQ(countFailures(port, 50), 0);
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  auto response = curl(statusPort, "/metrics.json");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_GE(jsonCounter(response.body, "http:www", "requests"), 50) << response.body;
  EXPECT_EQ(m.log().find("counters start fresh"), std::string::npos) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreReload, QuitDrainsAnInFlightDownload) {
  Instance m(httpSite(), "", 2);
  makeSite(m);
  const long long size = 64ll << 20;
  run("truncate -s " + std::to_string(size) + " " + m.path("www/big"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  std::string output = m.path("curl.out");
  Background download(
      "curl -s -o /dev/null -w '%{size_download}' --limit-rate 20M http://127.0.0.1:" +
          std::to_string(port) + "/big",
      output);
  sleepMs(400);
  ASSERT_TRUE(download.running());
  auto start = Clock::now();
  m.signal(SIGQUIT);
  ASSERT_TRUE(m.waitForLog("graceful stop", 2000)) << m.log();
  // While the download drains, new connections are refused at once, not left queued.
  auto refusedAt = Clock::now();
  EXPECT_TRUE(connectionRefused(port)) << m.log();
  EXPECT_LT(secondsSince(refusedAt), 1.0);
  EXPECT_TRUE(download.running()) << "the download should still be in flight";
  int status = download.wait(15000);
  double took = secondsSince(start);
  ASSERT_NE(status, -1) << "download did not finish\n" << m.log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "curl status " << status;
  EXPECT_EQ(readFile(output), std::to_string(size)) << m.log();
  EXPECT_GT(took, 1.5) << "the download should have been in flight for a while";
  EXPECT_EQ(m.stop(), 0) << m.log();
  EXPECT_EQ(m.log().find("still busy after shutdown_timeout"), std::string::npos) << m.log();
}

// A download slower than shutdown_timeout allows is cut off by the master. The client reads at
// about 1 MB/s through a small receive buffer (curl --limit-rate cannot be used to observe the
// cut: loopback socket buffers hold megabytes that it would keep reading for seconds after the
// worker is gone), then, once the master has exited, drains what is left as fast as it can.
TEST(CoreReload, ShutdownTimeoutCutsOffASlowDownload) {
  Instance m(httpSite(), "", 2);
  setShutdownTimeout(m, "1s");
  makeSite(m);
  const long long size = 64ll << 20;
  run("truncate -s " + std::to_string(size) + " " + m.path("www/big"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 32 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string request = "GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::vector<char> buffer(32 * 1024);
  long long received = 0;
  bool ended = false;
  auto readSome = [&](int flags) {
    ssize_t n = recv(fd, buffer.data(), buffer.size(), flags);
    if (n > 0) received += n;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      ended = true;
  };
  auto start = Clock::now();
  bool quitSent = false, masterGone = false;
  double quitAt = 0, goneAt = 0;
  while (!ended && secondsSince(start) < 8) {
    readSome(MSG_DONTWAIT);
    if (!quitSent && secondsSince(start) > 0.4) {
      m.signal(SIGQUIT);
      quitSent = true;
      quitAt = secondsSince(start);
    }
    if (quitSent && !masterGone && m.log().find("#master: exit") != std::string::npos) {
      masterGone = true;
      goneAt = secondsSince(start);
      break;
    }
    sleepMs(30);  // ~32 KB per 30 ms: about 1 MB/s
  }
  ASSERT_TRUE(masterGone) << "the master did not exit\n" << m.log();
  double cutAfter = goneAt - quitAt;
  EXPECT_GT(cutAfter, 0.8) << m.log();
  EXPECT_LT(cutAfter, 2.5) << m.log();
  // Drain what the kernel still buffers: the response must end short of the full file.
  timeval timeout{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  auto drainStart = Clock::now();
  while (!ended && secondsSince(drainStart) < 5) readSome(0);
  close(fd);
  EXPECT_TRUE(ended) << "the connection stayed open after the master exited";
  EXPECT_GT(received, 0);
  EXPECT_LT(received, size) << "a 64 MB download at 1 MB/s cannot complete in ~1.5 s";
  EXPECT_EQ(m.stop(3000), 0) << m.log();
  EXPECT_NE(m.log().find("still busy after shutdown_timeout"), std::string::npos) << m.log();
}
