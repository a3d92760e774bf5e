// The cache in front of the relays (cache = on): per request, answer from the cache, wait for
// another request's fetch of the same object, or hand the request to a Relay that fills or
// revalidates the cache (see CacheRequest). One per [proxy:NAME] and worker; the store it uses is
// shared by every worker.
//
// Coalescing: the first miss of a key takes its fill lock in shm; later misses of that key, in
// any worker, park their exchange (http::Exchange::park) and are handed to onRequest again once
// the lock is gone (at once when the fetch ran in this worker, within kPollInterval otherwise),
// then mostly hit. A wait longer than cache_lock_timeout goes to the backend on its own.
// While a stale object may be served (stale-while-revalidate), waiters get it instead of waiting.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/server.hpp"
#include "protocols/proxy/cache_store.hpp"
#include "worker/timer.hpp"

namespace manifold::proxy {

class ProxyService;

// What a relay does for the cache.
struct CacheRequest {
  enum class Mode : uint8_t { None, Fill, Revalidate };
  Mode mode = Mode::None;
  bool background = false;  // no client waits: the response only refreshes the cache
  bool locked = false;      // the relay holds the fill lock of `key` (released when it ends)
  bool invalidate = false;  // an unsafe method: a non-error response invalidates `primary`
  std::string primary, key;
  std::string validators;  // conditional fields of a revalidation, whole lines
  std::string_view label;  // X-Cache of the relayed response ("" = none)
  void clear() {
    mode = Mode::None;
    background = locked = invalidate = false;
    primary.clear();
    key.clear();
    validators.clear();
    label = {};
  }
};

class CacheFront {
 public:
  static constexpr double kPollInterval = 0.005;

  CacheFront(ProxyService& service, void* region);
  ~CacheFront();

  // From onRequest. True when the request is taken care of (answered or parked); otherwise
  // `out` says how the relay should treat it.
  bool handle(http::Exchange& ex, CacheRequest& out);
  void parkedClosed(http::Exchange& ex);

  // A relay ends its part: its lock (if it held one) is released and waiters are woken.
  void releaseLock(CacheRequest& req, bool stored);
  // Answers `ex` from the stored object `key` (after a 304, or stale when the backend failed:
  // `maxStale` then bounds how stale, -1 for a fresh/revalidated object). `req`: see
  // replyFromCache (nullptr once the exchange is deferred). False: nothing usable.
  bool replyStored(http::Exchange& ex, std::string_view key, std::string_view label,
                   int64_t maxStale, const http::Request* req = nullptr);
  // RFC 9111 4.4: a non-error response to an unsafe method invalidates the target URI and the
  // Location / Content-Location URIs of the same host.
  void invalidate(std::string_view primary, std::string_view location,
                  std::string_view contentLocation);
  CacheStore& store() { return store_; }
  // A disk tier write failed (full, read-only, I/O error): counted, logged once per worker;
  // objects that fit in memory are still stored there.
  void diskFailed();
  std::string_view label(std::string_view l) const;
  static constexpr int64_t kStaleIfError = -2;  // replyStored: within the object's stale-if-error

 private:
  struct Waiter {
    http::Exchange* ex;
    std::string key;
    double since;
  };
  void purge(http::Exchange& ex);
  void park(http::Exchange& ex, std::string_view key);
  void poll();
  bool serveDisk(http::Exchange& ex, const ObjectMeta& meta, std::string_view head,
                 std::string_view label, const http::Request* req);

  ProxyService& service_;
  CacheStore store_;
  std::vector<Waiter> waiters_;
  Timer poll_;
  bool bypassNext_ = false;
  bool diskWarned_ = false;           // the next onRequest is a waiter that waited too long
  std::string primary_, key_, head_;  // scratch, reused
};

}  // namespace manifold::proxy
