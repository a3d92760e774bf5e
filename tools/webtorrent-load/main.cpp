// manifold-webtorrent-load: a WebTorrent (WebSocket) tracker load generator. Many simulated
// browser peers, each a WebSocket connection, join swarms; the active ones announce with offers,
// every peer answers each offer it receives (as a browser would), and an active peer announces
// again once all its offers are answered (or after a second). Single-threaded, epoll.
//
//   manifold-webtorrent-load --port 8000 [--host 127.0.0.1] [--path /announce] [--duration 10]
//       [--peers 1000] [--active 200] [--torrents 50] [--offers 5] [--sdp 400]
//   manifold-webtorrent-load --port 8000 --idle 50000 [--hold 5] [--sources 4]
//       (opens N connections that announce once and stay idle, spread over 127.0.0.1..N source
//        addresses; prints "idle N connected N", holds them --hold seconds, then exits)
//
// Last line: "relayed/s N offers/s N answers/s N p50_ms F p99_ms F errors N" — relayed counts
// offers and answers delivered to peers; latency is from sending an offer to receiving its answer
// (two relays and one answering peer).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/websocket_frame.hpp"
#include "worker/clock.hpp"

namespace ws = manifold::http::ws;
using manifold::clock::monotonicSeconds;

namespace {

struct Options {
  std::string host = "127.0.0.1", path = "/announce";
  int port = 0;
  double duration = 10, hold = 5;
  unsigned peers = 1000, active = 200, torrents = 50, offers = 5, sdp = 400, idle = 0, sources = 4;
};

const uint8_t kMask[4] = {0x1b, 0x2c, 0x3d, 0x4e};

// Ids are ASCII (20 characters), so replies can be read by plain string search.
std::string idOf(char tag, unsigned n) {
  char b[21];
  std::snprintf(b, sizeof b, "%c%019u", tag, n);
  return std::string(b, 20);
}

std::string fieldOf(std::string_view json, std::string_view key) {
  std::string k = "\"" + std::string(key) + "\":\"";
  size_t at = json.find(k);
  if (at == std::string_view::npos) return {};
  at += k.size();
  return std::string(json.substr(at, 20));
}

struct Peer {
  int fd = -1;
  unsigned index = 0;
  bool open = false, handshaken = false, active = false;
  std::string in, out;
  std::string hash, id;
  unsigned waiting = 0;  // answers outstanding for the last announce
  double announcedAt = 0;
  std::vector<double> offerTimes;  // by offer number within this peer's announce
  unsigned round = 0;
};

struct Stats {
  uint64_t offers = 0, answers = 0, errors = 0;
  std::vector<double> latencies;
};

class Load {
 public:
  explicit Load(const Options& o) : o_(o) { ep_ = epoll_create1(0); }

  bool openAll(unsigned count) {
    peers_.resize(count);
    for (unsigned i = 0; i < count; ++i) {
      Peer& p = peers_[i];
      p.index = i;
      p.hash = idOf('h', i % std::max(1u, o_.torrents));
      p.id = idOf('p', i);
      p.active = i < o_.active;
      p.offerTimes.assign(o_.offers, 0);
      p.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (p.fd < 0) return fail("socket");
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl(0x7f000001u + i % std::max(1u, o_.sources));
      ::bind(p.fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(o_.port));
      inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr);
      int one = 1;
      setsockopt(p.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(p.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
        return fail("connect");
      p.open = true;
      p.out = "GET " + o_.path + " HTTP/1.1\r\nHost: " + o_.host +
              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT;
      ev.data.u32 = i;
      epoll_ctl(ep_, EPOLL_CTL_ADD, p.fd, &ev);
      // Let the backlog drain while opening many.
      if (i % 256 == 255) poll(0);
    }
    return true;
  }

  // Runs the event loop until `until` (monotonic seconds).
  void runUntil(double until) {
    while (monotonicSeconds() < until) {
      poll(10);
      const double now = monotonicSeconds();
      if (measuring_)
        for (unsigned i = 0; i < o_.active && i < peers_.size(); ++i) {
          Peer& p = peers_[i];
          if (p.handshaken && p.waiting && now - p.announcedAt > 1.0) announce(p, now);
        }
    }
  }

  void startMeasuring() {
    measuring_ = true;
    stats_ = Stats{};
    const double now = monotonicSeconds();
    for (unsigned i = 0; i < o_.active && i < peers_.size(); ++i)
      if (peers_[i].handshaken) announce(peers_[i], now);
  }

  unsigned connected() const {
    unsigned n = 0;
    for (const Peer& p : peers_) n += p.handshaken;
    return n;
  }
  Stats& stats() { return stats_; }

 private:
  bool fail(const char* what) {
    std::fprintf(stderr, "webtorrent-load: %s: %s\n", what, std::strerror(errno));
    return false;
  }

  void send(Peer& p, std::string_view json) {
    ws::appendMaskedFrame(p.out, 0x81, json, kMask);
    flush(p);
  }

  void flush(Peer& p) {
    while (!p.out.empty()) {
      const ssize_t n = ::send(p.fd, p.out.data(), p.out.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      p.out.erase(0, static_cast<size_t>(n));
    }
  }

  void announce(Peer& p, double now) {
    std::string j = R"({"action":"announce","info_hash":")" + p.hash + R"(","peer_id":")" + p.id +
                    R"(","numwant":)" + std::to_string(o_.offers) +
                    R"(,"uploaded":0,"downloaded":0,"left":1000,"offers":[)";
    ++p.round;
    for (unsigned k = 0; k < o_.offers; ++k) {
      if (k) j += ",";
      // offer id: peer index, round and offer number, so the answer finds its send time.
      char oid[48];
      std::snprintf(oid, sizeof oid, "o%07u%06u%06u", p.index % 10000000, p.round % 1000000, k);
      j += R"({"offer_id":")" + std::string(oid, 20) + R"(","offer":{"type":"offer","sdp":")" +
           std::string(o_.sdp, 'v') + "\"}}";
      p.offerTimes[k] = now;
    }
    j += "]}";
    p.waiting = o_.offers;
    p.announcedAt = now;
    send(p, j);
  }

  void joinOnce(Peer& p) {
    send(p, R"({"action":"announce","info_hash":")" + p.hash + R"(","peer_id":")" + p.id +
                R"(","numwant":0,"left":1000,"event":"started","offers":[]})");
  }

  void onMessage(Peer& p, std::string_view msg) {
    const double now = monotonicSeconds();
    if (msg.find("\"offer\":") != std::string_view::npos) {
      ++stats_.offers;
      const std::string from = fieldOf(msg, "peer_id"), oid = fieldOf(msg, "offer_id");
      send(p, R"({"action":"announce","info_hash":")" + p.hash + R"(","peer_id":")" + p.id +
                  R"(","to_peer_id":")" + from + R"(","offer_id":")" + oid +
                  R"(","answer":{"type":"answer","sdp":")" + std::string(o_.sdp, 'a') + "\"}}");
    } else if (msg.find("\"answer\":") != std::string_view::npos) {
      ++stats_.answers;
      const std::string oid = fieldOf(msg, "offer_id");
      const unsigned round = static_cast<unsigned>(std::atoi(oid.substr(8, 6).c_str()));
      const unsigned k = static_cast<unsigned>(std::atoi(oid.substr(14, 6).c_str()));
      if (round == p.round % 1000000 && k < p.offerTimes.size()) {
        if (measuring_) stats_.latencies.push_back(now - p.offerTimes[k]);
        if (p.waiting && --p.waiting == 0 && measuring_) announce(p, now);
      }
    } else if (msg.find("failure reason") != std::string_view::npos) {
      ++stats_.errors;
    }
  }

  void onReadable(Peer& p) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN)) return closePeer(p);
      if (n < 0) break;
      p.in.append(buf, static_cast<size_t>(n));
    }
    if (!p.handshaken) {
      const size_t end = p.in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      if (p.in.rfind("HTTP/1.1 101", 0) != 0) return closePeer(p);
      p.in.erase(0, end + 4);
      p.handshaken = true;
      joinOnce(p);
    }
    ws::FrameLimits limits;
    limits.fromClient = false;
    limits.maxFrame = limits.maxMessage = 1 << 24;
    size_t at = 0;
    for (;;) {
      ws::FrameHeader h;
      std::string_view rest(p.in.data() + at, p.in.size() - at);
      ws::FrameResult r = ws::parseFrameHeader(rest, limits, h);
      if (r.status == ws::FrameStatus::Error) return closePeer(p);
      if (r.status != ws::FrameStatus::Ok || rest.size() < h.headerBytes + h.payloadBytes) break;
      if (h.opcode == ws::kText) onMessage(p, rest.substr(h.headerBytes, h.payloadBytes));
      if (!p.open) return;
      at += h.headerBytes + h.payloadBytes;
    }
    p.in.erase(0, at);
  }

  void closePeer(Peer& p) {
    if (!p.open) return;
    ++stats_.errors;
    epoll_ctl(ep_, EPOLL_CTL_DEL, p.fd, nullptr);
    ::close(p.fd);
    p.open = p.handshaken = false;
  }

  void poll(int timeoutMs) {
    epoll_event events[256];
    const int n = epoll_wait(ep_, events, 256, timeoutMs);
    for (int i = 0; i < n; ++i) {
      Peer& p = peers_[events[i].data.u32];
      if (!p.open) continue;
      if (events[i].events & EPOLLOUT) {
        flush(p);
        if (p.out.empty()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u32 = p.index;
          epoll_ctl(ep_, EPOLL_CTL_MOD, p.fd, &ev);
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) onReadable(p);
    }
  }

  const Options& o_;
  int ep_;
  std::vector<Peer> peers_;
  Stats stats_;
  bool measuring_ = false;
};

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--host")
      o.host = v;
    else if (k == "--path")
      o.path = v;
    else if (k == "--port")
      o.port = std::atoi(v);
    else if (k == "--duration")
      o.duration = std::atof(v);
    else if (k == "--hold")
      o.hold = std::atof(v);
    else if (k == "--peers")
      o.peers = static_cast<unsigned>(std::atoi(v));
    else if (k == "--active")
      o.active = static_cast<unsigned>(std::atoi(v));
    else if (k == "--torrents")
      o.torrents = static_cast<unsigned>(std::atoi(v));
    else if (k == "--offers")
      o.offers = static_cast<unsigned>(std::atoi(v));
    else if (k == "--sdp")
      o.sdp = static_cast<unsigned>(std::atoi(v));
    else if (k == "--idle")
      o.idle = static_cast<unsigned>(std::atoi(v));
    else if (k == "--sources")
      o.sources = static_cast<unsigned>(std::atoi(v));
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (!o.port) {
    std::fprintf(stderr, "usage: %s --port N [options] (see the source's header)\n", argv[0]);
    return 2;
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  Load load(o);
  if (o.idle) {
    o.active = 0;
    if (!load.openAll(o.idle)) return 1;
    const double start = monotonicSeconds();
    while (load.connected() < o.idle && monotonicSeconds() - start < 60)
      load.runUntil(monotonicSeconds() + 0.2);
    std::printf("idle %u connected %u\n", o.idle, load.connected());
    std::fflush(stdout);
    load.runUntil(monotonicSeconds() + o.hold);
    return load.connected() == o.idle ? 0 : 1;
  }
  if (!load.openAll(o.peers)) return 1;
  const double start = monotonicSeconds();
  while (load.connected() < o.peers && monotonicSeconds() - start < 30)
    load.runUntil(monotonicSeconds() + 0.1);
  if (load.connected() < o.peers) {
    std::fprintf(stderr, "webtorrent-load: %u of %u peers connected\n", load.connected(), o.peers);
    return 1;
  }
  load.runUntil(monotonicSeconds() + 0.3);  // joins answered
  load.startMeasuring();
  const double t0 = monotonicSeconds();
  load.runUntil(t0 + o.duration);
  const double secs = monotonicSeconds() - t0;
  Stats& s = load.stats();
  std::printf("relayed/s %.0f offers/s %.0f answers/s %.0f p50_ms %.2f p99_ms %.2f errors %llu\n",
              static_cast<double>(s.offers + s.answers) / secs,
              static_cast<double>(s.offers) / secs, static_cast<double>(s.answers) / secs,
              percentile(s.latencies, 0.5) * 1000, percentile(s.latencies, 0.99) * 1000,
              static_cast<unsigned long long>(s.errors));
  return 0;
}
