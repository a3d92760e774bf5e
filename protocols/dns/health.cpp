#include "protocols/dns/health.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "protocols/dns/wire.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"
#include "worker/peer_address.hpp"
#include "worker/runtime.hpp"
#include "worker/timer.hpp"

namespace manifold::dns {

IcmpSocket::IcmpSocket() {
  fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) error = std::string("raw ICMP socket: ") + strerror(errno) + " (needs CAP_NET_RAW)";
}

IcmpSocket::~IcmpSocket() {
  if (fd >= 0) ::close(fd);
}

struct Prober::Probe {
  Probe(Prober& owner, unsigned i, const HealthTarget& t, struct ev_loop* loop)
      : index(i),
        target(&t),
        tick(loop,
             [&owner, this] {
               if (!inFlight) owner.begin(*this);
             }),
        timeout(loop, [&owner, this] { owner.finish(*this, false, "timed out"); }),
        ping(loop, [&owner, this](int) { owner.onPingReply(*this); }) {}
  unsigned index;
  const HealthTarget* target;
  Timer tick;
  Timer timeout;
  IoWatcher ping;  // the per-probe ping socket when there is no raw one
  Connector::Id connecting = 0;
  Connection* conn = nullptr;  // an HTTP check waiting for its status line
  int fd = -1;                 // the ping socket
  unsigned attempt = 0;        // tells a late callback of an earlier check from the current one
  bool inFlight = false;
  uint16_t seq = 0;
  uint64_t startedNs = 0;  // when the current check began (its latency)
};

// Reads the status line of an HTTP check ("HTTP/1.x NNN"), then the check ends.
class Prober::StatusReader : public ConnectionHandler {
 public:
  StatusReader(Prober& owner, Probe& p) : owner_(owner), p_(p), attempt_(p.attempt) {}
  void onReadable(Connection& conn) override {
    if (conn.pendingInput().size() >= 12) judge(conn);
  }
  // EOF, a read error or a close by finish(): judge what arrived (if still the current check).
  void onClose(Connection& conn) override { judge(conn); }

 private:
  void judge(Connection& conn) {
    if (!p_.inFlight || p_.attempt != attempt_ || p_.conn != &conn) return;
    owner_.judgeStatus(p_, conn.pendingInput());
  }
  Prober& owner_;
  Probe& p_;
  unsigned attempt_;
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

Prober::Prober(WorkerRuntime& runtime, const std::string& title,
               const std::vector<HealthTarget>& targets, HealthSlot* slots, shm::CounterSlot gauges,
               shm::CounterSlot probeResults, int rawIcmpFd)
    : runtime_(runtime),
      connector_(runtime),
      title_(title),
      targets_(targets),
      slots_(slots),
      gauges_(gauges),
      probeResults_(probeResults),
      rawFd_(rawIcmpFd),
      rawIo_(runtime.loop(), [this](int) { onRawIcmp(); }) {
  for (unsigned i = 0; i < targets_.size(); ++i)
    probes_.push_back(std::make_unique<Probe>(*this, i, targets_[i], runtime.loop()));
}

Prober::~Prober() { stop(); }

void Prober::start() {
  started_ = true;
  bool icmp = false;
  for (auto& p : probes_) {
    p->tick.repeat(p->target->interval, 0.05 * p->index);
    gauges_.set(2 * p->index, slots_[p->index].up.load());
    icmp = icmp || p->target->kind == CheckKind::Icmp;
  }
  if (icmp && rawFd_ >= 0) rawIo_.start(rawFd_, IoWatcher::kRead);
  if (icmp) {
    LOG_NOTICE("[%s] ICMP probes use %s", title_.c_str(),
               rawFd_ >= 0 ? "the raw socket opened by the master"
                           : "unprivileged ping sockets (no raw socket: CAP_NET_RAW missing)");
  }
}

// Ends whatever a probe has in flight without counting it.
void Prober::stop() {
  if (!started_) return;
  started_ = false;
  for (auto& p : probes_) {
    p->tick.stop();
    p->timeout.stop();
    p->ping.stop();
    if (p->fd >= 0) ::close(p->fd);
    p->fd = -1;
    p->inFlight = false;
    connector_.cancel(p->connecting);
    p->connecting = 0;
    if (Connection* conn = std::exchange(p->conn, nullptr)) conn->close();
  }
  rawIo_.stop();
}

void Prober::begin(Probe& p) {
  p.inFlight = true;
  ++p.attempt;
  p.startedNs = clock::monotonicNs();
  p.timeout.once(p.target->timeout);
  if (p.target->kind == CheckKind::Icmp)
    beginIcmp(p);
  else
    beginTcp(p);
}

void Prober::beginIcmp(Probe& p) {
  const HealthTarget& t = *p.target;
  p.seq = static_cast<uint16_t>(p.seq + 1);
  uint8_t pkt[16] = {ICMP_ECHO, 0, 0, 0};
  int fd = rawFd_;
  if (fd < 0) {
    p.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (p.fd < 0)
      return finish(p, false, "no ICMP socket: raw needs CAP_NET_RAW, ping socket refused");
    fd = p.fd;
    p.ping.start(p.fd, IoWatcher::kRead);
  }
  put16(pkt + 4, icmpIdent(p.index));
  put16(pkt + 6, p.seq);
  std::memcpy(pkt + 8, "manifold", 8);
  put16(pkt + 2, icmpChecksum(pkt, sizeof pkt));
  if (::sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<const sockaddr*>(&t.addr), t.addrLen) < 0)
    return finish(p, false, strerror(errno));
}

// TCP: the connect is the check. HTTP: connect, send the request, read the status line, close.
void Prober::beginTcp(Probe& p) {
  const HealthTarget& t = *p.target;
  ConnectOptions options;
  // The probe's own timeout ends the check; these only bound a socket that outlives it.
  options.connectTimeout = options.readTimeout = options.sendTimeout = 2 * t.timeout;
  options.fresh = true;
  unsigned attempt = p.attempt;
  p.connecting = connector_.connect(
      reinterpret_cast<const sockaddr*>(&t.addr), t.addrLen, options,
      [this, &p, attempt](const ConnectOutcome& outcome) -> std::unique_ptr<ConnectionHandler> {
        p.connecting = 0;
        if (!p.inFlight || p.attempt != attempt) return nullptr;
        if (!outcome.connection) {
          finish(p, false, strerror(outcome.error));
          return nullptr;
        }
        const HealthTarget& t = *p.target;
        if (t.kind == CheckKind::Tcp) {
          finish(p, true, nullptr);
          return nullptr;
        }
        outcome.connection->output()
            .append("GET ")
            .append(t.path)
            .append(" HTTP/1.0\r\nHost: ")
            .append(net::toString(net::peerAddress(reinterpret_cast<const sockaddr*>(&t.addr))))
            .append("\r\nUser-Agent: manifold-dns-check\r\nConnection: close\r\n\r\n");
        p.conn = outcome.connection;
        return std::make_unique<StatusReader>(*this, p);
      });
}

void Prober::judgeStatus(Probe& p, std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/")
    return finish(p, false, "no HTTP status line");
  int status = 0;
  std::from_chars(response.data() + 9, response.data() + response.size(), status);
  if (status != p.target->expectStatus) return finish(p, false, "unexpected HTTP status");
  finish(p, true, nullptr);
}

void Prober::onPingReply(Probe& p) {
  uint8_t buf[256];
  ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
  // Ping sockets: the kernel rewrote the identifier; the sequence tells our reply.
  if (n >= 8 && buf[0] == ICMP_ECHOREPLY && get16(buf + 6) == p.seq) finish(p, true, nullptr);
}

void Prober::onRawIcmp() {
  uint8_t buf[1500];
  for (;;) {
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t n = ::recvfrom(rawFd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n <= 0) return;
    size_t ihl = static_cast<size_t>(buf[0] & 0x0F) * 4;
    if (static_cast<size_t>(n) < ihl + 8 || buf[ihl] != ICMP_ECHOREPLY) continue;
    uint16_t id = get16(buf + ihl + 4), seq = get16(buf + ihl + 6);
    for (auto& p : probes_) {
      if (!p->inFlight || p->target->kind != CheckKind::Icmp || icmpIdent(p->index) != id ||
          p->seq != seq)
        continue;
      const auto* want = reinterpret_cast<const sockaddr_in*>(&p->target->addr);
      if (want->sin_addr.s_addr == from.sin_addr.s_addr) finish(*p, true, nullptr);
    }
  }
}

void Prober::finish(Probe& p, bool ok, const char* why) {
  p.inFlight = false;  // first: closing the connection below re-enters StatusReader::onClose
  p.timeout.stop();
  p.ping.stop();
  if (p.fd >= 0) ::close(p.fd);
  p.fd = -1;
  connector_.cancel(p.connecting);
  p.connecting = 0;
  if (Connection* conn = std::exchange(p.conn, nullptr)) conn->close();
  HealthSlot& s = slots_[p.index];
  const HealthTarget& t = *p.target;
  uint64_t now = clock::wallMs();
  s.checks.fetch_add(1, std::memory_order_relaxed);
  s.lastCheckMs.store(now, std::memory_order_relaxed);
  if (ok) {
    const uint64_t us = (clock::monotonicNs() - p.startedNs) / 1000;
    s.latencyUs.store(static_cast<uint32_t>(std::min<uint64_t>(us, UINT32_MAX)),
                      std::memory_order_relaxed);
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
    LOG_NOTICE("[%s] target %s is UP after %u good checks", title_.c_str(), t.text.c_str(),
               s.okStreak);
  }
  gauges_.set(2 * p.index, s.up.load(std::memory_order_relaxed));
  gauges_.set(2 * p.index + 1, now / 1000);
}

}  // namespace manifold::dns
