#include "protocols/proxy/cache_front.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "protocols/ascii.hpp"
#include "protocols/proxy/cache_policy.hpp"
#include "protocols/proxy/cache_reply.hpp"
#include "protocols/proxy/counters.hpp"
#include "protocols/proxy/service.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::proxy {

namespace {

// The conditional fields that revalidate a stored object (RFC 9111 4.3.1).
void appendValidators(std::string_view head, std::string& out) {
  out.clear();
  if (std::string_view etag = storedField(head, "etag"); !etag.empty())
    out.append("If-None-Match: ").append(etag).append("\r\n");
  if (std::string_view lm = storedField(head, "last-modified"); !lm.empty())
    out.append("If-Modified-Since: ").append(lm).append("\r\n");
}

}  // namespace

CacheFront::CacheFront(ProxyService& service, void* region)
    : service_(service),
      store_(region, service.config().cache.dir),
      poll_(service.runtime().loop(), [this] { poll(); }) {}

CacheFront::~CacheFront() = default;

std::string_view CacheFront::label(std::string_view l) const {
  return service_.config().cache.statusHeader ? l : std::string_view();
}

bool CacheFront::handle(http::Exchange& ex, CacheRequest& out) {
  out.clear();
  const http::Request& r = ex.request();
  const CacheConfig& config = service_.config().cache;
  shm::CounterSlot c = service_.counters();
  if (bypassNext_) {  // waited for another fetch too long: go alone, store if possible
    bypassNext_ = false;
    c.inc(kCacheBypass);
    out.label = label("BYPASS");
    return false;
  }
  if (r.methodText == "PURGE" && !config.purge.empty()) {
    purge(ex);
    return true;
  }
  if (!r.isHeadOrGet()) {
    if (r.method != http::Method::Options && r.method != http::Method::Trace && !r.host.empty()) {
      out.invalidate = true;
      CacheStore::primaryKey(r.host, r.path, r.query, out.primary);
    }
    return false;
  }
  out.label = label("BYPASS");
  if (r.host.empty()) {
    c.inc(kCacheBypass);
    return false;
  }
  bool onlyIfCached = false;
  if (std::string_view cc = r.find("cache-control"); !cc.empty()) {
    CacheControl directives;
    parseCacheControl(cc, directives);
    if (directives.noStore) {
      c.inc(kCacheBypass);
      return false;
    }
    onlyIfCached = directives.onlyIfCached;
  }
  CacheStore::primaryKey(r.host, r.path, r.query, primary_);
  const int64_t now = service_.runtime().now();
  const bool authorization = !r.find("authorization").empty();
  enum class Found { Miss, Hit, Disk, Stale, Private } found = Found::Miss;
  ObjectMeta meta{};
  store_.lookup(primary_, r, key_, true, now,
                [&](ObjectMeta& m, std::string_view head, std::string_view body) {
                  if (authorization && !(m.flags & ObjectMeta::kAuthorized)) {
                    found = Found::Private;
                    return;
                  }
                  meta = m;
                  if (!m.fresh(now)) {
                    found = Found::Stale;
                    head_.assign(head);
                  } else if (m.flags & ObjectMeta::kOnDisk) {
                    found = Found::Disk;
                    head_.assign(head);
                  } else {
                    found = Found::Hit;
                    replyFromCache(ex, m, head, body, nullptr, now, label("HIT"), &r);
                  }
                });
  switch (found) {
    case Found::Hit:
      c.inc(kCacheHits);
      c.add(kCacheBytesHit, ex.head() ? 0 : meta.bodyLength);
      return true;
    case Found::Disk:
      if (serveDisk(ex, meta, head_, label("HIT"), &r)) {
        c.inc(kCacheHits);
        c.inc(kCacheDiskHits);
        c.add(kCacheBytesHit, ex.head() ? 0 : meta.bodyLength);
        return true;
      }
      found = Found::Miss;  // the file is gone (cleaned): fetch again
      break;
    case Found::Private:
      c.inc(kCacheBypass);
      return false;
    default:
      break;
  }

  if (onlyIfCached) {  // RFC 9111 5.2.1.7: nothing fresh stored, and no going to the origin
    ex.sendError(504);
    return true;
  }
  const uint64_t nowMs = clock::monotonicMs();
  const uint64_t holdMs = static_cast<uint64_t>(config.lockTimeout * 1000);
  out.primary = primary_;
  out.key = key_;
  out.label = label("MISS");
  if (found == Found::Stale) {
    out.mode = CacheRequest::Mode::Revalidate;
    appendValidators(head_, out.validators);
    bool swr = meta.staleWithin(now, meta.staleWhileRevalidate);
    if (store_.tryLock(key_, nowMs, holdMs)) {
      out.locked = true;
      if (swr && config.backgroundUpdate) {
        // Answer stale now; the relay refreshes the object with no client attached.
        if (replyStored(ex, key_, label("STALE"), meta.staleWhileRevalidate, &r)) {
          out.background = true;
          c.inc(kCacheBackground);
          return false;
        }
      }
      return false;
    }
    if (swr && replyStored(ex, key_, label("STALE"), meta.staleWhileRevalidate, &r)) return true;
    park(ex, key_);
    return true;
  }
  c.inc(kCacheMisses);
  out.mode = CacheRequest::Mode::Fill;
  if (store_.passMarked(key_, now)) return false;  // not storable lately: no waiting in line
  if (store_.tryLock(key_, nowMs, holdMs)) {
    out.locked = true;
    return false;
  }
  c.dec(kCacheMisses);
  park(ex, key_);
  return true;
}

bool CacheFront::serveDisk(http::Exchange& ex, const ObjectMeta& meta, std::string_view head,
                           std::string_view label, const http::Request* req) {
  int fd = ::open(store_.filePath(key_).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    store_.table()->erase(key_);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 ||
      static_cast<uint64_t>(st.st_size) != meta.bodyOffset + meta.bodyLength) {
    ::close(fd);
    store_.table()->erase(key_);
    return false;
  }
  auto file = std::make_shared<OpenFile>(fd);
  replyFromCache(ex, meta, head, {}, file, service_.runtime().now(), label, req);
  return true;
}

bool CacheFront::replyStored(http::Exchange& ex, std::string_view key, std::string_view label,
                             int64_t maxStale, const http::Request* req) {
  const int64_t now = service_.runtime().now();
  bool served = false, disk = false;
  ObjectMeta meta{};
  store_.withObject(key, true, now, false,
                    [&](ObjectMeta& m, std::string_view head, std::string_view body) {
                      int64_t window = maxStale == kStaleIfError ? m.staleIfError : maxStale;
                      if (maxStale != -1 && !m.staleWithin(now, window)) return;
                      meta = m;
                      if (m.flags & ObjectMeta::kOnDisk) {
                        disk = true;
                        head_.assign(head);
                        return;
                      }
                      replyFromCache(ex, m, head, body, nullptr, now, label, req);
                      served = true;
                    });
  if (disk) {
    key_.assign(key);
    served = serveDisk(ex, meta, head_, label, req);
  }
  if (!served) return false;
  shm::CounterSlot c = service_.counters();
  c.inc(maxStale == -1 ? kCacheRevalidated : kCacheStale);
  c.add(kCacheBytesHit, ex.head() ? 0 : meta.bodyLength);
  return true;
}

void CacheFront::purge(http::Exchange& ex) {
  const http::Request& r = ex.request();
  net::PeerAddress peer = net::peerAddress(ex.connection().peerAddress());
  if (!net::anyContains(service_.config().cache.purge, peer)) {
    ex.sendError(403);
    return;
  }
  CacheStore::primaryKey(r.host, r.path, r.query, primary_);
  bool found = store_.purge(primary_);
  if (found) service_.counters().inc(kCachePurges);
  ex.sendError(found ? 200 : 404);
}

void CacheFront::invalidate(std::string_view primary, std::string_view location,
                            std::string_view contentLocation) {
  shm::CounterSlot c = service_.counters();
  if (store_.purge(primary)) c.inc(kCacheInvalidations);
  std::string_view host = primary.substr(0, primary.find('\n'));
  for (std::string_view uri : {location, contentLocation}) {
    if (uri.empty()) continue;
    if (uri.starts_with("http://") || uri.starts_with("https://")) {
      uri.remove_prefix(uri.find("//") + 2);
      size_t slash = uri.find('/');
      std::string_view authority = uri.substr(0, slash);
      if (slash == std::string_view::npos)
        uri = "/";
      else
        uri.remove_prefix(slash);
      std::string other;
      CacheStore::primaryKey(authority, "", "", other);
      if (other.substr(0, other.size() - 1) != host) continue;  // another host: not ours
    }
    if (uri.empty() || uri[0] != '/') continue;
    size_t q = uri.find('?');
    CacheStore::primaryKey(host, uri.substr(0, q),
                           q == std::string_view::npos ? std::string_view() : uri.substr(q + 1),
                           primary_);
    if (store_.purge(primary_)) c.inc(kCacheInvalidations);
  }
}

void CacheFront::diskFailed() {
  service_.counters().inc(kCacheDiskErrors);
  if (diskWarned_) return;
  diskWarned_ = true;
  LOG_ERROR("[%s] cache_dir %s: write failed (%s); serving from memory, larger objects not cached",
            service_.config().title().c_str(), store_.dir().c_str(), strerror(errno));
}

void CacheFront::park(http::Exchange& ex, std::string_view key) {
  ex.park();
  waiters_.push_back({&ex, std::string(key), service_.runtime().loopTime()});
  service_.counters().inc(kCacheCoalesced);
  if (!poll_.active()) poll_.once(kPollInterval);
}

void CacheFront::parkedClosed(http::Exchange& ex) {
  std::erase_if(waiters_, [&](const Waiter& w) { return w.ex == &ex; });
}

void CacheFront::releaseLock(CacheRequest& req, bool stored) {
  if (!req.locked) return;
  req.locked = false;
  // Not stored (not storable, or the fetch failed): the waiters go to the backend side by side
  // for a while rather than one after another.
  if (!stored)
    store_.markPass(req.key, service_.runtime().now() + service_.config().cache.limits.passTtl);
  store_.unlock(req.key);
  if (!waiters_.empty()) poll_.once(0);  // wake this worker's waiters from the loop
}

void CacheFront::poll() {
  const uint64_t nowMs = clock::monotonicMs();
  const double now = service_.runtime().loopTime();
  const double timeout = service_.config().cache.lockTimeout;
  // Ready: the lock is gone (the object is there, or the fetch failed: they try themselves).
  std::vector<std::pair<http::Exchange*, bool>> ready;
  std::string lastKey;
  bool lastLocked = false;
  for (size_t i = 0; i < waiters_.size();) {
    Waiter& w = waiters_[i];
    if (w.key != lastKey) {
      lastKey = w.key;
      lastLocked = store_.locked(w.key, nowMs);
    }
    bool late = now - w.since >= timeout;
    if (lastLocked && !late) {
      ++i;
      continue;
    }
    ready.emplace_back(w.ex, lastLocked);
    waiters_[i] = std::move(waiters_.back());
    waiters_.pop_back();
  }
  // Resumed one at a time: each goes through onRequest again (and may park again).
  for (auto [ex, late] : ready) {
    bypassNext_ = late;
    ex->resume();
    bypassNext_ = false;
  }
  if (!waiters_.empty() && !poll_.active()) poll_.once(kPollInterval);
}

}  // namespace manifold::proxy
