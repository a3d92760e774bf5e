// manifold-tftp-load: an event-driven TFTP load client (one thread, epoll, one UDP socket per
// transfer) that keeps N transfers in flight, checks every byte, and reports throughput,
// completions, failures and retransmissions.
//
//   manifold-tftp-load -p PORT [-H 127.0.0.1] [-c CONCURRENCY] [-n TOTAL] [-b BLKSIZE]
//                      [-w WINDOWSIZE] [-t TIMEOUT_MS] [-r RETRIES] [--put] [--tsize]
//                      -d DIR FILE...
//   Gets: FILE is requested and compared with DIR/FILE. Puts: DIR/FILE is sent as
//   "FILE.put.K" (K = transfer number) and DIR/FILE.put.K compared afterwards (so DIR must be
//   the server's root, on this machine).
//   -b/-w 0 (default) send no option (plain RFC 1350). Exit status 0 if every transfer passed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "protocols/tftp/packet.hpp"
#include "worker/clock.hpp"

using namespace manifold::tftp;

namespace {

double now() { return manifold::clock::monotonicSeconds(); }

struct Settings {
  sockaddr_in server{};
  unsigned concurrency = 10, total = 0, blksize = 0, window = 0, retries = 5;
  double timeout = 1.0;
  bool put = false, tsize = false;
  std::string dir;
  std::vector<std::string> files;
};

struct Stats {
  uint64_t ok = 0, failed = 0, bytes = 0, retransmits = 0, duplicates = 0, mismatches = 0;
  std::vector<double> latencies;
};

struct Transfer {
  int fd = -1;
  unsigned id = 0;
  std::string name;  // remote name
  const std::string* content = nullptr;
  sockaddr_in tid{};
  bool haveTid = false;
  size_t blksize = 512, window = 1;
  uint64_t next = 1;       // get: next block expected; put: first unacked block
  uint64_t lastBlock = 0;  // put: number of the final (short) block
  size_t inWindow = 0;
  bool started = false;  // got the first answer
  bool mismatch = false;
  unsigned timeouts = 0;
  double lastActivity = 0, startedAt = 0;
  std::vector<uint8_t> lastSent;  // request or last ACK (get) to resend on timeout
};

class Load {
 public:
  explicit Load(Settings s) : s_(std::move(s)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (auto& f : s_.files) {
      std::ifstream in(s_.dir + "/" + f, std::ios::binary);
      if (!in) {
        fprintf(stderr, "cannot read %s/%s\n", s_.dir.c_str(), f.c_str());
        exit(2);
      }
      std::stringstream ss;
      ss << in.rdbuf();
      contents_[f] = ss.str();
    }
    buf_.resize(kMaxBlockSize + kHeaderSize + 16);
  }

  int run() {
    double begin = now();
    while (launched_ < s_.total && active_.size() < s_.concurrency) launch();
    epoll_event events[256];
    while (!active_.empty()) {
      int n = epoll_wait(ep_, events, 256, 20);
      for (int i = 0; i < n; ++i) {
        auto* t = static_cast<Transfer*>(events[i].data.ptr);
        receive(*t);
      }
      double t = now();
      if (t - lastScan_ >= 0.02) {
        lastScan_ = t;
        std::vector<Transfer*> expired;
        for (auto& [fd, tr] : active_)
          if (t - tr->lastActivity >= s_.timeout) expired.push_back(tr.get());
        for (auto* tr : expired) onTimeout(*tr);
      }
      while (launched_ < s_.total && active_.size() < s_.concurrency) launch();
    }
    double seconds = now() - begin;
    std::sort(st_.latencies.begin(), st_.latencies.end());
    auto pct = [&](double p) {
      return st_.latencies.empty()
                 ? 0.0
                 : st_.latencies[static_cast<size_t>(p * (st_.latencies.size() - 1))];
    };
    printf("transfers: %lu ok, %lu failed (%lu content mismatches) of %u, concurrency %u, %s\n",
           (unsigned long)st_.ok, (unsigned long)st_.failed, (unsigned long)st_.mismatches,
           s_.total, s_.concurrency, s_.put ? "put" : "get");
    printf("bytes: %lu in %.3f s = %.1f MiB/s\n", (unsigned long)st_.bytes, seconds,
           static_cast<double>(st_.bytes) / seconds / (1 << 20));
    printf("latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", pct(0.5) * 1e3, pct(0.99) * 1e3,
           pct(1.0) * 1e3);
    printf("client retransmits: %lu, duplicate/out-of-order packets received: %lu\n",
           (unsigned long)st_.retransmits, (unsigned long)st_.duplicates);
    return st_.failed ? 1 : 0;
  }

 private:
  void launch() {
    auto t = std::make_unique<Transfer>();
    t->id = launched_++;
    const std::string& file = s_.files[t->id % s_.files.size()];
    t->content = &contents_[file];
    t->name = s_.put ? file + ".put." + std::to_string(t->id) : file;
    t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t->fd < 0) {
      perror("socket");
      exit(2);
    }
    int size = 4 << 20;
    setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = t.get();
    epoll_ctl(ep_, EPOLL_CTL_ADD, t->fd, &ev);
    Options o;
    if (s_.blksize) o.hasBlksize = true, o.blksize = s_.blksize;
    if (s_.window) o.hasWindowsize = true, o.windowsize = s_.window;
    if (s_.tsize) o.hasTsize = true, o.tsize = s_.put ? t->content->size() : 0;
    t->lastSent.resize(2048);
    t->lastSent.resize(buildRequest(t->lastSent.data(), t->lastSent.size(),
                                    s_.put ? Opcode::Wrq : Opcode::Rrq, t->name, Mode::Octet, o));
    t->startedAt = t->lastActivity = now();
    (void)!::sendto(t->fd, t->lastSent.data(), t->lastSent.size(), 0,
                    reinterpret_cast<const sockaddr*>(&s_.server), sizeof s_.server);
    active_[t->fd] = std::move(t);
  }

  void send(Transfer& t, const uint8_t* data, size_t len, bool remember) {
    (void)!::sendto(t.fd, data, len, 0, reinterpret_cast<const sockaddr*>(&t.tid), sizeof t.tid);
    if (remember) t.lastSent.assign(data, data + len);
  }

  void finish(Transfer& t, bool ok) {
    double took = now() - t.startedAt;
    if (ok && t.mismatch) ok = false;
    if (ok) {
      ++st_.ok;
      st_.bytes += t.content->size();
      st_.latencies.push_back(took);
    } else {
      ++st_.failed;
    }
    ::close(t.fd);
    active_.erase(t.fd);  // destroys t
  }

  void receive(Transfer& t) {
    sockaddr_in from{};
    socklen_t fromLen = sizeof from;
    // With one packet per round trip a second recvfrom would only say EAGAIN: epoll (level
    // triggered) reports the socket again if more is queued.
    int bursts = t.window > 1 || s_.put ? 64 : 1;
    for (int burst = 0; burst < bursts; ++burst) {
      ssize_t n =
          recvfrom(t.fd, buf_.data(), buf_.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n < 4) return;
      if (!t.haveTid) {
        t.tid = from;
        t.haveTid = true;
      } else if (from.sin_port != t.tid.sin_port) {
        continue;
      }
      t.lastActivity = now();
      uint16_t op = get16(buf_.data());
      if (op == static_cast<uint16_t>(Opcode::Error)) {
        fprintf(stderr, "transfer %u (%s): error %u %s\n", t.id, t.name.c_str(),
                get16(buf_.data() + 2), reinterpret_cast<char*>(buf_.data() + 4));
        return finish(t, false);
      }
      bool done = s_.put ? onPutPacket(t, op, static_cast<size_t>(n))
                         : onGetPacket(t, op, static_cast<size_t>(n));
      if (done) return;
    }
  }

  void applyOack(Transfer& t, size_t n) {
    Options o;
    if (!parseOack(buf_.data(), n, o)) return;
    if (o.hasBlksize) t.blksize = o.blksize;
    if (o.hasWindowsize) t.window = o.windowsize;
  }

  // Returns true when the transfer ended (t destroyed).
  bool onGetPacket(Transfer& t, uint16_t op, size_t n) {
    uint8_t ack[4];
    if (op == static_cast<uint16_t>(Opcode::Oack)) {
      if (t.started) return false;
      t.started = true;
      applyOack(t, n);
      buildAck(ack, 4, 0);
      send(t, ack, 4, true);
      return false;
    }
    if (op != static_cast<uint16_t>(Opcode::Data)) return false;
    t.started = true;
    uint16_t block = get16(buf_.data() + 2);
    if (block != static_cast<uint16_t>(t.next)) {
      ++st_.duplicates;
      return false;
    }
    size_t len = n - 4;
    uint64_t offset = (t.next - 1) * t.blksize;
    if (offset + len > t.content->size() ||
        std::memcmp(t.content->data() + offset, buf_.data() + 4, len) != 0) {
      if (!t.mismatch) ++st_.mismatches;
      t.mismatch = true;
    }
    ++t.next;
    t.timeouts = 0;
    bool last = len < t.blksize;
    if (++t.inWindow >= t.window || last) {
      t.inWindow = 0;
      buildAck(ack, 4, block);
      send(t, ack, 4, true);
    }
    if (last) {
      if (offset + len != t.content->size()) {
        if (!t.mismatch) ++st_.mismatches;
        t.mismatch = true;
      }
      finish(t, true);
      return true;
    }
    return false;
  }

  void sendWindow(Transfer& t) {
    std::vector<uint8_t>& p = packet_;
    for (size_t i = 0; i < t.window; ++i) {
      uint64_t b = t.next + i;
      uint64_t offset = (b - 1) * t.blksize;
      if (offset > t.content->size()) break;
      size_t len = std::min<size_t>(t.blksize, t.content->size() - offset);
      p.resize(4 + len);
      buildDataHeader(p.data(), 4, static_cast<uint16_t>(b));
      std::memcpy(p.data() + 4, t.content->data() + offset, len);
      send(t, p.data(), p.size(), false);
      if (len < t.blksize) {
        t.lastBlock = b;
        break;
      }
    }
  }

  bool onPutPacket(Transfer& t, uint16_t op, size_t n) {
    if (op == static_cast<uint16_t>(Opcode::Oack) ||
        (op == static_cast<uint16_t>(Opcode::Ack) && !t.started)) {
      if (t.started) return false;
      t.started = true;
      if (op == static_cast<uint16_t>(Opcode::Oack)) applyOack(t, n);
      t.next = 1;
      sendWindow(t);
      return false;
    }
    if (op != static_cast<uint16_t>(Opcode::Ack)) return false;
    uint16_t wire = get16(buf_.data() + 2);
    uint64_t k = t.next + static_cast<uint16_t>(wire - static_cast<uint16_t>(t.next));
    if (k >= t.next + t.window) {
      ++st_.duplicates;
      return false;
    }
    t.timeouts = 0;
    if (t.lastBlock && k >= t.lastBlock) {
      finish(t, verifyPut(t));
      return true;
    }
    t.next = k + 1;
    sendWindow(t);
    return false;
  }

  bool verifyPut(const Transfer& t) {
    std::ifstream in(s_.dir + "/" + t.name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str() == *t.content) return true;
    ++st_.mismatches;
    return false;
  }

  void onTimeout(Transfer& t) {
    if (++t.timeouts > s_.retries) {
      fprintf(stderr, "transfer %u (%s): timed out\n", t.id, t.name.c_str());
      return finish(t, false);
    }
    ++st_.retransmits;
    t.lastActivity = now();
    if (!t.haveTid) {
      (void)!::sendto(t.fd, t.lastSent.data(), t.lastSent.size(), 0,
                      reinterpret_cast<const sockaddr*>(&s_.server), sizeof s_.server);
    } else if (s_.put && t.started) {
      sendWindow(t);
    } else {
      send(t, t.lastSent.data(), t.lastSent.size(), false);
    }
  }

  Settings s_;
  int ep_ = -1;
  unsigned launched_ = 0;
  double lastScan_ = 0;
  std::map<int, std::unique_ptr<Transfer>> active_;
  std::map<std::string, std::string> contents_;
  std::vector<uint8_t> buf_, packet_;
  Stats st_;
};

void usage() {
  fprintf(stderr,
          "usage: manifold-tftp-load -p PORT [-H HOST] [-c CONCURRENCY] [-n TOTAL] [-b BLKSIZE] "
          "[-w WINDOWSIZE] [-t TIMEOUT_MS] [-r RETRIES] [--put] [--tsize] -d DIR FILE...\n");
  exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  s.server.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &s.server.sin_addr);
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "-p")
      port = std::atoi(value().c_str());
    else if (a == "-H") {
      if (inet_pton(AF_INET, value().c_str(), &s.server.sin_addr) != 1) usage();
    } else if (a == "-c")
      s.concurrency = static_cast<unsigned>(std::atoi(value().c_str()));
    else if (a == "-n")
      s.total = static_cast<unsigned>(std::atoi(value().c_str()));
    else if (a == "-b")
      s.blksize = static_cast<unsigned>(std::atoi(value().c_str()));
    else if (a == "-w")
      s.window = static_cast<unsigned>(std::atoi(value().c_str()));
    else if (a == "-t")
      s.timeout = std::atoi(value().c_str()) / 1000.0;
    else if (a == "-r")
      s.retries = static_cast<unsigned>(std::atoi(value().c_str()));
    else if (a == "-d")
      s.dir = value();
    else if (a == "--put")
      s.put = true;
    else if (a == "--tsize")
      s.tsize = true;
    else if (!a.empty() && a[0] == '-')
      usage();
    else
      s.files.push_back(a);
  }
  if (!port || s.dir.empty() || s.files.empty() || !s.concurrency) usage();
  if (!s.total) s.total = s.concurrency;
  s.server.sin_port = htons(static_cast<uint16_t>(port));
  return Load(std::move(s)).run();
}
