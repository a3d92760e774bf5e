// manifold-tracker-load: a UDP (BEP 15) tracker load generator in the manner of aquatic's
// load tester. Threads each drive several sockets with a window of requests in flight
// (sendmmsg/recvmmsg), on behalf of many simulated peers spread over torrents with Pareto
// popularity; the request mix is announces and multi-hash scrapes; connection ids are fetched
// per socket and refreshed when the tracker rejects them. Prints responses per second.
//
//   manifold-tracker-load --port 6969 [--host 127.0.0.1] [--duration 10] [--threads 1]
//       [--sockets 8] [--window 32] [--torrents 10000] [--peers 50000] [--pareto 1.5]
//       [--scrape-weight 1 --announce-weight 5] [--seeders 0.25] [--numwant -1]
//       [--profile churn]
//       [--write-hashes FILE]   (hex info hashes, one a line, for a tracker's whitelist; then exit)
//
// --profile churn (issue 16's workload; later options still override its numbers): 1 thread,
// 8 sockets, 32 in flight per socket, one send() per request instead of sendmmsg; 90% announces,
// 10% scrapes of 1-4 hashes; torrent index = N*u^3 (u uniform) over 10,000 torrents; every
// announce is a new peer (random peer_id and port), a quarter with event=started, a third
// seeders (left = 0), numwant 50. Swarms keep growing until peers expire.
//
// Last line: "responses/s N announce/s N scrape/s N errors N timeouts N peers/announce F
// unanswered N". timeouts: requests given up on after a socket heard nothing for 0.2 s (the
// window is refilled; a late answer still counts); unanswered: requests sent that had no answer
// when the run ended and up to 3 s of draining had passed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protocols/tracker/udp_packet.hpp"
#include "worker/clock.hpp"

using namespace manifold::tracker;
using manifold::clock::monotonicSeconds;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 6969;
  double duration = 10;
  unsigned threads = 1, sockets = 8, window = 32;
  unsigned torrents = 10000, peers = 50000;
  double pareto = 1.5, seeders = 0.25;
  unsigned announceWeight = 5, scrapeWeight = 1;
  int numWant = -1;
  bool churn = false;  // --profile churn: see the header
  std::string writeHashes;
};

void infoHash(unsigned index, uint8_t* out) {
  uint64_t x = index * 0x9e3779b97f4a7c15ull + 0x6d616e69666f6c64ull;
  for (int i = 0; i < 20; i += 8) {
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    uint8_t b[8];
    std::memcpy(b, &x, 8);
    std::memcpy(out + i, b, i + 8 <= 20 ? 8 : 4);
  }
}

struct Totals {
  std::atomic<uint64_t> announces{0}, scrapes{0}, connects{0}, errors{0}, timeouts{0},
      unanswered{0}, peersReturned{0};
};

struct Peer {
  unsigned torrent;
  uint16_t port;
  bool seeder;
  bool started;
};

class Worker {
 public:
  Worker(const Options& o, unsigned id, Totals& totals, const sockaddr_in& server)
      : o_(o), totals_(totals), server_(server), rng_(0x1234567 + id * 7919), pareto_(o.pareto) {
    peers_.resize(o.peers / o.threads + 1);
    for (size_t i = 0; i < peers_.size(); ++i) {
      peers_[i].torrent = pickTorrent();
      peers_[i].port = static_cast<uint16_t>(1024 + (id * peers_.size() + i) % 64000);
      peers_[i].seeder = std::uniform_real_distribution<double>(0, 1)(rng_) < o.seeders;
      peers_[i].started = false;
    }
    for (unsigned s = 0; s < o.sockets; ++s) {
      int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      int size = 4 << 20;
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      ::connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_);
      fds_.push_back(fd);
    }
    cids_.assign(o.sockets, 0);
  }
  ~Worker() {
    for (int fd : fds_) ::close(fd);
  }

  void run(double end) {  // monotonicSeconds() deadline
    const unsigned w = o_.window;
    std::vector<uint8_t> out(w * 1024), in(w * 4096);
    std::vector<iovec> outIov(w), inIov(w);
    std::vector<mmsghdr> outMsg(w), inMsg(w);
    for (unsigned i = 0; i < w; ++i) {
      inIov[i] = {in.data() + i * 4096, 4096};
      std::memset(&inMsg[i], 0, sizeof(mmsghdr));
      inMsg[i].msg_hdr.msg_iov = &inIov[i];
      inMsg[i].msg_hdr.msg_iovlen = 1;
    }
    std::vector<unsigned> inFlight(fds_.size(), 0);
    std::vector<double> lastHeard(fds_.size(), monotonicSeconds());
    std::vector<pollfd> pfds(fds_.size());
    while (monotonicSeconds() < end) {
      // Top up every socket's window.
      for (size_t s = 0; s < fds_.size(); ++s) {
        unsigned n = 0;
        if (!cids_[s]) {
          if (inFlight[s] == 0) {
            outIov[0] = {out.data(), writeConnectRequest(out.data(), 1024, 0xC0)};
            n = 1;
          }
        } else {
          for (; inFlight[s] + n < w; ++n)
            outIov[n] = {out.data() + n * 1024, request(s, out.data() + n * 1024)};
        }
        for (unsigned i = 0; i < n; ++i) {
          std::memset(&outMsg[i], 0, sizeof(mmsghdr));
          outMsg[i].msg_hdr.msg_iov = &outIov[i];
          outMsg[i].msg_hdr.msg_iovlen = 1;
        }
        if (n && o_.churn) {
          for (unsigned i = 0; i < n; ++i)
            if (::send(fds_[s], outIov[i].iov_base, outIov[i].iov_len, MSG_DONTWAIT) > 0)
              ++inFlight[s], ++sent_;
        } else if (n) {
          int sent = ::sendmmsg(fds_[s], outMsg.data(), n, MSG_DONTWAIT);
          if (sent > 0) inFlight[s] += static_cast<unsigned>(sent), sent_ += sent;
        }
        pfds[s] = {fds_[s], POLLIN, 0};
      }
      if (::poll(pfds.data(), pfds.size(), 50) < 0) continue;
      const double now = monotonicSeconds();
      for (size_t s = 0; s < fds_.size(); ++s) {
        if (!(pfds[s].revents & POLLIN)) {
          // Lost datagrams (full buffers): forget the window after a quiet while.
          if (inFlight[s] && now - lastHeard[s] > 0.2) {
            totals_.timeouts += inFlight[s];
            inFlight[s] = 0;
            lastHeard[s] = now;
          }
          continue;
        }
        int got = ::recvmmsg(fds_[s], inMsg.data(), w, MSG_DONTWAIT, nullptr);
        if (got <= 0) continue;
        lastHeard[s] = now;
        received_ += got;
        inFlight[s] -= std::min<unsigned>(inFlight[s], static_cast<unsigned>(got));
        for (int i = 0; i < got; ++i) handle(s, in.data() + i * 4096, inMsg[i].msg_len);
      }
    }
    // Drain what is still on its way (not counted in the rates), then count what never came.
    for (const double stop = monotonicSeconds() + 3;
         received_ < sent_ && monotonicSeconds() < stop;) {
      for (size_t s = 0; s < fds_.size(); ++s) pfds[s] = {fds_[s], POLLIN, 0};
      if (::poll(pfds.data(), pfds.size(), 50) <= 0) continue;
      for (size_t s = 0; s < fds_.size(); ++s) {
        const int got = ::recvmmsg(fds_[s], inMsg.data(), w, MSG_DONTWAIT, nullptr);
        if (got > 0) received_ += got;
      }
    }
    totals_.unanswered += sent_ - std::min(sent_, received_);
  }

 private:
  unsigned pickTorrent() {
    if (o_.churn) {  // index = N * u^3: a few swarms grow large
      const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
      return std::min(o_.torrents - 1, static_cast<unsigned>(o_.torrents * u * u * u));
    }
    // Pareto-distributed rank: a few torrents take most of the traffic.
    const double u = std::uniform_real_distribution<double>(1e-12, 1.0)(rng_);
    const double x = std::pow(u, -1.0 / pareto_) - 1.0;  // >= 0, heavy tail
    return static_cast<unsigned>(std::fmod(x * o_.torrents / 20.0, o_.torrents));
  }

  size_t request(size_t s, uint8_t* buf) {
    const unsigned total = o_.announceWeight + o_.scrapeWeight;
    if (rng_() % total < o_.scrapeWeight) {
      uint8_t hashes[10 * 20];
      const unsigned n = 1 + rng_() % (o_.churn ? 4 : 10);
      for (unsigned i = 0; i < n; ++i) infoHash(pickTorrent(), hashes + i * 20);
      return writeScrapeRequest(buf, 1024, cids_[s], 0x5C, {hashes, n * 20});
    }
    if (o_.churn) return newPeerAnnounce(s, buf);
    Peer& p = peers_[rng_() % peers_.size()];
    uint8_t hash[20], peerId[20] = {'-', 'M', 'L', '0', '0', '0', '1', '-'};
    infoHash(p.torrent, hash);
    std::memcpy(peerId + 8, &p, sizeof(uint16_t) * 2);
    AnnounceFields f;
    f.connectionId = cids_[s];
    f.transactionId = 0xA0;
    f.infoHash = hash;
    f.peerId = peerId;
    f.left = p.seeder ? 0 : 1000;
    f.event = p.started ? 0 : 2;
    p.started = true;
    f.numWant = o_.numWant;
    f.port = p.port;
    f.key = p.port;
    return writeAnnounceRequest(buf, 1024, f);
  }

  // A peer never seen before: random peer_id and port.
  size_t newPeerAnnounce(size_t s, uint8_t* buf) {
    uint8_t hash[20], peerId[20];
    infoHash(pickTorrent(), hash);
    for (int i = 0; i < 20; i += 8) {
      const uint64_t r = rng_();
      std::memcpy(peerId + i, &r, i + 8 <= 20 ? 8 : 4);
    }
    const uint64_t r = rng_();
    AnnounceFields f;
    f.connectionId = cids_[s];
    f.transactionId = 0xA0;
    f.infoHash = hash;
    f.peerId = peerId;
    f.port = static_cast<uint16_t>(1 + r % 65535);
    f.key = static_cast<uint32_t>(r >> 16);
    f.left = (r >> 48) % 3 == 0 ? 0 : 1000;  // a third are seeders
    f.event = (r >> 56) % 4 == 0 ? 2 : 0;    // a quarter say started
    f.numWant = o_.numWant;
    return writeAnnounceRequest(buf, 1024, f);
  }

  void handle(size_t s, const uint8_t* d, size_t n) {
    if (n < 8) return;
    switch (readBe32(d)) {
      case 0:
        if (n >= 16) cids_[s] = readBe64(d + 8);
        ++totals_.connects;
        break;
      case 1:
        ++totals_.announces;
        if (n >= 20) totals_.peersReturned += (n - 20) / 6;
        break;
      case 2:
        ++totals_.scrapes;
        break;
      default:
        ++totals_.errors;
        if (n >= 29 && std::memcmp(d + 8, "invalid connection id", 21) == 0) cids_[s] = 0;
        break;
    }
  }

  const Options& o_;
  Totals& totals_;
  sockaddr_in server_;
  std::mt19937_64 rng_;
  double pareto_;
  std::vector<Peer> peers_;
  std::vector<int> fds_;
  std::vector<uint64_t> cids_;
  uint64_t sent_ = 0, received_ = 0;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: manifold-tracker-load --port N [--host A] [--duration S] [--threads N] "
               "[--sockets N]\n"
               "       [--window N] [--torrents N] [--peers N] [--pareto F] [--announce-weight N]\n"
               "       [--scrape-weight N] [--seeders F] [--numwant N] [--profile churn]\n"
               "       [--write-hashes FILE]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    std::string v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = std::stoi(v);
    else if (a == "--duration")
      o.duration = std::stod(v);
    else if (a == "--threads")
      o.threads = std::max(1, std::stoi(v));
    else if (a == "--sockets")
      o.sockets = std::max(1, std::stoi(v));
    else if (a == "--window")
      o.window = std::clamp(std::stoi(v), 1, 1024);
    else if (a == "--torrents")
      o.torrents = std::max(1, std::stoi(v));
    else if (a == "--peers")
      o.peers = std::max(1, std::stoi(v));
    else if (a == "--pareto")
      o.pareto = std::stod(v);
    else if (a == "--announce-weight")
      o.announceWeight = std::stoi(v);
    else if (a == "--scrape-weight")
      o.scrapeWeight = std::stoi(v);
    else if (a == "--seeders")
      o.seeders = std::stod(v);
    else if (a == "--numwant")
      o.numWant = std::stoi(v);
    else if (a == "--profile" && v == "churn") {
      o.churn = true;
      o.threads = 1, o.sockets = 8, o.window = 32, o.torrents = 10000;
      o.announceWeight = 9, o.scrapeWeight = 1, o.numWant = 50;
    } else if (a == "--write-hashes")
      o.writeHashes = v;
    else
      usage();
  }
  if (o.announceWeight + o.scrapeWeight == 0) usage();
  if (!o.writeHashes.empty()) {
    std::ofstream f(o.writeHashes);
    uint8_t h[20];
    for (unsigned t = 0; t < o.torrents; ++t) {
      infoHash(t, h);
      char hex[41];
      for (int i = 0; i < 20; ++i) std::snprintf(hex + 2 * i, 3, "%02x", h[i]);
      f << hex << "\n";
    }
    return f ? 0 : 1;
  }
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &server.sin_addr) != 1) usage();

  Totals totals;
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < o.threads; ++t)
    workers.push_back(std::make_unique<Worker>(o, t, totals, server));
  const double start = monotonicSeconds();
  const double end = start + o.duration;
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w, end] { w->run(end); });
  for (auto& t : threads) t.join();
  const double secs = o.duration;  // the drain after the deadline is not part of the rates
  const uint64_t a = totals.announces, s = totals.scrapes, e = totals.errors;
  std::printf(
      "responses/s %.0f announce/s %.0f scrape/s %.0f errors %llu timeouts %llu peers/announce "
      "%.1f unanswered %llu\n",
      (a + s + e + totals.connects) / secs, a / secs, s / secs, static_cast<unsigned long long>(e),
      static_cast<unsigned long long>(totals.timeouts.load()),
      a ? double(totals.peersReturned) / a : 0.0,
      static_cast<unsigned long long>(totals.unanswered.load()));
  return 0;
}
