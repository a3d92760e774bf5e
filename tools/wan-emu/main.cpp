// manifold-wan-emu: a userspace WAN emulator for test beds on kernels without netem. It bridges
// two network interfaces at layer 2 (AF_PACKET sockets, one per interface, every frame of one
// sent out of the other), and on the way adds, in each direction: a rate limit with a
// drop-tail queue (a frame leaves when the previous one has been "serialised" at the rate), a
// fixed one-way delay, and random loss from a seeded generator. Run it in a middle network
// namespace between two veth pairs; turn offloads off on the veths (ethtool -K DEV tso off gso
// off gro off tx off rx off) so frames are never larger than the MTU and carry real checksums.
//
//   manifold-wan-emu --a IFACE --b IFACE [--delay MS] [--loss PCT] [--rate MBIT]
//                    [--queue BYTES] [--seed N]
//
//   --delay  one-way delay in milliseconds, each direction (RTT = 2 x delay); default 0
//   --loss   random loss in percent, each direction, applied to every frame; default 0
//   --rate   rate limit in Mbit/s, each direction, counting Ethernet frames; 0 = none (default)
//   --queue  bytes that may wait for the rate limiter before frames are dropped; default one
//            bandwidth-delay product (rate x 2 x delay), at least 64 KiB
//   --seed   seed of the loss generator; default 1
//
// Counters (frames and bytes received and forwarded, dropped by loss and by the queue, per
// direction) go to stderr on SIGUSR1 and at exit (SIGTERM/SIGINT). Frames wait in a byte ring
// per direction (FIFO: the rate limiter and a fixed delay keep them in order), so memory is
// fixed.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string a, b;
  double delayMs = 0, lossPct = 0, rateMbit = 0;
  long long queue = -1;
  unsigned long long seed = 1;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: manifold-wan-emu --a IFACE --b IFACE [--delay MS] [--loss PCT] "
               "[--rate MBIT] [--queue BYTES] [--seed N]\n");
  std::exit(2);
}

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

volatile sig_atomic_t gStop = 0, gDump = 0;

// Frames waiting in one direction: [release time (8) | length (4) | frame] records in a ring.
class Ring {
 public:
  explicit Ring(size_t bytes) : buf_(bytes) {}
  bool push(uint64_t release, const uint8_t* frame, uint32_t len) {
    size_t need = 12 + len;
    if (used_ + need > buf_.size()) return false;
    if (tail_ + need > buf_.size()) {  // never split a record: skip to the start
      if (head_ < need && used_ > 0) return false;
      wasted_ = buf_.size() - tail_;
      used_ += wasted_;
      tail_ = 0;
    }
    std::memcpy(&buf_[tail_], &release, 8);
    std::memcpy(&buf_[tail_ + 8], &len, 4);
    std::memcpy(&buf_[tail_ + 12], frame, len);
    tail_ += need;
    used_ += need;
    ++count_;
    return true;
  }
  bool empty() const { return count_ == 0; }
  uint64_t frontRelease() const {
    uint64_t t;
    std::memcpy(&t, &buf_[head_], 8);
    return t;
  }
  const uint8_t* front(uint32_t& len) const {
    std::memcpy(&len, &buf_[head_ + 8], 4);
    return &buf_[head_ + 12];
  }
  void pop() {
    uint32_t len;
    std::memcpy(&len, &buf_[head_ + 8], 4);
    head_ += 12 + len;
    used_ -= 12 + len;
    --count_;
    if (count_ == 0) {
      head_ = tail_ = used_ = wasted_ = 0;
    } else if (head_ == buf_.size() - wasted_ && wasted_ > 0) {
      used_ -= wasted_;
      wasted_ = 0;
      head_ = 0;
    }
  }

 private:
  std::vector<uint8_t> buf_;
  size_t head_ = 0, tail_ = 0, used_ = 0, wasted_ = 0, count_ = 0;
};

struct Direction {
  const char* name;
  int in = -1, out = -1;
  Ring ring{32u << 20};
  uint64_t busyUntil = 0;                    // ns: when the rate limiter is free
  uint64_t received = 0, receivedBytes = 0;  // everything offered to the link
  uint64_t forwarded = 0, bytes = 0, lost = 0, queueDrops = 0, ringDrops = 0, sendErrors = 0;
};

int openPacketSocket(const std::string& ifname) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) {
    std::fprintf(stderr, "wan-emu: no interface %s\n", ifname.c_str());
    std::exit(1);
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    std::perror("wan-emu: socket(AF_PACKET)");
    std::exit(1);
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = int(index);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    std::perror("wan-emu: bind");
    std::exit(1);
  }
  int one = 1, size = 8 << 20;
  // Our own transmissions on this interface must not come back as input.
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  return fd;
}

void dump(const Direction* d, int n) {
  for (int i = 0; i < n; ++i)
    std::fprintf(stderr,
                 "wan-emu %s: received %llu frames %llu bytes, forwarded %llu frames %llu bytes, "
                 "lost %llu, queue drops %llu, ring drops %llu, send errors %llu\n",
                 d[i].name, (unsigned long long)d[i].received,
                 (unsigned long long)d[i].receivedBytes, (unsigned long long)d[i].forwarded,
                 (unsigned long long)d[i].bytes, (unsigned long long)d[i].lost,
                 (unsigned long long)d[i].queueDrops, (unsigned long long)d[i].ringDrops,
                 (unsigned long long)d[i].sendErrors);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (k == "--a")
      o.a = v;
    else if (k == "--b")
      o.b = v;
    else if (k == "--delay")
      o.delayMs = std::atof(v);
    else if (k == "--loss")
      o.lossPct = std::atof(v);
    else if (k == "--rate")
      o.rateMbit = std::atof(v);
    else if (k == "--queue")
      o.queue = std::atoll(v);
    else if (k == "--seed")
      o.seed = std::strtoull(v, nullptr, 10);
    else
      usage();
  }
  if (o.a.empty() || o.b.empty() || o.delayMs < 0 || o.lossPct < 0 || o.lossPct > 100 ||
      o.rateMbit < 0)
    usage();
  const uint64_t delayNs = uint64_t(o.delayMs * 1e6);
  const double nsPerByte = o.rateMbit > 0 ? 8e3 / o.rateMbit : 0;
  if (o.queue < 0) {
    double bdp = o.rateMbit * 1e6 / 8 * (2 * o.delayMs / 1e3);
    o.queue = (long long)(bdp > 65536 ? bdp : 65536);
  }
  const double loss = o.lossPct / 100;

  struct sigaction sa {};
  sa.sa_handler = [](int s) { (s == SIGUSR1 ? gDump : gStop) = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
  // The signals are only let in during ppoll: one arriving between the flag checks and ppoll
  // would otherwise wait for the next frame, forever on an idle link.
  sigset_t blocked, waiting;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGUSR1);
  sigprocmask(SIG_BLOCK, &blocked, &waiting);

  int fa = openPacketSocket(o.a), fb = openPacketSocket(o.b);
  static Direction dirs[2];
  dirs[0].name = "a->b";
  dirs[0].in = fa;
  dirs[0].out = fb;
  dirs[1].name = "b->a";
  dirs[1].in = fb;
  dirs[1].out = fa;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  static uint8_t frame[65536];
  std::fprintf(stderr,
               "wan-emu: %s <-> %s delay %.1f ms, loss %.2f%%, rate %.1f Mbit/s, queue %lld\n",
               o.a.c_str(), o.b.c_str(), o.delayMs, o.lossPct, o.rateMbit, o.queue);

  pollfd fds[2] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}};
  while (!gStop) {
    if (gDump) {
      gDump = 0;
      dump(dirs, 2);
    }
    // Release what is due, then sleep until the next release or a frame arrives.
    uint64_t now = nowNs(), next = UINT64_MAX;
    for (Direction& d : dirs) {
      while (!d.ring.empty() && d.ring.frontRelease() <= now) {
        uint32_t len;
        const uint8_t* f = d.ring.front(len);
        if (send(d.out, f, len, 0) < 0) {
          if (errno == EAGAIN || errno == ENOBUFS) break;  // retry on the next turn
          ++d.sendErrors;
        } else {
          ++d.forwarded;
          d.bytes += len;
        }
        d.ring.pop();
      }
      if (!d.ring.empty()) next = std::min(next, d.ring.frontRelease());
    }
    timespec ts, *tsp = nullptr;
    if (next != UINT64_MAX) {
      uint64_t wait = next > now ? next - now : 0;
      ts.tv_sec = time_t(wait / 1'000'000'000u);
      ts.tv_nsec = long(wait % 1'000'000'000u);
      tsp = &ts;
    }
    int r = ppoll(fds, 2, tsp, &waiting);
    if (r < 0 && errno != EINTR) {
      std::perror("wan-emu: ppoll");
      return 1;
    }
    if (r <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      Direction& d = dirs[i];
      for (int batch = 0; batch < 64; ++batch) {
        ssize_t n = recv(d.in, frame, sizeof frame, 0);
        if (n <= 0) break;
        ++d.received;
        d.receivedBytes += uint64_t(n);
        uint64_t t = nowNs();
        if (loss > 0 && uniform(rng) < loss) {
          ++d.lost;
          continue;
        }
        uint64_t start = d.busyUntil > t ? d.busyUntil : t;
        if (nsPerByte > 0) {
          double backlog = double(start - t) / nsPerByte;
          if (backlog + double(n) > double(o.queue)) {
            ++d.queueDrops;
            continue;
          }
          d.busyUntil = start + uint64_t(double(n) * nsPerByte);
        } else {
          d.busyUntil = start;
        }
        if (!d.ring.push(d.busyUntil + delayNs, frame, uint32_t(n))) ++d.ringDrops;
      }
    }
  }
  dump(dirs, 2);
  return 0;
}
