#include "protocols/dns/health.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "shm/segment.hpp"
#include "worker/log.hpp"

namespace manifold::dns {

IcmpSocket::IcmpSocket() {
  fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) error = std::string("raw ICMP socket: ") + strerror(errno) + " (needs CAP_NET_RAW)";
}

IcmpSocket::~IcmpSocket() {
  if (fd >= 0) ::close(fd);
}

struct Prober::Probe {
  Prober* owner;
  unsigned index;
  const HealthTarget* target;
  ev_timer tick;
  ev_timer timeout;
  ev_io io;
  int fd = -1;
  bool inFlight = false;
  bool sentRequest = false;
  uint16_t seq = 0;
  std::string response;
};

namespace {

uint16_t icmpChecksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint16_t icmpIdent(unsigned index) { return static_cast<uint16_t>((getpid() << 4) ^ index); }

}  // namespace

Prober::Prober(struct ev_loop* loop, const std::string& title, const std::vector<HealthTarget>& targets,
               HealthSlot* slots, shm::CounterSlot gauges, shm::CounterSlot probeResults, int rawIcmpFd)
    : loop_(loop), title_(title), targets_(targets), slots_(slots), gauges_(gauges),
      probeResults_(probeResults), rawFd_(rawIcmpFd) {
  for (unsigned i = 0; i < targets_.size(); ++i) {
    auto p = std::make_unique<Probe>();
    p->owner = this;
    p->index = i;
    p->target = &targets_[i];
    ev_timer_init(&p->tick, onTick, 0.05 * i, targets_[i].interval);
    p->tick.data = p.get();
    ev_timer_init(&p->timeout, onTimeout, targets_[i].timeout, 0.);
    p->timeout.data = p.get();
    ev_init(&p->io, onIo);
    p->io.data = p.get();
    probes_.push_back(std::move(p));
  }
  ev_init(&rawIo_, onRawIcmp);
  rawIo_.data = this;
}

Prober::~Prober() { stop(); }

void Prober::start() {
  started_ = true;
  bool icmp = false;
  for (auto& p : probes_) {
    ev_timer_start(loop_, &p->tick);
    gauges_.set(2 * p->index, slots_[p->index].up.load());
    icmp = icmp || p->target->kind == CheckKind::Icmp;
  }
  if (icmp && rawFd_ >= 0) {
    ev_io_set(&rawIo_, rawFd_, EV_READ);
    ev_io_start(loop_, &rawIo_);
  }
  if (icmp) {
    LOG_NOTICE("[%s] ICMP probes use %s", title_.c_str(),
               rawFd_ >= 0 ? "the raw socket opened by the master"
                           : "unprivileged ping sockets (no raw socket: CAP_NET_RAW missing)");
  }
}

void Prober::stop() {
  if (!started_) return;
  started_ = false;
  for (auto& p : probes_) {
    ev_timer_stop(loop_, &p->tick);
    ev_timer_stop(loop_, &p->timeout);
    ev_io_stop(loop_, &p->io);
    if (p->fd >= 0) ::close(p->fd);
    p->fd = -1;
    p->inFlight = false;
  }
  ev_io_stop(loop_, &rawIo_);
}

void Prober::onTick(struct ev_loop*, ev_timer* w, int) {
  auto* p = static_cast<Probe*>(w->data);
  if (!p->inFlight) p->owner->begin(*p);
}

void Prober::begin(Probe& p) {
  const HealthTarget& t = *p.target;
  p.inFlight = true;
  p.sentRequest = false;
  p.response.clear();
  ev_timer_set(&p.timeout, t.timeout, 0.);
  ev_timer_start(loop_, &p.timeout);
  if (t.kind == CheckKind::Icmp) {
    p.seq = static_cast<uint16_t>(p.seq + 1);
    uint8_t pkt[16] = {ICMP_ECHO, 0, 0, 0};
    int fd = rawFd_;
    if (fd < 0) {
      p.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
      if (p.fd < 0) return finish(p, false, "no ICMP socket: raw needs CAP_NET_RAW, ping socket refused");
      fd = p.fd;
      ev_io_set(&p.io, p.fd, EV_READ);
      ev_io_start(loop_, &p.io);
    }
    put16(pkt + 4, icmpIdent(p.index));
    put16(pkt + 6, p.seq);
    std::memcpy(pkt + 8, "manifold", 8);
    put16(pkt + 2, icmpChecksum(pkt, sizeof pkt));
    if (::sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<const sockaddr*>(&t.addr), t.addrLen) < 0)
      return finish(p, false, strerror(errno));
    return;
  }
  p.fd = ::socket(t.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p.fd < 0) return finish(p, false, strerror(errno));
  int rc = ::connect(p.fd, reinterpret_cast<const sockaddr*>(&t.addr), t.addrLen);
  if (rc < 0 && errno != EINPROGRESS) return finish(p, false, strerror(errno));
  ev_io_set(&p.io, p.fd, EV_WRITE);
  ev_io_start(loop_, &p.io);
}

void Prober::onIo(struct ev_loop*, ev_io* w, int) {
  auto* p = static_cast<Probe*>(w->data);
  p->owner->progress(*p);
}

void Prober::progress(Probe& p) {
  const HealthTarget& t = *p.target;
  if (t.kind == CheckKind::Icmp) {
    uint8_t buf[256];
    ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
    // Ping sockets: the kernel rewrote the identifier; the sequence tells our reply.
    if (n >= 8 && buf[0] == ICMP_ECHOREPLY && get16(buf + 6) == p.seq) finish(p, true, nullptr);
    return;
  }
  if (!p.sentRequest) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return finish(p, false, strerror(err));
    if (t.kind == CheckKind::Tcp) return finish(p, true, nullptr);
    char host[INET6_ADDRSTRLEN] = "";
    if (t.addr.ss_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&t.addr)->sin_addr, host, sizeof host);
    else
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&t.addr)->sin6_addr, host, sizeof host);
    std::string req = "GET " + t.path + " HTTP/1.0\r\nHost: " + host +
                      "\r\nUser-Agent: manifold-dns-check\r\nConnection: close\r\n\r\n";
    if (::send(p.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return finish(p, false, "cannot send the request");
    p.sentRequest = true;
    ev_io_stop(loop_, &p.io);
    ev_io_set(&p.io, p.fd, EV_READ);
    ev_io_start(loop_, &p.io);
    return;
  }
  char buf[512];
  ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n > 0) p.response.append(buf, static_cast<size_t>(n));
  // "HTTP/1.x NNN"
  if (p.response.size() >= 12 || n <= 0) {
    if (p.response.size() < 12 || p.response.compare(0, 5, "HTTP/") != 0)
      return finish(p, false, "no HTTP status line");
    int status = atoi(p.response.c_str() + 9);
    if (status != t.expectStatus) return finish(p, false, "unexpected HTTP status");
    return finish(p, true, nullptr);
  }
}

void Prober::onRawIcmp(struct ev_loop*, ev_io* w, int) {
  auto* self = static_cast<Prober*>(w->data);
  uint8_t buf[1500];
  for (;;) {
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t n = ::recvfrom(self->rawFd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n <= 0) return;
    size_t ihl = static_cast<size_t>(buf[0] & 0x0F) * 4;
    if (static_cast<size_t>(n) < ihl + 8 || buf[ihl] != ICMP_ECHOREPLY) continue;
    uint16_t id = get16(buf + ihl + 4), seq = get16(buf + ihl + 6);
    for (auto& p : self->probes_) {
      if (!p->inFlight || p->target->kind != CheckKind::Icmp || icmpIdent(p->index) != id || p->seq != seq)
        continue;
      const auto* want = reinterpret_cast<const sockaddr_in*>(&p->target->addr);
      if (want->sin_addr.s_addr == from.sin_addr.s_addr) self->finish(*p, true, nullptr);
    }
  }
}

void Prober::onTimeout(struct ev_loop*, ev_timer* w, int) {
  auto* p = static_cast<Probe*>(w->data);
  p->owner->finish(*p, false, "timed out");
}

void Prober::finish(Probe& p, bool ok, const char* why) {
  ev_timer_stop(loop_, &p.timeout);
  ev_io_stop(loop_, &p.io);
  if (p.fd >= 0) ::close(p.fd);
  p.fd = -1;
  p.inFlight = false;
  HealthSlot& s = slots_[p.index];
  const HealthTarget& t = *p.target;
  uint64_t now = shm::wallClockMs();
  s.checks.fetch_add(1, std::memory_order_relaxed);
  s.lastCheckMs.store(now, std::memory_order_relaxed);
  if (ok) {
    s.failStreak = 0;
    ++s.okStreak;
  } else {
    s.failures.fetch_add(1, std::memory_order_relaxed);
    s.okStreak = 0;
    ++s.failStreak;
  }
  probeResults_.inc(ok ? 0 : 1);
  uint32_t up = s.up.load(std::memory_order_relaxed);
  if (up && !ok && s.failStreak >= t.fall) {
    s.up.store(0, std::memory_order_relaxed);
    s.lastChangeMs.store(now, std::memory_order_relaxed);
    LOG_WARN("[%s] target %s is DOWN after %u failed checks (%s)", title_.c_str(), t.text.c_str(),
             s.failStreak, why ? why : "failed");
  } else if (!up && ok && s.okStreak >= t.rise) {
    s.up.store(1, std::memory_order_relaxed);
    s.lastChangeMs.store(now, std::memory_order_relaxed);
    LOG_NOTICE("[%s] target %s is UP after %u good checks", title_.c_str(), t.text.c_str(), s.okStreak);
  }
  gauges_.set(2 * p.index, s.up.load(std::memory_order_relaxed));
  gauges_.set(2 * p.index + 1, now / 1000);
}

}  // namespace manifold::dns
