#include "protocols/proxy/config.hpp"

#include "protocols/http/limits_config.hpp"
#include "protocols/proxy/counters.hpp"
#include "protocols/proxy/health.hpp"

namespace manifold::proxy {

namespace {

using config::Millis;

unsigned option(config::SectionReader& in, int line, std::string_view key, std::string_view word,
                std::string_view name, int64_t min, int64_t max) {
  int64_t v = 0;
  std::string why;
  if (!config::parseInteger(word.substr(name.size() + 1), v, why) || v < min || v > max)
    in.failAt(line, key,
              std::string(name) + " must be " + std::to_string(min) + ".." + std::to_string(max));
  return static_cast<unsigned>(v);
}

double duration(config::SectionReader& in, int line, std::string_view key, std::string_view word) {
  Millis d{};
  std::string why;
  if (!config::parseDuration(word, d, why) || d.count() <= 0)
    in.failAt(line, key, std::string(word) + ": " + (why.empty() ? "must be positive" : why));
  return static_cast<double>(d.count()) / 1000.0;
}

BackendConfig parseBackend(config::SectionReader& in, const config::Entry& e) {
  std::vector<std::string_view> words = config::splitWords(e.value);
  if (words.empty()) in.failAt(e.line, "backend", "needs ADDR:PORT");
  return backendFromWords(in, e.line, "backend", words);
}

// "GET /path interval=2s rise=2 fall=3 timeout=1s", or "off".
HealthCheckConfig parseHealthCheck(config::SectionReader& in) {
  HealthCheckConfig h;
  std::vector<std::string> words = in.list("health_check", "off");
  int line = in.lineOf("health_check");
  if (words.size() == 1 && words[0] == "off") return h;
  if (words.size() < 2 || (words[0] != "GET" && words[0] != "HEAD") || words[1].empty() ||
      words[1][0] != '/')
    in.fail("health_check", "expects off or METHOD /path [interval=2s rise=2 fall=3 timeout=1s]");
  h.enabled = true;
  h.method = words[0];
  h.path = words[1];
  for (size_t i = 2; i < words.size(); ++i) {
    std::string_view w = words[i];
    int64_t n = 0;
    std::string why;
    if (w.starts_with("interval=")) {
      h.interval = duration(in, line, "health_check", w.substr(9));
    } else if (w.starts_with("timeout=")) {
      h.timeout = duration(in, line, "health_check", w.substr(8));
    } else if (w.starts_with("rise=") && config::parseInteger(w.substr(5), n, why) && n >= 1 &&
               n <= 100) {
      h.rise = static_cast<unsigned>(n);
    } else if (w.starts_with("fall=") && config::parseInteger(w.substr(5), n, why) && n >= 1 &&
               n <= 100) {
      h.fall = static_cast<unsigned>(n);
    } else {
      in.fail("health_check", "bad option '" + std::string(w) +
                                  "' (interval=TIME, timeout=TIME, rise=1..100, fall=1..100)");
    }
  }
  return h;
}

void readCache(config::SectionReader& in, CacheConfig& c) {
  c.enabled = in.flag("cache", false);
  c.memory = in.size("cache_memory", 64ull << 20, 1 << 20, 64ull << 30);
  c.dir = in.directory("cache_dir", "", false);
  c.maxSize = in.size("cache_max_size", 1ull << 30, 1 << 20, 1ull << 50);
  c.limits.memoryMaxObject =
      in.size("cache_memory_max_object", 1 << 20, 0, std::min<uint64_t>(c.memory / 4, 1ull << 31));
  c.limits.diskMaxObject =
      in.size("cache_max_object", std::min<uint64_t>(c.maxSize / 4, 1ull << 30), 1, c.maxSize);
  c.lockTimeout = in.seconds("cache_lock_timeout", Millis(5000), Millis(1), Millis(600000));
  c.statusHeader = in.flag("cache_status_header", true);
  c.purge = in.networks("cache_purge", "none");
  c.backgroundUpdate = in.flag("cache_background_update", true);
  std::string cookies = in.choice("cache_set_cookie", "skip", {"skip", "strip"});
  c.limits.rules.storeSetCookie = cookies == "strip";
  int64_t percent = in.integer("cache_heuristic_percent", 10, 0, 100);
  c.limits.rules.heuristicFraction = static_cast<double>(percent) / 100.0;
  c.limits.rules.heuristicMax = static_cast<int64_t>(
      in.seconds("cache_heuristic_max", Millis(86400000), Millis(0), Millis(31536000000)));
  c.limits.passTtl = static_cast<int64_t>(
      in.seconds("cache_pass_ttl", Millis(10000), Millis(0), Millis(86400000)));
}

// upstream_tls = on marks every backend; the context is built once if any backend uses TLS.
void readUpstreamTls(config::SectionReader& in, ProxyConfig& c) {
  const bool all = in.flag("upstream_tls", false);
  TlsClientOptions options;
  options.verify = in.flag("upstream_tls_verify", true);
  options.caFile = in.path("upstream_tls_ca", "");
  options.certificate = in.path("upstream_tls_certificate", "");
  options.key = in.path("upstream_tls_key", "");
  c.upstreamTls.name = in.text("upstream_tls_name", "");
  if (options.certificate.empty() != options.key.empty())
    in.fail(options.key.empty() ? "upstream_tls_key" : "upstream_tls_certificate",
            "upstream_tls_certificate and upstream_tls_key go together");
  bool any = false;
  for (BackendConfig& b : c.backends) {
    b.tls = b.tls || all;
    any = any || b.tls;
  }
  if (!any) return;
  TlsProblem problem;
  c.upstreamTls.context = TlsContext::buildClient(options, problem);
  if (c.upstreamTls.context) return;
  switch (problem.field) {
    case TlsProblem::Field::Ca:
      in.fail("upstream_tls_ca", problem.why);
    case TlsProblem::Field::Certificate:
      in.fail("upstream_tls_certificate", problem.why);
    case TlsProblem::Field::Key:
      in.fail("upstream_tls_key", problem.why);
    default:
      in.fail("upstream_tls", problem.why);
  }
}

std::unique_ptr<ServiceConfig> parseProxySection(config::SectionReader& in) {
  auto c = std::make_unique<ProxyConfig>();
  c->VirtualServerKeys::read(in);
  // A repeatable key, one backend per line: list() declares it so (its words are not used).
  in.list("backend", "");
  for (const config::Entry& e : in.section().entries)
    if (e.key == "backend") c->backends.push_back(parseBackend(in, e));
  if (c->backends.empty()) in.fail("backend", "at least one backend is required");
  if (c->backends.size() > kMaxBackends)
    in.fail("backend", "at most " + std::to_string(kMaxBackends) + " backends");
  std::string balance =
      in.choice("balance", "roundrobin", {"roundrobin", "leastconn", "iphash", "hash"});
  c->balance = balance == "leastconn" ? Balance::LeastConn
               : balance == "iphash"  ? Balance::IpHash
               : balance == "hash"    ? Balance::Hash
                                      : Balance::RoundRobin;
  readUpstreamKeys(in, *c);
  return c;
}

}  // namespace

MANIFOLD_PROTOCOL("proxy", parseProxySection);

void readUpstreamKeys(config::SectionReader& in, ProxyConfig& c) {
  c.connectTimeout = in.seconds("connect_timeout", Millis(5000), Millis(1), Millis(600000));
  c.readTimeout = in.seconds("read_timeout", Millis(60000), Millis(1), Millis(86400000));
  c.retries = static_cast<unsigned>(in.integer("retries", 2, 0, 16));
  c.retryTimeout = in.seconds("retry_timeout", Millis(10000), Millis(1), Millis(3600000));
  c.keepaliveIdle = static_cast<unsigned>(in.integer("upstream_keepalive", 32, 0, 10000));
  c.keepaliveIdleTimeout =
      in.seconds("upstream_keepalive_timeout", Millis(60000), Millis(1), Millis(3600000));
  c.splice = in.flag("upstream_splice", true);
  c.health = parseHealthCheck(in);
  readUpstreamTls(in, c);
  readCache(in, c.cache);
  c.limits.maxBodySize = in.size("client_max_body_size", 1ull << 30, 0, 1ull << 50);
  c.limits = http::readConnectionLimits(in, c.limits);
  c.upstreamSendTimeout = c.limits.sendTimeout;
}

BackendConfig backendFromWords(config::SectionReader& in, int line, std::string_view key,
                               std::span<const std::string_view> words) {
  BackendConfig b;
  std::string why;
  if (!config::parseRemoteAddress(words[0], 80, b.address, why))
    in.failAt(line, key, std::string(words[0]) + ": " + why);
  b.address.line = line;
  for (size_t i = 1; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (w == "backup") {
      b.backup = true;
    } else if (w == "down") {
      b.down = true;
    } else if (w == "tls") {
      b.tls = true;
    } else if (w.starts_with("weight=")) {
      b.weight = option(in, line, key, w, "weight", 1, 1000);
    } else if (w.starts_with("max_fails=")) {
      b.maxFails = option(in, line, key, w, "max_fails", 0, 1000);
    } else if (w.starts_with("fail_timeout=")) {
      b.failTimeout = duration(in, line, key, w.substr(13));
    } else {
      in.failAt(line, key,
                "unknown option '" + std::string(w) +
                    "' (weight=N, backup, down, max_fails=N, fail_timeout=TIME, tls)");
    }
  }
  return b;
}

std::vector<ListenRequest> ProxyConfig::listeners() const {
  return listenRequests(listen, listenLine, false, true);
}

// Regions, in ServiceContext::regions order: [0] backend health, [1] the cache (cache = on),
// then with a tls listen address the TLS session ticket keys and cache (resumption).
std::vector<RegionRequest> ProxyConfig::regions() const {
  size_t count = backends.size();
  std::vector<RegionRequest> out{{title() + "/backends", HealthRegion::layout(),
                                  HealthRegion::bytes(count),
                                  [count](void* base, size_t, bool adopted) {
                                    if (!adopted) HealthRegion::format(base, count);
                                  },
                                  ""}};
  if (cache.enabled)
    out.push_back({title() + "/cache", CacheStore::layout(), cache.memory,
                   [](void* base, size_t bytes, bool adopted) {
                     if (!adopted) CacheStore::format(base, bytes);
                   },
                   "cache_memory"});
  if (tls.enabled())
    for (RegionRequest& r : tls.regions(title())) out.push_back(std::move(r));
  return out;
}

std::vector<std::string> ProxyConfig::workerDirectories() const {
  if (!cache.enabled || cache.dir.empty()) return {};
  return {cache.dir, cache.dir + "/tmp"};
}

std::vector<CounterSpec> ProxyConfig::counters() const {
  std::vector<CounterSpec> out = http::httpCounters();
  appendCounters(out, kProxyCounterDefs);
  appendCounters(out, kCacheCounterDefs);
  for (size_t i = 0; i < backends.size(); ++i) {
    std::string prefix = "backend_" + std::to_string(i) + "_";
    std::string who = " (" + backends[i].address.text + ")";
    out.push_back({prefix + "requests", CounterKind::Counter, "requests sent to backend" + who});
    out.push_back({prefix + "failures", CounterKind::Counter, "failed tries on backend" + who});
    out.push_back({prefix + "down", CounterKind::Gauge,
                   "1 while backend" + who + " is marked down (passive or active health)"});
    out.push_back({prefix + "latency_ms", CounterKind::Counter,
                   "milliseconds from request to response head, summed, backend" + who});
    out.push_back(
        {prefix + "responses", CounterKind::Counter, "response heads received from backend" + who});
  }
  return out;
}

}  // namespace manifold::proxy
