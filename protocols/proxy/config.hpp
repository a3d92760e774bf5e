// [proxy:NAME]: one reverse-proxied virtual server. Like [http:NAME] sites it may share a listen
// address with other [proxy:] and [http:] sections (chosen by Host through server_name). Every
// key is listed in README.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "protocols/http/limits_config.hpp"
#include "protocols/http/server.hpp"
#include "protocols/proxy/cache_fill.hpp"
#include "protocols/service.hpp"
#include "worker/peer_address.hpp"
#include "worker/tls_context.hpp"

namespace manifold::proxy {

enum class Balance : uint8_t { RoundRobin, LeastConn, IpHash, Hash };

struct BackendConfig {
  config::ListenAddress address;  // numeric ADDR:PORT
  unsigned weight = 1;
  bool backup = false;      // used only when no primary backend is available
  bool down = false;        // configured out (kept so that hash placement does not move)
  unsigned maxFails = 1;    // failures within failTimeout that mark it failed; 0: never
  double failTimeout = 10;  // the window for maxFails, and how long it then stays failed
  bool tls = false;         // `tls` word or upstream_tls = on: TLS to this backend
};

// TLS from the proxy to its backends (upstream_tls* keys): one client context per section,
// built by the master at parse time (so a bad file is refused at -t) and inherited by workers.
struct UpstreamTlsConfig {
  std::shared_ptr<TlsContext> context;  // null when no backend speaks TLS
  std::string name;                     // SNI and the verified name; "": each backend's host
};

struct HealthCheckConfig {
  bool enabled = false;
  std::string method = "GET";
  std::string path = "/";
  double interval = 2;
  unsigned rise = 2;  // consecutive successes that bring a backend back
  unsigned fall = 3;  // consecutive failures that take it out
  double timeout = 1;
};

struct CacheConfig {
  bool enabled = false;
  uint64_t memory = 64ull << 20;  // the shm region: index and in-memory bodies
  std::string dir;                // the disk tier ("" = memory only)
  uint64_t maxSize = 1ull << 30;  // disk tier budget
  CacheLimits limits;
  double lockTimeout = 5;        // how long a miss waits for another request's fetch of its key
  bool statusHeader = true;      // X-Cache
  std::vector<net::Cidr> purge;  // networks allowed to PURGE; empty: PURGE is refused
  bool backgroundUpdate = true;  // stale-while-revalidate refreshes without a client waiting
};

struct ProxyConfig : public ServiceConfig, http::VirtualServerKeys {
  // For services built on the proxy (protocols/fs): balance = hash on the path alone (not the
  // query), and a 404 is tried on the next candidate while there is one (another copy may
  // hold the file).
  bool hashPathOnly = false;
  bool retryNotFound = false;
  std::vector<BackendConfig> backends;
  Balance balance = Balance::RoundRobin;
  double connectTimeout = 5;
  double readTimeout = 60;
  double upstreamSendTimeout = 60;
  bool splice = true;           // upstream_splice: large Content-Length bodies by splice(2)
  unsigned retries = 2;         // further backends tried for an idempotent request
  double retryTimeout = 10;     // no new try once this long has passed since the first
  unsigned keepaliveIdle = 32;  // pooled connections per backend and worker; 0: no reuse
  double keepaliveIdleTimeout = 60;
  HealthCheckConfig health;
  UpstreamTlsConfig upstreamTls;
  CacheConfig cache;
  http::ServerLimits limits;

  std::vector<ListenRequest> listeners() const override;
  std::vector<RegionRequest> regions() const override;
  std::vector<CounterSpec> counters() const override;
  std::string listenShareGroup() const override { return "http"; }
  std::vector<std::string> workerDirectories() const override;
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

// Shared with the sections built on the proxy (protocols/fs): the upstream keys (timeouts,
// retries, keep-alive, health_check, cache*, client limits), and one backend from its words
// ("ADDR:PORT [weight=N] [backup] [down] [max_fails=N] [fail_timeout=TIME] [tls]") at `line` of
// `key`. readUpstreamKeys reads the upstream_tls* keys too, so the backends come first.
void readUpstreamKeys(config::SectionReader& in, ProxyConfig& c);
BackendConfig backendFromWords(config::SectionReader& in, int line, std::string_view key,
                               std::span<const std::string_view> words);

}  // namespace manifold::proxy
