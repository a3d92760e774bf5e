#include "protocols/proxy/service.hpp"

#include <algorithm>

#include "protocols/proxy/cache_cleaner.hpp"
#include "protocols/proxy/checker.hpp"
#include "protocols/proxy/relay.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/tls.hpp"

namespace manifold::proxy {

ProxyService::ProxyService(const ProxyConfig& config, ServiceContext& ctx)
    : config_(config),
      ctx_(ctx),
      binding_(*ctx_.runtime, site_),
      upstreamTls_(config.backends.size()),
      tlsWarned_(config.backends.size()),
      connector_(*ctx_.runtime, PoolLimits{config.keepaliveIdle, config.keepaliveIdleTimeout}),
      health_(ctx_.regions.empty() ? nullptr : HealthRegion::attach(ctx_.regions[0])),
      balancer_(config, health_) {
  for (size_t i = 0; i < config.backends.size() && config.upstreamTls.context; ++i) {
    upstreamTls_[i].context = config.upstreamTls.context->get();
    // Default name: the backend's host ("127.0.0.1:8443" or "[::1]:8443" without the port).
    std::string_view host = config.backends[i].address.text;
    host = host.substr(0, host.rfind(':'));
    if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
    upstreamTls_[i].serverName =
        config.upstreamTls.name.empty() ? std::string(host) : config.upstreamTls.name;
  }
  if (config.cache.enabled && ctx_.regions.size() > 1)
    cache_ = std::make_unique<CacheFront>(*this, ctx_.regions[1]);
  const size_t tlsFirst = std::min<size_t>(config.cache.enabled ? 2 : 1, ctx_.regions.size());
  config.describe(site_, config.title(), this, ctx_.counters, &config.limits,
                  std::span<void* const>(ctx_.regions).subspan(tlsFirst));
}

ProxyService::~ProxyService() = default;

void ProxyService::countTlsHandshake(const ConnectOutcome& outcome) {
  const TlsSession* tls = outcome.connection ? outcome.connection->tls() : nullptr;
  if (tls && !outcome.reused)
    ctx_.counters.inc(tls->resumed() ? kUpstreamTlsResumed : kUpstreamTlsFull);
}

void ProxyService::tlsRefused(size_t i, const char* why) {
  ctx_.counters.inc(kUpstreamTlsVerifyFailures);
  if (tlsWarned_[i]) return;
  tlsWarned_[i] = true;
  LOG_WARN("[%s] backend %s (%s): certificate refused: %s", config_.title().c_str(),
           config_.backends[i].address.text.c_str(), upstreamTls_[i].serverName.c_str(), why);
}

void ProxyService::start() {
  binding_.start(ctx_.fds);
  if (ctx_.runtime->runsInstanceTasks()) {
    checker_ = std::make_unique<HealthChecker>(*this);
    checker_->start();
    if (cache_ && cache_->store().hasDisk()) {
      cleaner_ = std::make_unique<CacheCleaner>(runtime().loop(), cache_->store(),
                                                config_.cache.maxSize, config_.title());
      cleaner_->start();
    }
  }
}

void ProxyService::onRequest(http::Exchange& ex) {
  if (ex.request().method == http::Method::Connect) {  // not a forward proxy
    ex.sendError(405, "Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH\r\n");
    return;
  }
  request_.clear();
  if (cache_ && cache_->handle(ex, request_)) return;
  Relay* relay;
  if (free_.empty()) {
    relays_.push_back(std::make_unique<Relay>(*this));
    relay = relays_.back().get();
  } else {
    relay = free_.back();
    free_.pop_back();
  }
  if (request_.background) {  // the client has its (stale) answer; the relay works alone
    relay->start(ex, nullptr, request_);
    return;
  }
  auto link = std::make_unique<Link>();
  link->relay = relay;
  Link* raw = link.get();
  ex.state = std::move(link);
  relay->start(ex, raw, request_);
}

namespace {
Relay* relayOf(http::Exchange& ex) {
  auto* link = static_cast<Link*>(ex.state.get());
  return link ? link->relay : nullptr;
}
}  // namespace

void ProxyService::onBody(http::Exchange& ex, std::string_view data) {
  if (Relay* r = relayOf(ex)) r->clientBody(data);
}

void ProxyService::onBodyEnd(http::Exchange& ex) {
  if (Relay* r = relayOf(ex)) r->clientBodyEnd();
}

void ProxyService::onDrained(http::Exchange& ex) {
  if (Relay* r = relayOf(ex)) r->clientDrained();
}

void ProxyService::onParkedClose(http::Exchange& ex) {
  if (cache_) cache_->parkedClosed(ex);
}

void ProxyService::onAbort(http::Exchange& ex) {
  if (Relay* r = relayOf(ex)) r->clientGone();
}

std::unique_ptr<Service> ProxyConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<ProxyService>(*this, ctx);
}

}  // namespace manifold::proxy
