// The proxy's counters, after the HTTP engine's own (one block per [proxy:NAME], summed over
// workers), then a block of kBackendCounterCount per backend (see backendCounters()).
#pragma once

#include <string>
#include <vector>

#include "protocols/http/server.hpp"
#include "shm/counters.hpp"

namespace manifold::proxy {

#define MANIFOLD_PROXY_COUNTERS(X)                                                             \
  X(kProxied, "proxy_requests", Counter, "requests sent on to a backend")                      \
  X(kResponses, "proxy_responses", Counter, "backend responses relayed whole")                 \
  X(kBadGateway, "proxy_502", Counter, "502: no backend answered with a valid response")       \
  X(kUnavailable, "proxy_503", Counter, "503: no backend available")                           \
  X(kGatewayTimeout, "proxy_504", Counter, "504: the backend did not answer in read_timeout")  \
  X(kCut, "proxy_cut", Counter, "responses cut short (backend failed after bytes were sent)")  \
  X(kRetries, "proxy_retries", Counter, "requests tried again on another backend")             \
  X(kStaleRetries, "proxy_stale_retries", Counter,                                             \
    "requests retried after a stale pooled connection")                                        \
  X(kConnects, "upstream_connects", Counter, "new connections to backends")                    \
  X(kReused, "upstream_reused", Counter, "requests sent on a pooled keep-alive connection")    \
  X(kConnectFailures, "upstream_connect_failures", Counter, "connects refused or timed out")   \
  X(kBytesToUpstream, "upstream_bytes_out", Counter, "request bytes sent to backends")         \
  X(kBytesFromUpstream, "upstream_bytes_in", Counter, "response bytes received from backends") \
  X(kActive, "upstream_active", Gauge, "requests in flight to backends")                       \
  X(kUpstreamTlsFull, "upstream_tls_handshakes_full", Counter,                                 \
    "TLS handshakes with backends that made a new session")                                    \
  X(kUpstreamTlsResumed, "upstream_tls_handshakes_resumed", Counter,                           \
    "TLS handshakes with backends that resumed the last session")                              \
  X(kUpstreamTlsVerifyFailures, "upstream_tls_verify_failures", Counter,                       \
    "backend certificates refused (untrusted, expired, wrong name)")                           \
  X(kSpliced, "upstream_spliced", Counter,                                                     \
    "response bodies relayed with splice(2), without a user-space copy")
enum ProxyCounter : unsigned {
  kProxyFirst = http::kHttpCounterCount - 1,
  MANIFOLD_PROXY_COUNTERS(MANIFOLD_COUNTER_ENUM) kProxyCounterEnd
};
inline constexpr shm::CounterDef kProxyCounterDefs[] = {
    MANIFOLD_PROXY_COUNTERS(MANIFOLD_COUNTER_DEF)};

// The cache's, after the proxy's (present whether or not cache = on, so the layout is fixed).
#define MANIFOLD_CACHE_COUNTERS(X)                                                               \
  X(kCacheHits, "proxy_cache_hits", Counter, "answered from the cache, fresh")                   \
  X(kCacheMisses, "proxy_cache_misses", Counter, "cacheable requests fetched from a backend")    \
  X(kCacheStale, "proxy_cache_stale", Counter,                                                   \
    "answered stale (stale-while-revalidate, stale-if-error, or while another fetch runs)")      \
  X(kCacheRevalidated, "proxy_cache_revalidated", Counter,                                       \
    "stale objects a backend confirmed (304)")                                                   \
  X(kCacheBypass, "proxy_cache_bypass", Counter, "requests the cache could not answer or store") \
  X(kCacheCoalesced, "proxy_cache_coalesced", Counter, "misses that waited for another's fetch") \
  X(kCacheStores, "proxy_cache_stores", Counter, "objects stored")                               \
  X(kCacheNotStored, "proxy_cache_not_stored", Counter, "responses not storable (private, ...)") \
  X(kCacheDiskHits, "proxy_cache_disk_hits", Counter, "hits served from the disk tier")          \
  X(kCacheDiskErrors, "proxy_cache_disk_errors", Counter, "disk tier writes that failed")        \
  X(kCacheBytesHit, "proxy_cache_bytes_hit", Counter, "body bytes answered from the cache")      \
  X(kCachePurges, "proxy_cache_purges", Counter, "PURGE requests that removed an object")        \
  X(kCacheInvalidations, "proxy_cache_invalidations", Counter,                                   \
    "objects invalidated by an unsafe method (POST, PUT, DELETE...)")                            \
  X(kCacheBackground, "proxy_cache_background_updates", Counter,                                 \
    "stale-while-revalidate refreshes fetched without a waiting client")
enum CacheCounter : unsigned {
  kCacheFirst = kProxyCounterEnd - 1,
  MANIFOLD_CACHE_COUNTERS(MANIFOLD_COUNTER_ENUM) kCacheCounterEnd
};
inline constexpr shm::CounterDef kCacheCounterDefs[] = {
    MANIFOLD_CACHE_COUNTERS(MANIFOLD_COUNTER_DEF)};

// Per backend i, at kCacheCounterEnd + i * kBackendCounterCount + the counter.
enum BackendCounter : unsigned {
  kBackendRequests,
  kBackendFailures,
  kBackendDown,       // gauge: 1 in the worker that holds the backend as failed (see health.hpp)
  kBackendLatencyMs,  // sum of milliseconds from request sent to response head, per response
  kBackendResponses,  // responses whose head arrived (divide the latency sum by it)
  kBackendCounterCount
};

}  // namespace manifold::proxy
