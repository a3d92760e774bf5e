// Worker half of [proxy:NAME]: the site on its listeners (shared with other [proxy:] and [http:]
// sites of the same address), the RequestHandler that hands each request to a Relay, the
// per-worker connector (keep-alive pool) and balancer, and in one worker per instance the
// active health checks.
#pragma once

#include <memory>
#include <vector>

#include "protocols/http/server.hpp"
#include "protocols/http/site_binding.hpp"
#include "protocols/proxy/balancer.hpp"
#include "protocols/proxy/cache_front.hpp"
#include "protocols/proxy/config.hpp"
#include "protocols/proxy/counters.hpp"
#include "protocols/proxy/health.hpp"
#include "protocols/service.hpp"
#include "worker/connector.hpp"
#include "worker/splice_pipes.hpp"

namespace manifold::proxy {

class Relay;
class HealthChecker;
class CacheCleaner;

class ProxyService : public Service, public http::RequestHandler {
 public:
  ProxyService(const ProxyConfig& config, ServiceContext& ctx);
  ~ProxyService() override;

  void start() override;
  void stopAccepting() override { binding_.stop(); }
  size_t inFlight() const override { return 0; }  // connections are counted by the runtime

  void onRequest(http::Exchange& ex) override;
  void onBody(http::Exchange& ex, std::string_view data) override;
  void onBodyEnd(http::Exchange& ex) override;
  void onAbort(http::Exchange& ex) override;
  void onDrained(http::Exchange& ex) override;
  void onParkedClose(http::Exchange& ex) override;

  const ProxyConfig& config() const { return config_; }
  WorkerRuntime& runtime() { return *ctx_.runtime; }
  Connector& connector() { return connector_; }
  // The TLS endpoint of backend i (its name and last session), or nullptr for plain TCP.
  const TlsEndpoint* upstreamTls(size_t i) const {
    return config_.backends[i].tls ? &upstreamTls_[i] : nullptr;
  }
  // A backend's certificate was refused: counted each time, logged once per backend.
  void tlsRefused(size_t i, const char* why);
  // A connect to a backend succeeded: a new TLS connection's handshake is counted.
  void countTlsHandshake(const ConnectOutcome& outcome);
  Balancer& balancer() { return balancer_; }
  HealthRegion* health() { return health_; }
  CacheFront* cache() { return cache_.get(); }
  shm::CounterSlot counters() const { return ctx_.counters; }
  shm::CounterSlot backendCounters(size_t i) const {
    return ctx_.counters.from(kCacheCounterEnd + static_cast<unsigned>(i) * kBackendCounterCount);
  }
  void recycle(Relay* relay) { free_.push_back(relay); }
  SplicePipes& splicePipes() { return splicePipes_; }
  // The backends a request keyed `key` may use (empty: all, by the configured balance).
  virtual std::span<const int> candidates(std::string_view) const { return {}; }

 private:
  const ProxyConfig& config_;
  ServiceContext ctx_;
  http::Site site_;
  http::SiteBinding binding_;
  std::vector<TlsEndpoint> upstreamTls_;  // before the connector: its connections use them
  std::vector<bool> tlsWarned_;
  Connector connector_;
  HealthRegion* health_;
  Balancer balancer_;
  SplicePipes splicePipes_;  // before the relays: their bodies give pipes back
  std::vector<std::unique_ptr<Relay>> relays_;
  std::vector<Relay*> free_;
  std::unique_ptr<HealthChecker> checker_;
  std::unique_ptr<CacheFront> cache_;
  std::unique_ptr<CacheCleaner> cleaner_;
  CacheRequest request_;  // scratch, swapped into the relay (its buffers come back)
};

}  // namespace manifold::proxy
