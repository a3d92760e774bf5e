#include "protocols/proxy/checker.hpp"

#include <algorithm>
#include <cstdint>

#include "protocols/proxy/response.hpp"
#include "protocols/proxy/service.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::proxy {

struct HealthChecker::Probe {
  Probe(HealthChecker& c, size_t i)
      : index(i), deadline(c.service_.runtime().loop(), [&c, this] { c.finish(*this, false); }) {}
  size_t index;
  Timer deadline;
  Connector::Id connecting = 0;
  Connection* conn = nullptr;
  bool inFlight = false;
  uint64_t startedNs = 0;  // when the current check began (its latency)
};

// Reads the status of the check's response; the first complete head decides.
class HealthChecker::Reader : public ConnectionHandler {
 public:
  Reader(HealthChecker& c, Probe& p) : c_(c), p_(p) {}
  void onReadable(Connection& conn) override {
    ResponseHead head;
    ResponseParse r = parseResponse(conn.pendingInput(), head, false);
    if (r.status == ResponseStatus::Incomplete) return;
    c_.finish(p_, r.status == ResponseStatus::Complete && head.status < 400);
  }
  void onClose(Connection&) override {
    if (p_.conn) {
      p_.conn = nullptr;
      c_.finish(p_, false);
    }
  }

 private:
  HealthChecker& c_;
  Probe& p_;
};

HealthChecker::HealthChecker(ProxyService& service)
    : service_(service),
      connector_(service.runtime(), PoolLimits{0, 1}),
      timer_(service.runtime().loop(), [this] { tick(); }) {
  for (size_t i = 0; i < service.config().backends.size(); ++i)
    probes_.push_back(std::make_unique<Probe>(*this, i));
}

HealthChecker::~HealthChecker() {
  for (auto& p : probes_) {
    if (p->connecting) connector_.cancel(p->connecting);
    Connection* conn = p->conn;
    p->conn = nullptr;
    if (conn) conn->close();
  }
}

void HealthChecker::start() {
  timer_.keepsLoopAlive(false);
  double interval = service_.config().health.enabled ? service_.config().health.interval : 1.0;
  timer_.repeat(interval, 0.01);
}

void HealthChecker::tick() {
  if (service_.config().health.enabled && !service_.runtime().draining())
    for (auto& p : probes_)
      if (!p->inFlight && !service_.config().backends[p->index].down) begin(*p);
  publish();
}

void HealthChecker::begin(Probe& p) {
  const ProxyConfig& config = service_.config();
  const config::ListenAddress& a = config.backends[p.index].address;
  p.inFlight = true;
  p.startedNs = clock::monotonicNs();
  p.deadline.once(config.health.timeout);
  ConnectOptions options;
  options.connectTimeout = options.readTimeout = options.sendTimeout = 2 * config.health.timeout;
  options.fresh = true;
  options.tls = service_.upstreamTls(p.index);
  Connector::Id id = connector_.connect(
      reinterpret_cast<const sockaddr*>(&a.addr), a.len, options,
      [this, &p](const ConnectOutcome& outcome) -> std::unique_ptr<ConnectionHandler> {
        p.connecting = 0;
        if (!p.inFlight) return nullptr;
        if (!outcome.connection) {
          finish(p, false);
          return nullptr;
        }
        const ProxyConfig& config = service_.config();
        outcome.connection->output()
            .append(config.health.method)
            .append(" ")
            .append(config.health.path)
            .append(" HTTP/1.1\r\nHost: ")
            .append(config.backends[p.index].address.text)
            .append("\r\nUser-Agent: manifold-proxy-check\r\nConnection: close\r\n\r\n");
        p.conn = outcome.connection;
        return std::make_unique<Reader>(*this, p);
      });
  if (id != 0) p.connecting = id;
}

void HealthChecker::finish(Probe& p, bool ok) {
  if (!p.inFlight) return;
  p.inFlight = false;  // first: closing the connection below re-enters Reader::onClose
  p.deadline.stop();
  if (p.connecting) {
    connector_.cancel(p.connecting);
    p.connecting = 0;
  }
  Connection* conn = p.conn;
  p.conn = nullptr;
  if (conn) conn->close();
  HealthRegion* health = service_.health();
  if (!health) return;
  const HealthCheckConfig& h = service_.config().health;
  const uint64_t us = (clock::monotonicNs() - p.startedNs) / 1000;
  if (health->recordCheck(p.index, ok, h.rise, h.fall, clock::wallMs(),
                          static_cast<uint32_t>(std::min<uint64_t>(us, UINT32_MAX))))
    LOG_WARN("[%s] backend %s is %s (health check %s %s)", service_.config().title().c_str(),
             service_.config().backends[p.index].address.text.c_str(), ok ? "up" : "down",
             h.method.c_str(), h.path.c_str());
  publish();
}

void HealthChecker::publish() {
  HealthRegion* health = service_.health();
  if (!health) return;
  uint64_t now = clock::monotonicMs();
  for (size_t i = 0; i < service_.config().backends.size(); ++i) {
    bool down = service_.config().backends[i].down || !health->available(i, now);
    service_.backendCounters(i).set(kBackendDown, down ? 1 : 0);
  }
}

}  // namespace manifold::proxy
