// Tier: protocol on the wire — RRL shared by the workers: a flood from one /24 over many source
// ports (so SO_REUSEPORT spreads it over both workers) gets `rrl_rate` answers per second for
// the whole server, not rate x workers; dig gets answers again once the bucket has refilled.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

// The per-worker figures of one counter from `manifold-shm stats --per-worker`.
std::vector<long> perWorker(const std::string& stats, const std::string& counter) {
  std::istringstream in(stats);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    if (name != counter) continue;
    std::vector<long> out;
    for (std::string w; words >> w;) out.push_back(std::atol(w.c_str()));
    return out;  // total, then one column per worker
  }
  return {};
}

}  // namespace

TEST(DnsRrlShared, RateIsForTheWholeServer) {
  constexpr int kRate = 100;
  Instance m("", "", 2);
  writeFile(m.path("fo.zone"),
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 127.0.0.1\nwww A 10.0.0.1\n");
  m.rewriteConfig("[dns:limited]\nlisten = 127.0.0.1:{port:dns}\nzones = fo.test=" +
                  m.path("fo.zone") + "\nrrl_rate = " + std::to_string(kRate) + "\nrrl_slip = 0\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  ASSERT_EQ(m.workerPids().size(), 2u);

  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  for (int i = 0; i < 64; ++i)
    fds.push_back(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  std::string q(
      "\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03"
      "www\x02"
      "fo\x04"
      "test\x00\x00\x01\x00\x01",
      29);
  int answered = 0, sent = 0;
  char buf[512];
  auto drain = [&] {
    for (int fd : fds)
      for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
        if (n >= 12 && !(buf[2] & 0x02)) ++answered;
  };
  // About 2000 queries/s for 2 s, round-robin over the sockets.
  auto begin = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  };
  while (elapsed() < 2.0) {
    int fd = fds[sent % fds.size()];
    if (sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0) ++sent;
    drain();
    usleep(500);
  }
  double seconds = elapsed();
  for (int i = 0; i < 30; ++i) {
    usleep(10000);
    drain();
  }
  for (int fd : fds) close(fd);
  // A burst of `rate`, then `rate` per second; per worker it would be twice that.
  double expected = kRate + kRate * seconds;
  EXPECT_GT(sent, 2000);
  EXPECT_GE(answered, expected * 0.8) << "sent " << sent << " in " << seconds << " s";
  EXPECT_LE(answered, expected * 1.2) << "sent " << sent << " in " << seconds << " s";

  // Both workers had their share of the flood (otherwise the figure above would prove nothing).
  std::string stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats --per-worker");
  auto udp = perWorker(stats, "queries_udp");
  ASSERT_EQ(udp.size(), 3u) << stats;
  EXPECT_GT(udp[1], sent / 10) << stats;
  EXPECT_GT(udp[2], sent / 10) << stats;
  auto dropped = perWorker(stats, "rrl_dropped");
  ASSERT_EQ(dropped.size(), 3u) << stats;
  EXPECT_EQ(dropped[0], sent - answered) << stats;

  // Once the bucket has refilled, a real client is answered again.
  usleep(1100000);
  EXPECT_EQ(digShort(port, "www.fo.test A"), "10.0.0.1\n");
  EXPECT_EQ(m.stop(), 0) << m.log();
}
