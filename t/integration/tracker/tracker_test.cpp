// Tier: protocol on the wire — the tracker over real UDP and TCP sockets on loopback, two
// workers sharing the swarms in shm.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "protocols/tracker/bencode.hpp"
#include "protocols/tracker/udp_packet.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;
using namespace manifold::tracker;

namespace {

struct Hash {
  uint8_t b[20];
  explicit Hash(int n, uint8_t salt = 0x5a) {
    for (int i = 0; i < 20; ++i) b[i] = static_cast<uint8_t>(salt + i * 31 + n * 7);
    std::memcpy(b, &n, sizeof n);
  }
  std::string hex() const {
    char s[41];
    for (int i = 0; i < 20; ++i) snprintf(s + 2 * i, 3, "%02x", b[i]);
    return s;
  }
  std::string encoded() const {
    std::string s;
    char e[4];
    for (uint8_t c : b) {
      snprintf(e, sizeof e, "%%%02X", c);
      s += e;
    }
    return s;
  }
};

// A UDP tracker client on its own socket (source address selectable).
class UdpClient {
 public:
  explicit UdpClient(int port, bool v6 = false, const char* source = nullptr) : v6_(v6) {
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(static_cast<uint16_t>(port));
      inet_pton(AF_INET6, "::1", &a.sin6_addr);
      std::memcpy(&server_, &a, sizeof a);
      len_ = sizeof a;
    } else {
      if (source) {
        sockaddr_in b{};
        b.sin_family = AF_INET;
        inet_pton(AF_INET, source, &b.sin_addr);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&b), sizeof b), 0);
      }
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
      std::memcpy(&server_, &a, sizeof a);
      len_ = sizeof a;
    }
  }
  ~UdpClient() { ::close(fd_); }

  // Sends and waits for one answer; empty when none came within timeoutMs.
  std::vector<uint8_t> exchange(const std::vector<uint8_t>& packet, int timeoutMs = 2000) {
    ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&server_), len_);
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) != 1) return {};
    std::vector<uint8_t> buf(8192);
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

  uint64_t connect() {
    std::vector<uint8_t> p(16);
    writeConnectRequest(p.data(), p.size(), 1234);
    auto r = exchange(p);
    if (r.size() != 16 || readBe32(r.data()) != 0 || readBe32(r.data() + 4) != 1234) return 0;
    return readBe64(r.data() + 8);
  }

  struct Announced {
    uint32_t action = 0, interval = 0, leechers = 0, seeders = 0;
    std::vector<std::string> peers;  // compact entries
    std::string error;
  };

  Announced announce(uint64_t cid, const Hash& h, uint16_t port, uint64_t left, uint32_t event = 0,
                     int32_t numWant = -1) {
    AnnounceFields f;
    f.connectionId = cid;
    f.transactionId = 77;
    f.infoHash = h.b;
    uint8_t peerId[20] = {'-', 'M', 'F'};
    std::memcpy(peerId + 4, &port, 2);
    f.peerId = peerId;
    f.left = left;
    f.event = event;
    f.numWant = numWant;
    f.port = port;
    std::vector<uint8_t> p(kAnnounceBytes);
    writeAnnounceRequest(p.data(), p.size(), f);
    return parseAnnounce(exchange(p));
  }

  Announced parseAnnounce(const std::vector<uint8_t>& r) {
    Announced a;
    if (r.size() < 8) return a;
    a.action = readBe32(r.data());
    EXPECT_EQ(readBe32(r.data() + 4), 77u);
    if (a.action == 3) {
      a.error.assign(reinterpret_cast<const char*>(r.data() + 8), r.size() - 8);
      return a;
    }
    if (r.size() < 20) return a;
    a.interval = readBe32(r.data() + 8);
    a.leechers = readBe32(r.data() + 12);
    a.seeders = readBe32(r.data() + 16);
    const size_t stride = v6_ ? 18 : 6;
    EXPECT_EQ((r.size() - 20) % stride, 0u);
    for (size_t i = 20; i + stride <= r.size(); i += stride)
      a.peers.emplace_back(reinterpret_cast<const char*>(r.data() + i), stride);
    return a;
  }

  // Returns seeders, completed, leechers per hash; an error packet yields an empty vector.
  std::vector<uint32_t> scrape(uint64_t cid, const std::vector<Hash>& hashes,
                               std::string* error = nullptr) {
    std::vector<uint8_t> raw;
    for (auto& h : hashes) raw.insert(raw.end(), h.b, h.b + 20);
    std::vector<uint8_t> p(16 + raw.size());
    writeScrapeRequest(p.data(), p.size(), cid, 5, raw);
    auto r = exchange(p);
    std::vector<uint32_t> out;
    if (r.size() >= 8 && readBe32(r.data()) == 3 && error)
      error->assign(reinterpret_cast<const char*>(r.data() + 8), r.size() - 8);
    if (r.size() < 8 || readBe32(r.data()) != 2) return out;
    for (size_t i = 8; i + 4 <= r.size(); i += 4) out.push_back(readBe32(r.data() + i));
    return out;
  }

 private:
  int fd_;
  bool v6_;
  sockaddr_storage server_{};
  socklen_t len_;
};

// GET over a fresh TCP connection (Connection: close); returns the body.
std::string httpGet(int port, const std::string& target, bool v6 = false) {
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, "::1", &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
    len = sizeof *a;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string all;
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 3000) == 1) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = all.find("\r\n\r\n");
  return end == std::string::npos ? "" : all.substr(end + 4);
}

std::string announceQuery(const Hash& h, int port, uint64_t left, const std::string& extra = "") {
  return "/announce?info_hash=" + h.encoded() +
         "&peer_id=-MF0001-abcdefghijkl&port=" + std::to_string(port) +
         "&uploaded=0&downloaded=0&left=" + std::to_string(left) + extra;
}

std::string section(const std::string& extra = "") {
  return "[tracker:t]\nlisten = 127.0.0.1:{port:t} [::1]:{port:t}\n" + extra;
}

}  // namespace

TEST(Tracker, UdpConnectAnnounceScrape) {
  Instance m(section("interval = 100s\n"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  uint64_t cid = c.connect();
  ASSERT_NE(cid, 0u);
  Hash h(1), other(2);
  auto a = c.announce(cid, h, 1001, 100, 2);
  EXPECT_EQ(a.action, 1u) << a.error;
  EXPECT_GE(a.interval, 95u);
  EXPECT_LE(a.interval, 105u);
  EXPECT_EQ(a.leechers, 1u);
  EXPECT_TRUE(a.peers.empty());
  c.announce(cid, h, 1002, 100, 2);
  a = c.announce(cid, h, 1003, 0, 2);
  EXPECT_EQ(a.seeders, 1u);
  EXPECT_EQ(a.leechers, 2u);
  ASSERT_EQ(a.peers.size(), 2u);  // a seeder gets the two leechers, never itself
  for (auto& p : a.peers) {
    EXPECT_EQ(p.substr(0, 4), std::string("\x7f\0\0\x01", 4));
    const int peerPort = static_cast<uint8_t>(p[4]) << 8 | static_cast<uint8_t>(p[5]);
    EXPECT_TRUE(peerPort == 1001 || peerPort == 1002) << peerPort;
  }
  // Every announce from several sockets lands in the one shared swarm, whichever worker reads it.
  for (int i = 0; i < 8; ++i) {
    UdpClient extra(port);
    uint64_t id = extra.connect();
    ASSERT_NE(id, 0u);
    EXPECT_EQ(extra.announce(id, h, static_cast<uint16_t>(2000 + i), 5).action, 1u);
  }
  auto s = c.scrape(cid, {h, other});
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0], 1u);   // seeders
  EXPECT_EQ(s[1], 0u);   // completed
  EXPECT_EQ(s[2], 10u);  // leechers
  EXPECT_EQ(s[3] + s[4] + s[5], 0u);
  // The counters and the swarm listing.
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_NE(stats.find("announces"), std::string::npos) << stats;
  EXPECT_NE(stats.find("connects"), std::string::npos);
  std::string listing = httpGet(port, "/swarm?info_hash=" + h.hex());
  EXPECT_NE(listing.find("seeders 1\nleechers 10"), std::string::npos) << listing;
  EXPECT_NE(listing.find("peer 127.0.0.1:1003 seeder"), std::string::npos) << listing;
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, ConnectionIdsAreCheckedAndExpire) {
  Instance m(section("connection_id_lifetime = 3s\n"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  Hash h(3);
  uint64_t cid = c.connect();
  ASSERT_NE(cid, 0u);
  EXPECT_EQ(c.announce(cid, h, 1, 1).action, 1u);
  // Forged ids get an error packet, not silence.
  for (uint64_t forged :
       {uint64_t{0}, cid ^ 1, cid ^ (uint64_t{1} << 40), uint64_t{0x41727101980}}) {
    auto a = c.announce(forged, h, 1, 1);
    EXPECT_EQ(a.action, 3u);
    EXPECT_EQ(a.error, "invalid connection id");
  }
  std::string err;
  EXPECT_TRUE(c.scrape(cid ^ 0xff, {h}, &err).empty());
  EXPECT_EQ(err, "invalid connection id");
  // Another client address cannot use this id.
  UdpClient elsewhere(port, false, "127.0.0.2");
  EXPECT_EQ(elsewhere.announce(cid, h, 1, 1).error, "invalid connection id");
  uint64_t cid2 = elsewhere.connect();
  EXPECT_EQ(elsewhere.announce(cid2, h, 1, 1).action, 1u);
  // After the lifetime it is refused; a new connect works again.
  std::this_thread::sleep_for(std::chrono::milliseconds(4300));
  EXPECT_EQ(c.announce(cid, h, 1, 1).error, "invalid connection id");
  uint64_t fresh = c.connect();
  EXPECT_EQ(c.announce(fresh, h, 1, 1).action, 1u);
  EXPECT_EQ(m.stop(), 0);
}

// The UDP handler keeps what it computed ahead for a datagram (the info hash's keyed hash, the
// answer's random start) by receive-buffer address, and the next batch reuses the buffers: an
// announce refused before its lookup must not lend its hash to the next datagram in that buffer.
TEST(Tracker, RefusedAnnounceLendsNothingToTheNextDatagram) {
  Instance m(section());
  ASSERT_TRUE(m.start()) << m.log();
  UdpClient c(m.port("t"));
  const uint64_t cid = c.connect();
  ASSERT_NE(cid, 0u);
  Hash refused(41), taken(42);
  for (uint16_t port = 1; port <= 20; ++port) {
    EXPECT_EQ(c.announce(cid ^ 1, refused, port, 1).error, "invalid connection id");
    EXPECT_EQ(c.announce(cid, taken, port, 1).leechers, port);
  }
  EXPECT_EQ(c.scrape(cid, {refused, taken}), (std::vector<uint32_t>{0, 0, 0, 0, 0, 20}));
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, Ipv6PeersAreEighteenBytes) {
  Instance m(section());
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port, true);
  uint64_t cid = c.connect();
  ASSERT_NE(cid, 0u);
  Hash h(4);
  c.announce(cid, h, 7001, 10);
  auto a = c.announce(cid, h, 7002, 10);
  ASSERT_EQ(a.action, 1u) << a.error;
  ASSERT_EQ(a.peers.size(), 1u);
  EXPECT_EQ(a.peers[0].size(), 18u);
  std::string loop6(16, '\0');
  loop6[15] = 1;
  EXPECT_EQ(a.peers[0].substr(0, 16), loop6);
  EXPECT_EQ(static_cast<uint8_t>(a.peers[0][16]) << 8 | static_cast<uint8_t>(a.peers[0][17]), 7001);
  // IPv4 and IPv6 peers share the counts but each family gets its own kind of peer.
  UdpClient c4(port);
  auto a4 = c4.announce(c4.connect(), h, 7003, 10);
  EXPECT_EQ(a4.leechers, 3u);
  EXPECT_TRUE(a4.peers.empty());
  // HTTP over IPv6: compact peers6.
  bencode::Value v;
  ASSERT_TRUE(bencode::decode(httpGet(port, announceQuery(h, 7004, 10), true), v));
  ASSERT_NE(v.get("peers6"), nullptr);
  EXPECT_EQ(v.get("peers6")->string.size(), 2u * 18);
  EXPECT_EQ(v.get("incomplete")->integer, 4);
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, NumwantIsHonouredAndCapped) {
  Instance m(section("default_numwant = 7\nmax_numwant = 12\ntrust_ip_param = on\n"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  uint64_t cid = c.connect();
  Hash h(5);
  for (int i = 0; i < 40; ++i)
    ASSERT_EQ(c.announce(cid, h, static_cast<uint16_t>(3000 + i), 1).action, 1u);
  EXPECT_EQ(c.announce(cid, h, 3000, 1, 0, 5).peers.size(), 5u);
  EXPECT_EQ(c.announce(cid, h, 3000, 1, 0, -1).peers.size(), 7u);
  EXPECT_EQ(c.announce(cid, h, 3000, 1, 0, 1000).peers.size(), 12u);
  EXPECT_EQ(c.announce(cid, h, 3000, 1, 0, 0).peers.size(), 0u);
  // Random choice: repeated announces see different peers, never duplicates, never themselves.
  std::set<std::string> seen;
  for (int k = 0; k < 10; ++k) {
    auto a = c.announce(cid, h, 3000, 1, 0, 5);
    std::set<std::string> once(a.peers.begin(), a.peers.end());
    EXPECT_EQ(once.size(), a.peers.size());
    for (auto& p : a.peers) {
      EXPECT_NE(static_cast<uint8_t>(p[4]) << 8 | static_cast<uint8_t>(p[5]), 3000);
      seen.insert(p);
    }
  }
  EXPECT_GT(seen.size(), 10u);
  bencode::Value v;
  ASSERT_TRUE(bencode::decode(httpGet(port, announceQuery(h, 3001, 1, "&numwant=500")), v));
  EXPECT_EQ(v.get("peers")->string.size(), 12u * 6);
  // trust_ip_param: the ip= parameter replaces the connection's address.
  ASSERT_TRUE(bencode::decode(httpGet(port, announceQuery(h, 3002, 1, "&ip=10.1.2.3")), v));
  EXPECT_NE(httpGet(port, "/swarm?info_hash=" + h.hex()).find("peer 10.1.2.3:3002 leecher"),
            std::string::npos);
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, StoppedCompletedAndExpiry) {
  Instance m(
      section("interval = 1s\nmin_interval = 1s\npeer_timeout = 2s\nclean_interval = 300ms\n"
              "torrent_timeout = 6s\n"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  uint64_t cid = c.connect();
  Hash h(6);
  c.announce(cid, h, 1, 100, 2);
  c.announce(cid, h, 2, 100, 2);
  auto a = c.announce(cid, h, 1, 0, 1);  // completed
  EXPECT_EQ(a.seeders, 1u);
  EXPECT_EQ(a.leechers, 1u);
  c.announce(cid, h, 1, 0, 1);  // a repeated completed is not a second download
  auto s = c.scrape(cid, {h});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], 1u);
  a = c.announce(cid, h, 2, 100, 3);  // stopped
  EXPECT_EQ(a.leechers, 0u);
  EXPECT_TRUE(a.peers.empty());
  s = c.scrape(cid, {h});
  EXPECT_EQ(s[0], 1u);
  EXPECT_EQ(s[2], 0u);
  // HTTP completed counts too, and scrape shows downloaded.
  httpGet(port, announceQuery(h, 9, 0, "&event=completed"));
  bencode::Value v;
  ASSERT_TRUE(bencode::decode(httpGet(port, "/scrape?info_hash=" + h.encoded()), v)) << "scrape";
  auto* f = v.get("files")->get(std::string(reinterpret_cast<const char*>(h.b), 20));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->get("downloaded")->integer, 2);
  EXPECT_EQ(f->get("complete")->integer, 2);
  // Peers expire after peer_timeout; the empty torrent keeps its completed count until
  // torrent_timeout after its last announce, then it is reclaimed.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  s = c.scrape(cid = c.connect(), {h});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0] + s[2], 0u);
  EXPECT_EQ(s[1], 2u);
  auto stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  // Column widths follow the longest counter name: match the values, not the padding.
  EXPECT_TRUE(std::regex_search(stats, std::regex(R"(\btorrents \(gauge\) +1\n)"))) << stats;
  EXPECT_TRUE(std::regex_search(stats, std::regex(R"(\bpeers \(gauge\) +0\n)"))) << stats;
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  s = c.scrape(cid = c.connect(), {h});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0] + s[1] + s[2], 0u);
  stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  EXPECT_TRUE(std::regex_search(stats, std::regex(R"(\btorrents \(gauge\) +0\n)"))) << stats;
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, AccessListAllowDenyAndReload) {
  Hash allowed(7), other(8);
  Instance m(section("access_list = allow\naccess_list_file = {dir}/list\n"));
  writeFile(m.path("list"), "# allowed\n" + allowed.hex() + "\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  uint64_t cid = c.connect();
  EXPECT_EQ(c.announce(cid, allowed, 1, 1).action, 1u);
  EXPECT_EQ(c.announce(cid, other, 1, 1).error, "torrent not allowed");
  bencode::Value v;
  ASSERT_TRUE(bencode::decode(httpGet(port, announceQuery(other, 1, 1)), v));
  EXPECT_EQ(v.get("failure reason")->string, "torrent not allowed");
  // The file is re-read on SIGHUP; the swarm region (and the connection ids) survive.
  writeFile(m.path("list"), allowed.hex() + "\n" + other.hex() + "\n");
  m.signal(SIGHUP);
  // Old workers read the same sockets until they have left.
  ASSERT_TRUE(m.waitForLog("generation 1 finished", 8000)) << m.log();
  EXPECT_EQ(c.announce(cid, other, 1, 1).action, 1u);
  EXPECT_EQ(c.announce(cid, allowed, 2, 1).leechers, 2u);
  // Deny mode.
  m.rewriteConfig(section("access_list = deny\naccess_list_file = {dir}/list\nfull_scrape = on\n"));
  writeFile(m.path("list"), other.hex() + "\n");
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForLog("generation 2 finished", 8000)) << m.log();
  EXPECT_EQ(c.announce(cid, other, 1, 1).error, "torrent not allowed");
  EXPECT_EQ(c.announce(cid, allowed, 3, 1).action, 1u);
  // `other` still has peers in the swarms, but a full scrape leaves out what is now denied.
  ASSERT_TRUE(bencode::decode(httpGet(port, "/scrape"), v));
  auto& files = v.get("files")->dict;
  EXPECT_EQ(files.count(std::string(reinterpret_cast<const char*>(allowed.b), 20)), 1u);
  EXPECT_EQ(files.count(std::string(reinterpret_cast<const char*>(other.b), 20)), 0u);
  EXPECT_EQ(files.size(), 1u);
  // A bad list is refused and the running one stays.
  writeFile(m.path("list"), "not a hash\n");
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForLog("reload refused", 8000)) << m.log();
  EXPECT_EQ(c.announce(cid, other, 1, 1).error, "torrent not allowed");
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, HttpAnnounceCompactAndDictionaries) {
  Instance m(section("interval = 600s\nmin_interval = 60s\n"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  Hash h(9);
  bencode::Value v;
  ASSERT_TRUE(bencode::decode(httpGet(port, announceQuery(h, 5001, 0, "&event=started")), v));
  EXPECT_EQ(v.get("complete")->integer, 1);
  EXPECT_EQ(v.get("incomplete")->integer, 0);
  EXPECT_GE(v.get("interval")->integer, 570);
  EXPECT_LE(v.get("interval")->integer, 630);
  EXPECT_EQ(v.get("min interval")->integer, 60);
  EXPECT_EQ(v.get("peers")->string, "");
  ASSERT_TRUE(bencode::decode(httpGet(port, announceQuery(h, 5002, 10, "&compact=1")), v));
  EXPECT_EQ(v.get("peers")->string, std::string("\x7f\0\0\x01\x13\x89", 6));
  ASSERT_TRUE(bencode::decode(httpGet(port, announceQuery(h, 5003, 10, "&compact=0")), v));
  auto& list = v.get("peers")->list;
  ASSERT_EQ(list.size(), 2u);
  std::set<int64_t> ports;
  for (auto& p : list) {
    EXPECT_EQ(p.get("ip")->string, "127.0.0.1");
    ports.insert(p.get("port")->integer);
  }
  EXPECT_EQ(ports, (std::set<int64_t>{5001, 5002}));
  // Failures are bencoded "failure reason"s.
  for (auto [target, reason] : std::vector<std::pair<std::string, std::string>>{
           {"/announce?peer_id=-MF0001-abcdefghijkl&port=1", "missing info_hash"},
           {"/announce?info_hash=abc&peer_id=-MF0001-abcdefghijkl&port=1", "invalid info_hash"},
           {announceQuery(h, 1, 1, "&event=bogus"), "unknown event"},
           {"/scrape", "full scrape is not supported"}}) {
    ASSERT_TRUE(bencode::decode(httpGet(port, target), v)) << target;
    ASSERT_NE(v.get("failure reason"), nullptr) << target;
    EXPECT_EQ(v.get("failure reason")->string, reason);
  }
  // Keep-alive: two requests on one connection, both answered.
  std::string two = "GET " + announceQuery(h, 5004, 1) +
                    " HTTP/1.1\r\nHost: t\r\n\r\nGET /scrape?info_hash=" + h.encoded() +
                    " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  std::string both = rawExchange(port, two);
  size_t first = both.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos) << both;
  EXPECT_NE(both.find("HTTP/1.1 200", first + 1), std::string::npos) << both;
  EXPECT_NE(both.find("8:completei1e10:downloadedi0e10:incompletei3e"), std::string::npos);
  auto r = curl(port, "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, ScrapeManyHashes) {
  Instance m(section("max_scrape_hashes = 100\n"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  uint64_t cid = c.connect();
  std::vector<Hash> hashes;
  for (int i = 0; i < 120; ++i) hashes.emplace_back(100 + i);
  for (int i = 0; i < 120; i += 3)
    c.announce(cid, hashes[i], static_cast<uint16_t>(i + 1), i % 2 ? 0 : 5, 1);
  // UDP: capped at 100 hashes.
  auto s = c.scrape(cid, hashes);
  ASSERT_EQ(s.size(), 300u);
  for (int i = 0; i < 100; ++i) {
    const bool present = i % 3 == 0;
    EXPECT_EQ(s[i * 3] + s[i * 3 + 2], present ? 1u : 0u) << i;
    EXPECT_EQ(s[i * 3 + 1], present ? 1u : 0u) << i;
  }
  // HTTP: many info_hash parameters.
  std::string q = "/scrape?";
  for (int i = 0; i < 60; ++i) q += "info_hash=" + hashes[i].encoded() + "&";
  bencode::Value v;
  ASSERT_TRUE(bencode::decode(httpGet(port, q), v));
  auto& files = v.get("files")->dict;
  EXPECT_EQ(files.size(), 60u);
  int64_t downloaded = 0;
  for (auto& [k, f] : files) downloaded += f.get("downloaded")->integer;
  EXPECT_EQ(downloaded, 20);
  EXPECT_EQ(m.stop(), 0);
}

// Full scrape (off by default): every torrent, sorted by raw hash as bencoding requires, minus
// those the access list no longer permits; rebuilt at most once per full_scrape_interval.
TEST(Tracker, FullScrapeListsEveryTorrent) {
  Instance m(section("full_scrape = on\nfull_scrape_interval = 2s\n"), "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  uint64_t cid = c.connect();
  for (int i = 0; i < 5; ++i) c.announce(cid, Hash(300 + i), static_cast<uint16_t>(7000 + i), i, 2);
  c.announce(cid, Hash(302), 7100, 0, 1);  // a second peer (seeder, completed) on one torrent
  std::string body = httpGet(port, "/scrape");
  bencode::Value v;
  ASSERT_TRUE(bencode::decode(body, v)) << body;
  auto& files = v.get("files")->dict;
  ASSERT_EQ(files.size(), 5u);
  std::vector<size_t> at;
  for (int i = 0; i < 5; ++i) {
    Hash h(300 + i);
    const std::string raw(reinterpret_cast<const char*>(h.b), 20);
    ASSERT_TRUE(files.count(raw)) << i;
    at.push_back(body.find("20:" + raw));
    const bool both = i == 2;
    EXPECT_EQ(files.at(raw).get("complete")->integer, (i == 0) + both) << i;
    EXPECT_EQ(files.at(raw).get("incomplete")->integer, i == 0 ? 0 : 1) << i;
    EXPECT_EQ(files.at(raw).get("downloaded")->integer, both ? 1 : 0) << i;
  }
  std::vector<std::pair<std::string, size_t>> order;
  for (int i = 0; i < 5; ++i)
    order.emplace_back(std::string(reinterpret_cast<const char*>(Hash(300 + i).b), 20), at[i]);
  std::sort(order.begin(), order.end());
  for (size_t i = 1; i < order.size(); ++i) EXPECT_LT(order[i - 1].second, order[i].second) << i;
  // A new torrent shows up only once the cached answer is older than the interval.
  c.announce(cid, Hash(399), 7200, 1, 2);
  ASSERT_TRUE(bencode::decode(httpGet(port, "/scrape"), v));
  EXPECT_EQ(v.get("files")->dict.size(), 5u) << "served from the cache";
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  ASSERT_TRUE(bencode::decode(httpGet(port, "/scrape"), v));
  EXPECT_EQ(v.get("files")->dict.size(), 6u);
  EXPECT_EQ(m.stop(), 0);
}

// `manifold-shm swarm HASH` lists one torrent from the shm region, without the tracker's help.
TEST(Tracker, ManifoldShmListsOneSwarm) {
  Instance m(section());
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  UdpClient c(port);
  uint64_t cid = c.connect();
  Hash h(500);
  c.announce(cid, h, 6881, 0, 1);  // completed seeder
  UdpClient c6(port, true);
  c6.announce(c6.connect(), h, 6882, 10, 2);
  const std::string tool = binPath("manifold-shm") + " -n " + m.shmName();
  std::string text = run(tool + " swarm " + h.hex());
  EXPECT_NE(text.find("tracker:t: " + h.hex()), std::string::npos) << text;
  EXPECT_NE(text.find("seeders 1  leechers 1  downloaded 1"), std::string::npos) << text;
  EXPECT_NE(text.find("127.0.0.1:6881  seeder"), std::string::npos) << text;
  EXPECT_NE(text.find("[::1]:6882  leecher"), std::string::npos) << text;
  std::string json = run(tool + " swarm " + h.hex() + " --json");
  EXPECT_NE(json.find("\"known\":true,\"seeders\":1,\"leechers\":1,\"downloaded\":1"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("{\"address\":\"[::1]:6882\",\"seeder\":false"), std::string::npos) << json;
  EXPECT_NE(run(tool + " swarm " + Hash(501).hex()).find("not tracked"), std::string::npos);
  EXPECT_NE(run(tool + " swarm 1234 2>&1").find("not an info hash"), std::string::npos);
  EXPECT_EQ(m.stop(), 0);
}

// Reloads under load: the UDP sockets stay (the master keeps them), old workers answer what
// they received, so the load generator sees no request go unanswered and no error.
TEST(Tracker, HupUnderLoadLosesNoRequest) {
  Instance m(section(), "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  const std::string out = m.path("load.out");
  // A small window (8 in flight) so a timeout can only be a request the reload dropped.
  Background load(binPath("manifold-tracker-load") + " --port " + std::to_string(port) +
                      " --duration 5 --threads 1 --sockets 2 --window 4 --torrents 500",
                  out);
  reloadRepeatedly(m, 3);
  const int status = load.wait(20000);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string report = readFile(out);
  std::smatch r;
  ASSERT_TRUE(std::regex_search(report, r,
                                std::regex(R"(responses/s (\d+) .* errors (\d+) timeouts (\d+))")))
      << report;
  EXPECT_GT(std::stoll(r[1]), 1000) << report;
  EXPECT_EQ(r[2], "0") << report;
  EXPECT_EQ(r[3], "0") << report << m.log();
  EXPECT_TRUE(m.waitForGeneration(4)) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(Tracker, MalformedInputNeverKillsIt) {
  Instance m(section());
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  auto pids = m.workerPids();
  UdpClient c(port);
  uint64_t cid = c.connect();
  // Short packets and a wrong protocol id: silence.
  EXPECT_TRUE(c.exchange({1, 2, 3}, 300).empty());
  std::vector<uint8_t> badConnect(16, 0);
  EXPECT_TRUE(c.exchange(badConnect, 300).empty());
  // A short announce, an unknown action, an unknown event: error packets.
  std::vector<uint8_t> shortAnnounce(60, 0);
  writeBe64(shortAnnounce.data(), cid);
  writeBe32(shortAnnounce.data() + 8, 1);
  auto r = c.exchange(shortAnnounce);
  ASSERT_GE(r.size(), 8u);
  EXPECT_EQ(readBe32(r.data()), 3u);
  std::vector<uint8_t> unknown(16, 0);
  writeBe32(unknown.data() + 8, 9);
  r = c.exchange(unknown);
  ASSERT_GE(r.size(), 8u);
  EXPECT_EQ(readBe32(r.data()), 3u);
  Hash h(10);
  AnnounceFields f;
  f.connectionId = cid;
  f.transactionId = 77;
  f.infoHash = h.b;
  f.event = 7;
  std::vector<uint8_t> p(kAnnounceBytes);
  writeAnnounceRequest(p.data(), p.size(), f);
  EXPECT_EQ(c.parseAnnounce(c.exchange(p)).error, "unknown event");
  // BEP 41 options (as libtorrent sends) are accepted.
  f.event = 2;
  writeAnnounceRequest(p.data(), p.size(), f);
  const uint8_t opts[] = {2, 9, '/', 'a', 'n', 'n', 'o', 'u', 'n', 'c', 'e', 1, 0};
  p.insert(p.end(), opts, opts + sizeof opts);
  EXPECT_EQ(c.parseAnnounce(c.exchange(p)).action, 1u);
  // Oversized datagrams are dropped; random garbage gets silence or an error.
  EXPECT_TRUE(c.exchange(std::vector<uint8_t>(6000, 0x41), 300).empty());
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> junk(1 + i % 130);
    for (auto& b : junk) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = static_cast<uint8_t>(x);
    }
    if (i % 4 == 0 && junk.size() >= 16) writeBe32(junk.data() + 8, static_cast<uint32_t>(i % 3));
    c.exchange(junk, 20);
  }
  // HTTP garbage.
  rawExchange(port, "GET /announce?info_hash=%%%%&port=x HTTP/1.1\r\nHost: t\r\n\r\n", 1000);
  rawExchange(port, std::string(3000, 'A') + "\r\n\r\n", 1000);
  // Still alive, same workers, still answering.
  EXPECT_EQ(c.parseAnnounce(c.exchange(p)).action, 1u);
  EXPECT_EQ(m.workerPids(), pids);
  EXPECT_EQ(m.stop(), 0);
}

TEST(Tracker, ConfigErrorsNameTheKey) {
  std::string dir = makeTempDir();
  auto check = [&](const std::string& body, const std::string& needle) {
    writeFile(dir + "/t.ini", "[master]\nworkers = 1\n[tracker:t]\nlisten = 127.0.0.1:1\n" + body);
    int rc = 0;
    std::string out = run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", &rc);
    EXPECT_NE(rc, 0) << body;
    EXPECT_NE(out.find(needle), std::string::npos) << out;
  };
  check("access_list = allow\n", "access_list_file: required");
  check("access_list = allow\naccess_list_file = " + dir + "/missing\n",
        "access_list_file: cannot read");
  writeFile(dir + "/bad", "xyz\n");
  check("access_list = deny\naccess_list_file = " + dir + "/bad\n",
        "line 1: not a 40-digit hex info hash");
  check("families = ipv5\n", "families:");
  check("min_interval = 2h\n", "min_interval: is longer than interval");
  check("max_numwant = 500\n", "max_numwant");
  check("udp = off\nhttp = off\n", "both off");
  check("memory = 1M\nmax_torrents = 100000\n", "max_torrents");
  check("bogus = 1\n", "bogus");
  run("rm -rf " + dir);
}

TEST(Tracker, SwarmsSurviveAWorkerKilledMidLoad) {
  Instance m(section());
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  Hash h(11);
  UdpClient c(port);
  uint64_t cid = c.connect();
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(c.announce(cid, h, static_cast<uint16_t>(100 + i), 1).action, 1u);
  auto pids = m.workerPids();
  ASSERT_EQ(pids.size(), 2u);
  // Traffic from several sockets while one worker is SIGKILLed (it may die holding a lock).
  std::thread load([&] {
    for (int k = 0; k < 200; ++k) {
      UdpClient x(port);
      uint64_t id = x.connect();
      if (id) x.announce(id, h, static_cast<uint16_t>(1000 + k % 50), 1);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(pids[0], SIGKILL);
  load.join();
  for (int i = 0; i < 50 && (m.workerPids().size() != 2 || m.workerPids() == pids); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(m.workerPids().size(), 2u);
  // State intact: the 20 first peers and the 50 of the load, one swarm, ids still valid.
  auto s = c.scrape(cid, {h});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2], 70u);
  EXPECT_EQ(c.announce(cid, h, 100, 1).leechers, 70u);
  EXPECT_EQ(m.stop(), 0);
}
