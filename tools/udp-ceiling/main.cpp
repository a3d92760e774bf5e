// manifold-udp-ceiling: a UDP responder that does no work, to measure the ceiling a benchmark
// can reach on this machine. It has the I/O shape of Manifold's UdpEndpoint (epoll, recvmmsg of
// up to 64, one sendmmsg) and answers each datagram with a reply of the realistic size but no
// lookup at all, so whatever it reaches is what the kernel and the load generator allow. If the
// ceiling is below a target ratio against an anchor, no server can meet that target here.
//
//   manifold-udp-ceiling --port N [--host 127.0.0.1] [--processes 1] --mode dns|tracker
//
//   dns      echoes the question with QR and AA set, RCODE 0 and one 16-byte A answer
//            (a compressed name pointer, type, class, TTL, length, address): the size of a
//            minimal real answer (no EDNS in the reply)
//   tracker  BEP 15: connect -> 16 bytes with a connection id; announce -> 20 bytes and
//            --peers compact IPv4 peers (default 32, what the tracker bench sees per announce);
//            scrape -> 8 + 12 bytes per hash; no checks on the connection id
//
// Each process binds its own SO_REUSEPORT socket (as Manifold's workers do). Runs until
// SIGTERM/SIGINT; children die with the parent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  unsigned processes = 1;
  bool dns = true;
  unsigned peers = 32;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: manifold-udp-ceiling --port N --mode dns|tracker [--host H] "
               "[--processes N] [--peers N]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  bool haveMode = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    std::string v = argv[++i];
    if (a == "--port")
      o.port = std::atoi(v.c_str());
    else if (a == "--host")
      o.host = v;
    else if (a == "--processes")
      o.processes = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (a == "--peers")
      o.peers = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (a == "--mode" && (v == "dns" || v == "tracker"))
      o.dns = v == "dns", haveMode = true;
    else
      usage();
  }
  if (o.port <= 0 || o.port > 65535 || o.processes == 0 || o.peers > 200 || !haveMode) usage();
  return o;
}

int openSocket(const Options& o) {
  sockaddr_storage ss{};
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, o.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(o.port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, o.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(o.port));
    len = sizeof *v6;
  } else {
    std::fprintf(stderr, "manifold-udp-ceiling: bad host %s\n", o.host.c_str());
    std::exit(2);
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    std::perror("manifold-udp-ceiling: bind");
    std::exit(1);
  }
  return fd;
}

// Writes the reply to `in` into `out`; returns its length (0: no reply).
size_t answer(const Options& o, const uint8_t* in, size_t len, uint8_t* out) {
  if (o.dns) {
    static const uint8_t kAnswer[16] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1};
    size_t end = 12;  // the question ends after its name, type and class; EDNS is dropped
    while (end < len && in[end] != 0 && in[end] < 64) end += 1 + in[end];
    end += 5;
    if (len < 12 || end > len || end + sizeof kAnswer > 512) return 0;
    std::memcpy(out, in, end);
    out[2] = static_cast<uint8_t>((in[2] & 0x79) | 0x84);  // QR, AA; opcode and RD kept
    out[3] = 0;
    std::memcpy(out + 6, "\0\1\0\0\0\0", 6);  // ANCOUNT 1, NSCOUNT 0, ARCOUNT 0
    std::memcpy(out + end, kAnswer, sizeof kAnswer);
    return end + sizeof kAnswer;
  }
  if (len < 16) return 0;
  uint32_t action;
  std::memcpy(&action, in + 8, 4);
  action = ntohl(action);
  std::memcpy(out, in + 8, 8);  // action and transaction id
  if (action == 0) {
    std::memcpy(out + 8, "ceiling!", 8);
    return 16;
  }
  if (action == 1) {
    const size_t n = 20 + size_t{o.peers} * 6;
    std::memset(out + 8, 0, n - 8);
    return n;
  }
  const size_t hashes = std::min<size_t>((len - 16) / 20, 74);
  std::memset(out + 8, 0, hashes * 12);
  return 8 + hashes * 12;
}

[[noreturn]] void serve(const Options& o) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  const int fd = openSocket(o);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  constexpr unsigned kBatch = 64;
  constexpr size_t kBuf = 2048;
  std::vector<uint8_t> inBuf(kBatch * kBuf), outBuf(kBatch * kBuf);
  std::vector<sockaddr_storage> peers(kBatch);
  std::vector<iovec> inIov(kBatch), outIov(kBatch);
  std::vector<mmsghdr> inMsg(kBatch), outMsg(kBatch);
  for (;;) {
    epoll_event e;
    if (epoll_wait(ep, &e, 1, -1) < 0) continue;
    for (;;) {
      for (unsigned i = 0; i < kBatch; ++i) {
        inIov[i] = {&inBuf[i * kBuf], kBuf};
        inMsg[i].msg_hdr = {};
        inMsg[i].msg_hdr.msg_iov = &inIov[i];
        inMsg[i].msg_hdr.msg_iovlen = 1;
        inMsg[i].msg_hdr.msg_name = &peers[i];
        inMsg[i].msg_hdr.msg_namelen = sizeof peers[i];
      }
      const int n = recvmmsg(fd, inMsg.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      unsigned out = 0;
      for (int i = 0; i < n; ++i) {
        const size_t len = answer(o, &inBuf[i * kBuf], inMsg[i].msg_len, &outBuf[out * kBuf]);
        if (!len) continue;
        outIov[out] = {&outBuf[out * kBuf], len};
        outMsg[out].msg_hdr = {};
        outMsg[out].msg_hdr.msg_iov = &outIov[out];
        outMsg[out].msg_hdr.msg_iovlen = 1;
        outMsg[out].msg_hdr.msg_name = &peers[i];
        outMsg[out].msg_hdr.msg_namelen = inMsg[i].msg_hdr.msg_namelen;
        ++out;
      }
      if (out) sendmmsg(fd, outMsg.data(), out, 0);
      if (static_cast<unsigned>(n) < kBatch) break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::vector<pid_t> children;
  for (unsigned i = 0; i < o.processes; ++i) {
    const pid_t pid = fork();
    if (pid == 0) serve(o);
    if (pid > 0) children.push_back(pid);
  }
  signal(SIGTERM, [](int) {});
  signal(SIGINT, [](int) {});
  pause();
  for (pid_t p : children) kill(p, SIGTERM);
  for (pid_t p : children) waitpid(p, nullptr, 0);
  return 0;
}
