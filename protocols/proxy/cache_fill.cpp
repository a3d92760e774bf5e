#include "protocols/proxy/cache_fill.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocols/http/date.hpp"
#include "protocols/http/response.hpp"
#include "protocols/proxy/forward.hpp"

namespace manifold::proxy {

namespace {

using http::equalsIgnoreCase;

// Whole writes to a file (short writes continued); false with errno set.
bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void fillMeta(ObjectMeta& m, const StorePlan& plan, time_t now) {
  m.kind = EntryKind::Object;
  m.flags = (plan.mustRevalidate ? ObjectMeta::kMustRevalidate : 0) |
            (plan.noCache ? ObjectMeta::kNoCache : 0) |
            (plan.authorized ? ObjectMeta::kAuthorized : 0);
  m.responseTime = now;
  m.initialAge = plan.initialAge;
  m.lifetime = plan.lifetime;
  m.staleWhileRevalidate =
      static_cast<uint32_t>(std::min<int64_t>(plan.staleWhileRevalidate, UINT32_MAX));
  m.staleIfError = static_cast<uint32_t>(std::min<int64_t>(plan.staleIfError, UINT32_MAX));
  m.lastUsed = now;
}

}  // namespace

void buildStoredHead(const ResponseHead& resp, bool stripSetCookie, std::string& out,
                     ObjectMeta& meta) {
  out.clear();
  out.append(std::to_string(resp.status)).append(" ");
  out.append(resp.reason.empty() ? http::statusText(resp.status) : resp.reason).append("\r\n");
  meta.etagOffset = meta.etagLength = 0;
  meta.lastModified = -1;
  bool dated = false;
  for (size_t i = 0; i < resp.headerCount; ++i) {
    const http::Header& f = resp.headers[i];
    if (hopByHop(f.name, resp) || unstoredField(f.name, stripSetCookie)) continue;
    dated = dated || equalsIgnoreCase(f.name, "date");
    out.append(f.name).append(": ");
    if (equalsIgnoreCase(f.name, "etag") && meta.etagLength == 0) {
      meta.etagOffset = static_cast<uint32_t>(out.size());
      meta.etagLength = static_cast<uint32_t>(f.value.size());
    } else if (equalsIgnoreCase(f.name, "last-modified")) {
      time_t t;
      if (http::parseHttpDate(f.value, t)) meta.lastModified = t;
    }
    out.append(f.value).append("\r\n");
  }
  if (!dated) {  // RFC 9110 6.6.1: a cache adds the Date its origin left out
    char date[http::kHttpDateLength];
    http::formatHttpDate(static_cast<time_t>(meta.responseTime), date);
    http::appendHeader(out, "Date", std::string_view(date, sizeof date));
  }
  meta.status = static_cast<uint16_t>(resp.status);
  meta.headLength = static_cast<uint32_t>(out.size());
}

void CacheFill::prepare(std::string_view primary, std::string_view requestHead,
                        time_t requestTime) {
  abort();
  primary_.assign(primary);
  key_.assign(primary);
  requestHead_.assign(requestHead).append("\r\n");
  requestTime_ = requestTime;
  reason_ = "";
  diskFailed_ = false;
}

bool CacheFill::begin(const ResponseHead& resp, time_t now) {
  http::Request req;
  if (http::parseRequest(requestHead_, req).status != http::ParseStatus::Complete) {
    reason_ = "request head";
    return false;
  }
  StorePlan plan = planStore(req, resp, requestTime_, now, limits_.rules);
  if (!plan.storable) {
    reason_ = plan.reason;
    return false;
  }
  if (resp.contentLength > 0 &&
      static_cast<uint64_t>(resp.contentLength) > limits_.memoryMaxObject &&
      (!store_.hasDisk() || static_cast<uint64_t>(resp.contentLength) > limits_.diskMaxObject)) {
    reason_ = "too large";
    return false;
  }
  std::string names;
  varyNames(resp, names);
  if (names.empty()) {
    key_.assign(primary_);
  } else {
    uint64_t epoch = store_.putVary(primary_, names);
    CacheStore::variantKey(primary_, epoch, req, names, key_);
  }
  meta_ = ObjectMeta{};
  fillMeta(meta_, plan, now);
  buildStoredHead(resp, plan.stripSetCookie, head_, meta_);
  body_.clear();
  bodyBytes_ = 0;
  active_ = true;
  if (resp.contentLength > 0 && static_cast<uint64_t>(resp.contentLength) > limits_.memoryMaxObject)
    return spill();
  return true;
}

bool CacheFill::spill() {
  std::string dir = store_.dir() + "/tmp";
  static unsigned sequence = 0;
  tempPath_ = dir + "/" + std::to_string(getpid()) + "-" + std::to_string(++sequence);
  fd_ = ::open(tempPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::string header;
  CacheStore::appendFileHeader(header, key_, meta_, head_);
  if (fd_ < 0 || !writeAll(fd_, header) || !writeAll(fd_, body_)) {
    diskFailed_ = errno == ENOSPC || errno == EDQUOT || errno == EIO || errno == EROFS;
    reason_ = "disk tier write failed";
    abort();
    return false;
  }
  body_.clear();
  body_.shrink_to_fit();
  return true;
}

bool CacheFill::append(std::string_view data) {
  if (!active_) return false;
  bodyBytes_ += data.size();
  if (fd_ >= 0) {
    if (bodyBytes_ > limits_.diskMaxObject) {
      reason_ = "too large";
      abort();
      return false;
    }
    if (!writeAll(fd_, data)) {
      diskFailed_ = errno == ENOSPC || errno == EDQUOT || errno == EIO || errno == EROFS;
      reason_ = "disk tier write failed";
      abort();
      return false;
    }
    return true;
  }
  body_.append(data);
  if (bodyBytes_ <= limits_.memoryMaxObject) return true;
  if (!store_.hasDisk()) {
    reason_ = "too large";
    abort();
    return false;
  }
  return spill();
}

bool CacheFill::commit() {
  if (!active_) return false;
  active_ = false;
  meta_.bodyLength = bodyBytes_;
  if (fd_ < 0) {
    bool ok = store_.put(key_, meta_, head_, body_);
    body_.clear();
    if (!ok) reason_ = "no room in cache_memory";
    return ok;
  }
  // The file was written with bodyLength 0: patch the meta, then publish by rename.
  meta_.flags |= ObjectMeta::kOnDisk;
  meta_.bodyOffset = CacheStore::bodyOffsetFor(key_.size(), head_.size());
  bool ok = ::pwrite(fd_, &meta_, sizeof meta_, 16) == static_cast<ssize_t>(sizeof meta_);
  ::close(fd_);
  fd_ = -1;
  if (!ok) ::unlink(tempPath_.c_str());
  if (!ok || !store_.publish(tempPath_, key_)) {
    reason_ = "disk tier write failed";
    return false;
  }
  store_.diskBytes().fetch_add(meta_.bodyOffset + bodyBytes_, std::memory_order_relaxed);
  return store_.put(key_, meta_, head_, {});
}

void CacheFill::abort() {
  active_ = false;
  body_.clear();
  dropTemp();
}

void CacheFill::dropTemp() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(tempPath_.c_str());
}

bool CacheFill::refresh(std::string_view key, const ResponseHead& notModified, time_t now) {
  // Copy the stored object out, merge, store again (same body: memory or file).
  std::string oldHead, body;
  ObjectMeta meta{};
  if (!store_.withObject(key, false, now, false,
                         [&](ObjectMeta& m, std::string_view head, std::string_view b) {
                           meta = m;
                           oldHead.assign(head);
                           body.assign(b);
                         }))
    return false;
  // Rebuild a response head from the stored fields, with the 304's fields replacing theirs.
  std::string merged = "HTTP/1.1 " + oldHead.substr(0, oldHead.find("\r\n") + 2);
  std::string_view rest = std::string_view(oldHead).substr(oldHead.find("\r\n") + 2);
  while (!rest.empty()) {
    size_t eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
    std::string_view name = line.substr(0, line.find(':'));
    bool replaced = false;
    for (size_t i = 0; i < notModified.headerCount && !replaced; ++i)
      replaced = equalsIgnoreCase(notModified.headers[i].name, name);
    if (!replaced) merged.append(line).append("\r\n");
  }
  for (size_t i = 0; i < notModified.headerCount; ++i) {
    const http::Header& f = notModified.headers[i];
    if (hopByHop(f.name, notModified) || equalsIgnoreCase(f.name, "content-length")) continue;
    merged.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  merged.append("\r\n");
  ResponseHead resp;
  if (parseResponse(merged, resp, true).status != ResponseStatus::Complete) return false;
  http::Request req;
  if (http::parseRequest(requestHead_, req).status != http::ParseStatus::Complete) return false;
  StorePlan plan = planStore(req, resp, requestTime_, now, limits_.rules);
  if (!plan.storable) {
    store_.erase(key);
    return false;
  }
  ObjectMeta fresh = meta;
  fillMeta(fresh, plan, now);
  fresh.flags |= meta.flags & ObjectMeta::kOnDisk;
  fresh.hits = meta.hits;
  std::string head;
  buildStoredHead(resp, plan.stripSetCookie, head, fresh);
  fresh.bodyLength = meta.bodyLength;
  fresh.bodyOffset = meta.bodyOffset;
  return store_.put(key, fresh, head, body);
}

}  // namespace manifold::proxy
