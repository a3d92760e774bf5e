// Tier: end to end in network namespaces — two (or three) sites run the real bin/manifold, each
// in a namespace the test creates and removes, joined by veth links; real clients (ping,
// curl against python's http.server, raw UDP sockets) go through the tunnel. Fixed ports are
// safe here: each namespace is private to the test.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "protocols/tunnel/keys.hpp"
#include "protocols/tunnel/noise.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/tunnel/netns.hpp"

using namespace manifold::testing;

namespace {

constexpr int kPort = 51900;

std::string tunnelSection(const std::string& name, const std::string& listen,
                          const TunnelKeys& self, const std::string& peers,
                          const std::string& address, const std::string& extra) {
  return "[tunnel:" + name + "]\nlisten = " + listen + "\nprivate_key = " + self.privatePath +
         "\n" + peers + "device = mf0\naddress = " + address + "\n" + extra;
}

// Sites a (10.77.0.1, inner 10.99.0.1) and b (10.77.0.2, inner 10.99.0.2) on one veth link.
struct TwoSites {
  Netns a{"a"}, b{"b"};
  std::string dir = makeTempDir();
  TunnelKeys ka = makeTunnelKeys(dir, "a"), kb = makeTunnelKeys(dir, "b");
  std::unique_ptr<Instance> ma, mb;

  TwoSites() { linkNamespaces(a, "wan0", "10.77.0.1/24", b, "wan0", "10.77.0.2/24"); }
  ~TwoSites() {
    ma.reset();
    mb.reset();
    run("rm -rf " + dir);
  }
  std::string configA(const std::string& extra = "", const std::string& peerOptions = "",
                      const std::string& listen = "10.77.0.1:51900") {
    return tunnelSection("b", listen, ka,
                         "peer = " + kb.publicKey + " name=b endpoint=10.77.0.2:" +
                             std::to_string(kPort) + " allowed=10.99.0.2/32 " + peerOptions + "\n",
                         "10.99.0.1/24", extra);
  }
  std::string configB(const std::string& extra = "", const std::string& peerOptions = "") {
    return tunnelSection(
        "a", "10.77.0.2:51900", kb,
        "peer = " + ka.publicKey + " name=a allowed=10.99.0.1/32 " + peerOptions + "\n",
        "10.99.0.2/24", extra);
  }
  void start(const std::string& a_ = "", const std::string& b_ = "") {
    ma = std::make_unique<Instance>(a_.empty() ? configA() : a_, "", 2);
    mb = std::make_unique<Instance>(b_.empty() ? configB() : b_, "", 2);
    ma->setNetns(a.name());
    mb->setNetns(b.name());
    ASSERT_TRUE(mb->start()) << mb->log();
    ASSERT_TRUE(ma->start()) << ma->log();
  }
};

// A file served by python's http.server inside `server`, fetched with curl from `client`:
// true when the copy is byte for byte the original.
bool transferIntact(const Netns& server, const std::string& serverAddress, const Netns& client,
                    const std::string& dir, const std::string& tag) {
  std::string root = dir + "/www-" + tag;
  run("mkdir -p " + root + " && head -c 3000000 /dev/urandom > " + root + "/blob");
  Background http("ip netns exec " + server.name() + " python3 -m http.server 8080 --bind " +
                  serverAddress + " --directory " + root + " >/dev/null 2>&1");
  std::string out = dir + "/got-" + tag;
  for (int i = 0; i < 50; ++i) {
    int rc = 1;
    client.exec("curl -s -f -m 20 -o " + out + " http://" + serverAddress + ":8080/blob", &rc);
    if (rc == 0) break;
    sleepMs(100);
  }
  return run("cmp " + root + "/blob " + out + " && echo same") == "same\n";
}

// Datagrams sent to addr:port from inside ns, each followed by a wait for any answer.
struct Probe {
  std::vector<std::vector<uint8_t>> datagrams;
  int answers = 0;
};
void sendAndListen(const Netns& ns, const std::string& addr, int port, Probe& probe) {
  ns.inside([&] {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, addr.c_str(), &to.sin_addr);
    for (auto& d : probe.datagrams) {
      sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 400) > 0) {
        char buf[2048];
        if (recv(fd, buf, sizeof buf, 0) > 0) ++probe.answers;
      }
    }
    close(fd);
  });
}

// The first data message (type 4) sent to udp port `port` seen on ns's links within waitMs.
std::vector<uint8_t> captureData(const Netns& ns, int port, int waitMs) {
  std::vector<uint8_t> found;
  ns.inside([&] {
    int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
    if (fd < 0) return;
    auto start = Clock::now();
    uint8_t buf[4096];
    while (found.empty() && msSince(start) < waitMs) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n < 28) continue;
      auto* ip = reinterpret_cast<iphdr*>(buf);
      if (ip->protocol != IPPROTO_UDP) continue;
      size_t ihl = ip->ihl * 4u;
      auto* udp = reinterpret_cast<udphdr*>(buf + ihl);
      if (ntohs(udp->dest) != port || static_cast<size_t>(n) < ihl + 8 + 32) continue;
      if (buf[ihl + 8] != 4) continue;
      found.assign(buf + ihl + 8, buf + n);
    }
    close(fd);
  });
  return found;
}

TEST(TunnelNetns, HandshakeAndDataBothWays) {
  TwoSites s;
  s.start(s.configA() + "[status:st]\nlisten = 127.0.0.1:{port:status}\n");
  EXPECT_EQ(pingCount(s.a, "10.99.0.2", 5, 0.2), 5);
  EXPECT_EQ(pingCount(s.b, "10.99.0.1", 5, 0.2), 5);
  EXPECT_TRUE(transferIntact(s.b, "10.99.0.2", s.a, s.dir, "ab"));  // TCP b -> a
  EXPECT_TRUE(transferIntact(s.a, "10.99.0.1", s.b, s.dir, "ba"));  // TCP a -> b
  EXPECT_GE(serviceCounter(*s.ma, "tunnel:b", "handshakes_completed"), 1);
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "handshakes_completed"), 1);
  EXPECT_GT(serviceCounter(*s.ma, "tunnel:b", "rx_bytes"), 3000000);
  EXPECT_EQ(serviceCounter(*s.mb, "tunnel:a", "drop_decrypt"), 0);
  // The peer board shows the session: endpoint, bytes, a recent handshake.
  std::string board = regionText(*s.ma, "tunnel:b/peers");
  EXPECT_NE(board.find("10.77.0.2:51900"), std::string::npos) << board;
  // ... and so does the metrics endpoint.
  std::string metrics =
      s.a.exec("curl -s http://127.0.0.1:" + std::to_string(s.ma->port("status")) + "/metrics");
  EXPECT_NE(metrics.find("manifold_tunnel_peer_rx_bytes_total{service=\"tunnel:b\""),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("manifold_tunnel_handshakes_completed_total{service=\"tunnel:b\"}"),
            std::string::npos);
}

TEST(TunnelNetns, EachWorkerOwnsAQueueAndItsSessions) {
  TwoSites s;
  s.start();
  // Two workers: two queues of one device, the master's detached anchor not among them.
  EXPECT_EQ(s.a.exec("ls /sys/class/net/mf0/queues | grep -c rx-"), "2\n");
  Background server("ip netns exec " + s.b.name() + " iperf3 -s -1 >/dev/null 2>&1");
  sleepMs(300);
  int rc = 1;
  for (int i = 0; i < 20 && rc != 0; ++i) {
    s.a.exec("iperf3 -c 10.99.0.2 -P 8 -t 2 >/dev/null 2>&1", &rc);
    if (rc != 0) sleepMs(100);
  }
  EXPECT_EQ(rc, 0);
  // Eight flows spread over both queues: both of a's workers sent through their own sessions,
  // and every datagram reached the worker that owns its index on b.
  auto busyWorkers = [&] {
    std::istringstream board(regionText(*s.ma, "tunnel:b/peers"));
    std::string line;
    int busy = 0;
    while (std::getline(board, line)) {
      std::istringstream words(line);
      std::vector<std::string> w;
      for (std::string x; words >> x;) w.push_back(x);
      if (w.size() >= 9 && w[0] == "b" && w[1] == "b" && std::stoull(w[6]) > 1000000) ++busy;
    }
    return busy;
  };
  // Boards are published once a second.
  EXPECT_TRUE(pollUntil([&] { return busyWorkers() == 2; }, 2500))
      << regionText(*s.ma, "tunnel:b/peers");
  EXPECT_EQ(serviceCounter(*s.mb, "tunnel:a", "drop_unknown_index"), 0);
  EXPECT_EQ(serviceCounter(*s.mb, "tunnel:a", "drop_decrypt"), 0);
}

TEST(TunnelNetns, RekeyUnderTrafficLosesNoPacket) {
  TwoSites s;
  // With a pre-shared key; a rekeys every second, b after every 8 packets it sends.
  std::string psk = s.dir + "/psk";
  run(binPath("manifold-tunnel") + " genpsk > " + psk);
  s.start(s.configA("rekey_after_time = 1s\n", "psk=" + psk),
          s.configB("rekey_after_messages = 8\n", "psk=" + psk));
  // 4 s of pings every 50 ms across several rekeys: every one answered.
  EXPECT_EQ(pingCount(s.a, "10.99.0.2", 80, 0.05), 80);
  // Whoever holds the initiator's side of the current session rekeys: both kinds happened.
  int64_t byCount = serviceCounter(*s.mb, "tunnel:a", "rekeys");
  EXPECT_GE(byCount, 1);
  EXPECT_GE(serviceCounter(*s.ma, "tunnel:b", "rekeys") + byCount, 3);
  EXPECT_GE(serviceCounter(*s.ma, "tunnel:b", "handshakes_completed"), 3);
  EXPECT_EQ(serviceCounter(*s.ma, "tunnel:b", "drop_decrypt"), 0);
}

TEST(TunnelNetns, BadInputIsDroppedSilentlyAndCounted) {
  TwoSites s;
  s.start();
  ASSERT_EQ(pingCount(s.a, "10.99.0.1", 1, 0.2), 1);  // local: just the device
  Background pings("ip netns exec " + s.a.name() + " ping -q -i 0.1 -c 30 10.99.0.2");
  std::vector<uint8_t> data = captureData(s.b, kPort, 3000);
  ASSERT_FALSE(data.empty());
  pings.wait(5000);
  int64_t rx = serviceCounter(*s.mb, "tunnel:a", "rx_packets");

  manifold::tunnel::Identity stranger;
  stranger.set(manifold::tunnel::generatePrivateKey());
  manifold::tunnel::Key bPublic;
  ASSERT_TRUE(manifold::tunnel::decodeKey(s.kb.publicKey, bPublic));
  manifold::tunnel::PeerKeys toB;
  ASSERT_TRUE(toB.set(stranger, bPublic, {}));
  std::vector<uint8_t> init(manifold::tunnel::kInitiationSize);
  manifold::tunnel::HandshakeState st;
  manifold::tunnel::createInitiation(stranger, toB, manifold::tunnel::generatePrivateKey(),
                                     manifold::tunnel::tai64n(time(nullptr)), 0x1234500,
                                     init.data(), st);
  std::vector<uint8_t> badMac = init;
  manifold::tunnel::addMacs(init.data(), init.size(), toB.mac1Key, nullptr);  // right mac1
  std::vector<uint8_t> forged = data;
  forged[40] ^= 1;

  Probe probe;
  probe.datagrams = {data,                           // replayed data
                     forged,                         // tampered data
                     {1, 2, 3},                      // garbage
                     std::vector<uint8_t>(3000, 4),  // larger than any message we take
                     std::vector<uint8_t>(20, 4),    // type 4, but reserved bytes set
                     badMac,                         // initiation without a valid mac1
                     init};                          // valid mac1, key b does not know
  sendAndListen(s.a, "10.77.0.2", kPort, probe);
  EXPECT_EQ(probe.answers, 0);  // silence
  EXPECT_EQ(serviceCounter(*s.mb, "tunnel:a", "rx_packets"), rx);
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "drop_replay"), 1);
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "drop_decrypt"), 1);
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "drop_malformed"), 2);
  // Oversized drops are published with the boards, once a second.
  EXPECT_TRUE(
      pollUntil([&] { return serviceCounter(*s.mb, "tunnel:a", "drop_oversized") >= 1; }, 2500));
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "drop_mac"), 1);
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "handshakes_refused"), 1);
  EXPECT_EQ(pingCount(s.a, "10.99.0.2", 3, 0.2), 3);  // the session is unharmed
}

TEST(TunnelNetns, InnerSourceOutsideAllowedIsDropped) {
  TwoSites s;
  s.start();
  s.a.exec("ip addr add 10.99.0.5/32 dev mf0");
  EXPECT_EQ(pingCount(s.a, "10.99.0.2", 3, 0.2, "-I 10.99.0.5"), 0);
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "drop_inner_source"), 3);
  EXPECT_EQ(pingCount(s.a, "10.99.0.2", 3, 0.2, "-I 10.99.0.1"), 3);
}

TEST(TunnelNetns, RoamingFollowsTheLastAuthenticatedSource) {
  TwoSites s;
  s.start(s.configA("", "", "0.0.0.0:51900"));
  ASSERT_EQ(pingCount(s.a, "10.99.0.2", 3, 0.2), 3);
  // a moves to 10.77.0.3: its old address disappears.
  s.a.exec("ip addr add 10.77.0.3/32 dev wan0");
  s.a.exec("ip addr del 10.77.0.1/24 dev wan0");
  s.a.exec("ip route add 10.77.0.0/24 dev wan0 src 10.77.0.3");
  EXPECT_EQ(pingCount(s.a, "10.99.0.2", 3, 0.2), 3);
  EXPECT_EQ(pingCount(s.b, "10.99.0.1", 3, 0.2), 3);  // b answers at the new address
  EXPECT_GE(serviceCounter(*s.mb, "tunnel:a", "roamed"), 1);
}

TEST(TunnelNetns, TunRecreatedOnReload) {
  TwoSites s;
  const std::string hooks = "up = echo up $DEVICE $MTU >> " + s.dir + "/hooks\n" +
                            "down = echo down $DEVICE >> " + s.dir + "/hooks\n" +
                            "route = 10.98.0.0/24\ntxqueuelen = 77\n";
  s.start(s.configA(hooks));
  EXPECT_NE(s.a.exec("ip route show dev mf0").find("10.98.0.0/24"), std::string::npos);
  EXPECT_NE(s.a.exec("ip -o link show mf0").find("qlen 77"), std::string::npos);
  ASSERT_EQ(pingCount(s.a, "10.99.0.2", 2, 0.2), 2);
  std::string before = s.a.exec("ip -o link show mf0");
  EXPECT_NE(before.find("mtu 1420"), std::string::npos) << before;
  std::string changed = s.configA(hooks + "mtu = 1380\n");
  size_t at = changed.find("10.99.0.1/24");
  changed.replace(at, 12, "10.99.0.1/24 10.99.0.7/24");
  s.ma->rewriteConfig(changed);
  s.ma->signal(SIGHUP);
  ASSERT_TRUE(s.ma->waitForGeneration(2, 10000)) << s.ma->log();
  std::string after = s.a.exec("ip -o link show mf0");
  EXPECT_NE(after.find("mtu 1380"), std::string::npos) << after;
  EXPECT_NE(s.a.exec("ip -o addr show mf0").find("10.99.0.7"), std::string::npos);
  sleepMs(500);
  EXPECT_GE(pingCount(s.a, "10.99.0.2", 5, 0.2), 4);  // the new device carries traffic
  EXPECT_EQ(readFile(s.dir + "/hooks"), "up mf0 1420\ndown mf0\nup mf0 1380\n");
  // Stopping the master runs the down hook and removes the device.
  EXPECT_EQ(s.ma->stop(), 0);
  EXPECT_EQ(readFile(s.dir + "/hooks"), "up mf0 1420\ndown mf0\nup mf0 1380\ndown mf0\n");
  int rc = 0;
  s.a.exec("ip link show mf0 2>/dev/null", &rc);
  EXPECT_NE(rc, 0);
}

TEST(TunnelNetns, HandshakeFloodDoesNotStarveSessions) {
  TwoSites s;
  s.start(s.configA(), s.configB("handshakes_per_second = 20\n"));
  ASSERT_EQ(pingCount(s.a, "10.99.0.2", 2, 0.2), 2);
  manifold::tunnel::Key bPublic;
  ASSERT_TRUE(manifold::tunnel::decodeKey(s.kb.publicKey, bPublic));
  std::atomic<bool> done{false};
  std::atomic<int> cookies{0};
  std::thread flood([&] {
    s.a.inside([&] {
      // Initiations with a valid mac1 from a stranger: each costs b a Diffie-Hellman unless it
      // asks for a cookie first.
      manifold::tunnel::Identity stranger;
      stranger.set(manifold::tunnel::generatePrivateKey());
      manifold::tunnel::PeerKeys toB;
      toB.set(stranger, bPublic, {});
      std::vector<uint8_t> init(manifold::tunnel::kInitiationSize);
      manifold::tunnel::HandshakeState st;
      manifold::tunnel::createInitiation(stranger, toB, manifold::tunnel::generatePrivateKey(),
                                         manifold::tunnel::tai64n(time(nullptr)), 0x777700,
                                         init.data(), st);
      manifold::tunnel::addMacs(init.data(), init.size(), toB.mac1Key, nullptr);
      int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(kPort);
      inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
      char buf[256];
      while (!done) {
        for (int i = 0; i < 50; ++i)
          sendto(fd, init.data(), init.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        while (recv(fd, buf, sizeof buf, 0) == 64) ++cookies;
        usleep(1000);
      }
      close(fd);
    });
  });
  int got = pingCount(s.a, "10.99.0.2", 30, 0.1);
  done = true;
  flood.join();
  EXPECT_GE(got, 27);
  EXPECT_GT(cookies.load(), 0);
  EXPECT_GT(serviceCounter(*s.mb, "tunnel:a", "cookies_sent"), 0);
}

TEST(TunnelNetns, RelayForwardsSessionsWithoutKeys) {
  Netns a("a"), r("r"), b("b");
  std::string dir = makeTempDir();
  TunnelKeys ka = makeTunnelKeys(dir, "a"), kb = makeTunnelKeys(dir, "b");
  linkNamespaces(a, "wan0", "10.77.1.1/24", r, "toa", "10.77.1.2/24");
  linkNamespaces(r, "tob", "10.77.2.2/24", b, "wan0", "10.77.2.1/24");
  // r does not forward IP: a and b can reach each other only through the relay.
  {
    Instance mr("[tunnel:relay]\nlisten = 0.0.0.0:51900\nrelay = " + ka.publicKey +
                    " name=a endpoint=10.77.1.1:51900\nrelay = " + kb.publicKey +
                    " name=b endpoint=10.77.2.1:51900\n",
                "", 2);
    Instance ma(
        tunnelSection("b", "10.77.1.1:51900", ka,
                      "peer = " + kb.publicKey + " endpoint=10.77.1.2:51900 allowed=10.99.0.2/32\n",
                      "10.99.0.1/24", ""),
        "", 2);
    Instance mb(
        tunnelSection("a", "10.77.2.1:51900", kb,
                      "peer = " + ka.publicKey + " endpoint=10.77.2.2:51900 allowed=10.99.0.1/32\n",
                      "10.99.0.2/24", ""),
        "", 2);
    mr.setNetns(r.name());
    ma.setNetns(a.name());
    mb.setNetns(b.name());
    ASSERT_TRUE(mr.start()) << mr.log();
    ASSERT_TRUE(ma.start()) << ma.log();
    ASSERT_TRUE(mb.start()) << mb.log();
    EXPECT_EQ(pingCount(a, "10.99.0.2", 5, 0.2), 5);
    EXPECT_EQ(pingCount(b, "10.99.0.1", 5, 0.2), 5);
    EXPECT_GE(serviceCounter(mr, "tunnel:relay", "relayed"), 20);
  }
  run("rm -rf " + dir);
}

TEST(TunnelNetns, PathFailoverWithHysteresis) {
  Netns a("a"), b("b");
  std::string dir = makeTempDir();
  TunnelKeys ka = makeTunnelKeys(dir, "a"), kb = makeTunnelKeys(dir, "b");
  linkNamespaces(a, "wan1", "10.77.1.1/24", b, "wan1", "10.77.1.2/24");
  linkNamespaces(a, "wan2", "10.77.2.1/24", b, "wan2", "10.77.2.2/24");
  {
    const std::string tuning = "probe_interval = 100ms\nswitch_after = 3\nswitch_margin = 20\n";
    Instance ma(tunnelSection("b", "0.0.0.0:51900", ka,
                              "peer = " + kb.publicKey +
                                  " name=b endpoint=10.77.1.2:51900,10.77.2.2:51900"
                                  " allowed=10.99.0.2/32\n",
                              "10.99.0.1/24", tuning),
                "", 2);
    Instance mb(tunnelSection("a", "0.0.0.0:51900", kb,
                              "peer = " + ka.publicKey + " name=a allowed=10.99.0.1/32\n",
                              "10.99.0.2/24", ""),
                "", 2);
    ma.setNetns(a.name());
    mb.setNetns(b.name());
    ASSERT_TRUE(mb.start()) << mb.log();
    ASSERT_TRUE(ma.start()) << ma.log();
    // Two equal paths: 2 s of probing and traffic move nothing (hysteresis).
    EXPECT_EQ(pingCount(a, "10.99.0.2", 20, 0.1), 20);
    EXPECT_EQ(serviceCounter(ma, "tunnel:b", "path_switches"), 0);
    // Boards are published once a second.
    EXPECT_TRUE(pollUntil(
        [&] {
          return regionText(ma, "tunnel:b/paths").find("10.77.1.2:51900") != std::string::npos;
        },
        2500))
        << regionText(ma, "tunnel:b/paths");
    // Path 1 fails: traffic moves to path 2 and keeps flowing.
    a.exec("ip link set wan1 down");
    EXPECT_TRUE(
        pollUntil([&] { return serviceCounter(ma, "tunnel:b", "path_switches") >= 1; }, 3000));
    EXPECT_EQ(pingCount(a, "10.99.0.2", 10, 0.1), 10);
    EXPECT_EQ(pingCount(b, "10.99.0.1", 5, 0.1), 5);
    // Path 1 back, no better than path 2: the traffic stays where it is.
    int64_t switches = serviceCounter(ma, "tunnel:b", "path_switches");
    a.exec("ip link set wan1 up");
    sleepMs(1500);
    EXPECT_EQ(serviceCounter(ma, "tunnel:b", "path_switches"), switches);
  }
  run("rm -rf " + dir);
}

TEST(TunnelConfig, RefusedAtCheckWithFileLineAndKey) {
  std::string dir = makeTempDir();
  TunnelKeys k = makeTunnelKeys(dir, "k");
  TunnelKeys p = makeTunnelKeys(dir, "p");
  writeFile(dir + "/bad.key", "not a key\n");
  auto check = [&](const std::string& body) {
    writeFile(dir + "/t.ini", "[tunnel:x]\nlisten = 127.0.0.1:51900\n" + body);
    int rc = 0;
    std::string out = run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", &rc);
    return std::make_pair(rc, out);
  };
  std::string peer = "peer = " + p.publicKey + " allowed=10.99.0.2/32\n";
  auto [rc0, ok] = check("private_key = " + k.privatePath + "\n" + peer + "device = mf9\n");
  EXPECT_EQ(rc0, 0) << ok;
  auto [rc1, badKey] = check("private_key = " + dir + "/bad.key\n" + peer + "device = mf9\n");
  EXPECT_NE(rc1, 0);
  EXPECT_NE(badKey.find("t.ini:3: private_key:"), std::string::npos) << badKey;
  auto [rc2, noDevice] = check("private_key = " + k.privatePath + "\n" + peer);
  EXPECT_NE(rc2, 0);
  EXPECT_NE(noDevice.find(": device: required"), std::string::npos) << noDevice;
  auto [rc3, badPeer] = check("private_key = " + k.privatePath + "\npeer = abc\ndevice = mf9\n");
  EXPECT_NE(rc3, 0);
  EXPECT_NE(badPeer.find("t.ini:4: peer:"), std::string::npos) << badPeer;
  // Compression is the warp transport's; a parity group needs at least 2 packets.
  auto [rc4, compress] =
      check("private_key = " + k.privatePath + "\n" + peer + "device = mf9\ncompress = lzo\n");
  EXPECT_NE(rc4, 0);
  EXPECT_NE(compress.find("t.ini:6: compress:"), std::string::npos) << compress;
  auto [rc5, warp] = check("private_key = " + k.privatePath + "\n" + peer +
                           "device = mf9\nmode = warp\ncompress = zlib\nwarp_fec = auto\n");
  EXPECT_EQ(rc5, 0) << warp;
  auto [rc6, fec] = check("private_key = " + k.privatePath + "\n" + peer +
                          "device = mf9\nmode = warp\nwarp_fec = 1\n");
  EXPECT_NE(rc6, 0);
  EXPECT_NE(fec.find("t.ini:7: warp_fec:"), std::string::npos) << fec;
  run("rm -rf " + dir);
}

}  // namespace
