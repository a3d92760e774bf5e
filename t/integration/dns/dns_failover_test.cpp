// Tier: protocol on the wire — failover pools: TCP and HTTP health checks against listening
// sockets this test opens and closes, backup levels (_name), the fallback, round-robin, views
// by source address and by ECS, ICMP via the raw socket, RRL with slip; state in manifold-shm.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

// CLOEXEC: the instance forked later must not inherit (and keep alive) a "dead" target.
int listenOn(const std::string& ip, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 64) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Polls until the sorted answer equals `want` or the deadline passes.
bool waitAnswer(int port, const std::string& q, const std::string& want, int ms = 4000) {
  for (int waited = 0; waited < ms; waited += 50) {
    if (run(digCommand(port, "+time=1 +short " + q) + " | sort") == want) return true;
    usleep(50000);
  }
  return false;
}

std::string zoneFile(Instance& m) {
  writeFile(m.path("fo.zone"),
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 127.0.0.1\nwww A 10.0.0.1\n");
  return "fo.test=" + m.path("fo.zone");
}

}  // namespace

TEST(DnsFailover, TcpCheckBackupLevelsAndFallback) {
  int probe = freePort();  // the test's own health-check listener
  Instance m("");
  std::string p = std::to_string(probe);
  m.rewriteConfig(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = " + zoneFile(m) +
      "\npool_ttl = 5\npool.www.fo.test = 127.0.0.10 127.0.0.11\npool._www.fo.test = 127.0.0.20\n"
      "fallback.www.fo.test = 127.0.0.99\n"
      "check.www.fo.test = tcp:" +
      p + " interval=200ms timeout=150ms rise=1 fall=1\n");
  int a = listenOn("127.0.0.10", probe), b = listenOn("127.0.0.11", probe),
      c = listenOn("127.0.0.20", probe);
  ASSERT_TRUE(a >= 0 && b >= 0 && c >= 0);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  EXPECT_TRUE(waitAnswer(port, "www.fo.test A", "127.0.0.10\n127.0.0.11\n"));
  close(a);  // one of level 0 dies: hidden
  EXPECT_TRUE(waitAnswer(port, "www.fo.test A", "127.0.0.11\n")) << m.log();
  EXPECT_TRUE(m.waitForLog("127.0.0.10 tcp:" + p + " is DOWN")) << m.log();
  close(b);  // all of level 0: the _www backup
  EXPECT_TRUE(waitAnswer(port, "www.fo.test A", "127.0.0.20\n")) << m.log();
  close(c);  // everything: the fallback, never an empty answer
  EXPECT_TRUE(waitAnswer(port, "www.fo.test A", "127.0.0.99\n")) << m.log();
  a = listenOn("127.0.0.10", probe);  // back up
  EXPECT_TRUE(waitAnswer(port, "www.fo.test A", "127.0.0.10\n")) << m.log();
  EXPECT_TRUE(m.waitForLog("127.0.0.10 tcp:" + p + " is UP")) << m.log();
  // The TTL is pool_ttl and the answer is authoritative.
  auto full = dig(port, "www.fo.test A");
  EXPECT_NE(full.find("www.fo.test.\t\t5\tIN\tA\t127.0.0.10"), std::string::npos) << full;
  // manifold-shm shows each target's state and last check.
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_NE(stats.find("t_127_0_0_10_tcp_" + p + "_up"), std::string::npos) << stats;
  EXPECT_NE(stats.find("t_127_0_0_11_tcp_" + p + "_checked"), std::string::npos) << stats;
  EXPECT_NE(stats.find("probe_fail"), std::string::npos) << stats;
  close(a);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsFailover, HttpCheckExpectsStatus) {
  int probe = freePort();  // the test's own health-check listener
  std::atomic<int> status{200};
  std::atomic<bool> stop{false};
  int lfd = listenOn("127.0.0.12", probe);
  ASSERT_GE(lfd, 0);
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread t;
    ~Joiner() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } joiner{stop, std::thread([&] {
             while (!stop) {
               timeval tv{0, 100000};
               fd_set set;
               FD_ZERO(&set);
               FD_SET(lfd, &set);
               if (select(lfd + 1, &set, nullptr, nullptr, &tv) <= 0) continue;
               int c = accept(lfd, nullptr, nullptr);
               if (c < 0) continue;
               char buf[1024];
               (void)!recv(c, buf, sizeof buf, 0);
               std::string resp =
                   "HTTP/1.0 " + std::to_string(status.load()) + " X\r\nContent-Length: 0\r\n\r\n";
               (void)!send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
               close(c);
             }
           })};
  Instance m("");
  m.rewriteConfig("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = " + zoneFile(m) +
                  "\npool.api.fo.test = 127.0.0.12 127.0.0.13\n"
                  "check.api.fo.test = http:" +
                  std::to_string(probe) +
                  "/health status=200 interval=200ms timeout=150ms rise=1 fall=1\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  // .13 has no server: hidden; .12 answers 200.
  EXPECT_TRUE(waitAnswer(port, "api.fo.test A", "127.0.0.12\n")) << m.log();
  status = 503;  // .12 now fails too: nothing live, no fallback -> level 0 rather than empty
  EXPECT_TRUE(waitAnswer(port, "api.fo.test A", "127.0.0.12\n127.0.0.13\n")) << m.log();
  EXPECT_TRUE(m.waitForLog("127.0.0.12 http:" + std::to_string(probe) + "/health is DOWN"))
      << m.log();
  status = 200;
  EXPECT_TRUE(waitAnswer(port, "api.fo.test A", "127.0.0.12\n")) << m.log();
  stop = true;
  joiner.t.join();
  close(lfd);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsFailover, RoundRobinViewsEcsIcmpAndRrl) {
  Instance m("");
  m.rewriteConfig(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = " + zoneFile(m) +
      "\nview.ecsnet = 198.51.100.0/24\nview.inside = 127.0.0.0/8\n"
      "pool.rr.fo.test = 10.0.0.1 10.0.0.2 10.0.0.3 2001:db8::7\n"
      "pool.v.fo.test = 10.9.9.9\npool.v.fo.test@inside = 10.1.1.1\npool.v.fo.test@ecsnet = "
      "10.2.2.2\n"
      "pool.ping.fo.test = 127.0.0.30\ncheck.ping.fo.test = icmp interval=200ms timeout=150ms "
      "fall=1\n"
      "[dns:limited]\nlisten = 127.0.0.1:{port:limited}\nzones = " +
      zoneFile(m) + "\nrrl_rate = 5\nrrl_slip = 2\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  const int limitedPort = m.port("limited");
  // Round-robin: every address comes first at some point; AAAA from the same pool.
  std::set<std::string> firsts;
  for (int i = 0; i < 12; ++i) {
    auto out = digShort(port, "rr.fo.test A");
    firsts.insert(out.substr(0, out.find('\n')));
  }
  EXPECT_EQ(firsts.size(), 3u);
  EXPECT_EQ(digShort(port, "rr.fo.test AAAA"), "2001:db8::7\n");
  // Views: by source (127.0.0.1 is "inside"), by ECS when present (scope echoed), else default.
  EXPECT_EQ(digShort(port, "v.fo.test A"), "10.1.1.1\n");
  EXPECT_EQ(digShort(port, "+subnet=198.51.100.0/24 v.fo.test A"), "10.2.2.2\n");
  EXPECT_EQ(digShort(port, "+subnet=203.0.113.0/24 v.fo.test A"), "10.9.9.9\n");
  auto ecs = dig(port, "+subnet=198.51.100.0/24 v.fo.test A");
  EXPECT_NE(ecs.find("CLIENT-SUBNET: 198.51.100.0/24/24"), std::string::npos) << ecs;
  // ICMP through the raw socket opened before privileges were dropped: loopback answers.
  EXPECT_TRUE(m.waitForLog("ICMP probes use the raw socket")) << m.log();
  usleep(600000);
  EXPECT_EQ(digShort(port, "ping.fo.test A"), "127.0.0.30\n");
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_NE(stats.find("t_127_0_0_30_icmp_up"), std::string::npos) << stats;
  // RRL: 200 queries in a burst from one socket at 5/s per prefix: most are limited,
  // every 2nd limited one slips out truncated (TC, empty) so a real client would retry on TCP.
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(limitedPort));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string q(
      "\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03"
      "www\x02"
      "fo\x04"
      "test\x00\x00\x01\x00\x01",
      29);
  for (int i = 0; i < 200; ++i)
    sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  timeval tv{0, 300000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int answered = 0, truncated = 0;
  char buf[512];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
    if (buf[2] & 0x02)
      ++truncated;
    else
      ++answered;
  }
  close(fd);
  EXPECT_GE(answered, 5);
  EXPECT_LE(answered, 40);
  EXPECT_GT(truncated, 50);
  EXPECT_LT(answered + truncated, 200);
  stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_NE(stats.find("rrl_slipped"), std::string::npos) << stats;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
