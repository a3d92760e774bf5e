#include "protocols/static/site.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "protocols/http/accept_encoding.hpp"
#include "protocols/http/conditional.hpp"
#include "protocols/http/date.hpp"
#include "protocols/http/gzip.hpp"
#include "protocols/http/path.hpp"
#include "protocols/http/response.hpp"
#include "protocols/static/gzip_store.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::http {

namespace {
// The gzip form's ETag into `out` (reused): "abc" -> "abc-gz".
std::string_view gzipEtag(std::string_view etag, std::string& out) {
  out.assign(etag);
  if (etag.size() >= 2) out.insert(out.size() - 1, "-gz");
  return out;
}
}  // namespace

StaticSite::StaticSite(const SiteConfig& config, ServiceContext& ctx)
    : config_(config),
      ctx_(ctx),
      rootFd_(config.root.empty()
                  ? -1
                  : ::open(config.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)),
      xcache_(ctx.regions.empty() ? nullptr : ctx.regions[0]),
      files_(rootFd_, config.followSymlinks, config.fileCheckInterval, config.openFileCacheMax,
             mime_, xcache_),
      reservations_(ctx.regions.size() > 1 ? ctx.regions[1] : nullptr, ctx.slot,
                    config.uploadReserveMax) {
  if (rootFd_ < 0 && config.sites.empty())
    throw std::runtime_error("root " + config.root + ": " + strerror(errno));
  if (!config.sites.empty())
    packs_ = std::make_unique<PackSites>(
        ctx.loop, config.sites, config.title(), config.packMemoryMax,
        ctx.counters.from(kHttpCounterCount), ctx.runtime->runsInstanceTasks(),
        ctx.regions.size() > 2
            ? shm::InfoBoard::at(ctx.regions[2], shm::InfoBoard::bytesFor(kPackBoardRows))
            : nullptr);
  mime_.loadDefaults();
  if (!config.mimeTypesFile.empty()) mime_.loadFile(config.mimeTypesFile);
  if (!config.accessLog.empty()) {
    accessLog_ = std::make_unique<AccessLog>(ctx.loop, config.accessLog);
    if (!accessLog_->open())
      throw std::runtime_error("access_log " + config.accessLog + ": " + strerror(errno));
  }
  if (!config.gzipStore.empty()) {
    gzipStore_ = std::make_unique<GzipStore>(ctx.loop, config.gzipStore, config.gzipLevel);
    // A build finished: the parked requests run again (those whose file is still being built
    // park again). Swapped out first: a resumed request may park anew.
    gzipStore_->onBuilt = [this] {
      std::vector<Exchange*> waiting;
      waiting.swap(parked_);
      for (Exchange* ex : waiting) ex->resume();
    };
  }
  // The TLS regions follow the xcache, the uploads and (with sites) the packs: see regions().
  const size_t tlsFirst = std::min<size_t>(config.sites.empty() ? 2 : 3, ctx.regions.size());
  config.describe(site_, config.title(), this, ctx.counters, &config.limits,
                  std::span<void* const>(ctx.regions).subspan(tlsFirst));
  site_.accessLog = accessLog_.get();
}

StaticSite::~StaticSite() {
  if (rootFd_ >= 0) ::close(rootFd_);
}

void StaticSite::start() {
  if (packs_) packs_->start();
}

void StaticSite::stop() {
  if (packs_) packs_->stop();
}

void StaticSite::reopenLogs() {
  if (accessLog_ && !accessLog_->reopen())
    LOG_ERROR("reopen access_log %s: %s", config_.accessLog.c_str(), strerror(errno));
}

std::string_view StaticSite::allowHeader() const {
  return config_.webdav ? "Allow: GET, HEAD, OPTIONS, PUT, DELETE, MKCOL\r\n"
                        : "Allow: GET, HEAD, OPTIONS\r\n";
}

void StaticSite::onRequest(Exchange& ex) {
  files_.beginRequest();
  switch (ex.request().method) {
    case Method::Get:
    case Method::Head:
      if (packs_) return servePack(ex);
      serveGet(ex);
      return;
    case Method::Options:
      respondOptions(ex);
      return;
    case Method::Put:
      if (config_.webdav) return davPut(ex);
      break;
    case Method::Delete:
      if (config_.webdav) return davDelete(ex);
      break;
    case Method::Mkcol:
      if (config_.webdav) return davMkcol(ex);
      break;
    case Method::Other:
      ex.sendError(501);
      return;
    default:
      break;
  }
  respondNotAllowed(ex);
}

void StaticSite::respondNotAllowed(Exchange& ex) { ex.sendError(405, allowHeader()); }

void StaticSite::respondOptions(Exchange& ex) {
  ex.beginResponse(200);
  ex.out().append(allowHeader());
  if (config_.webdav) ex.out().append("DAV: 1\r\n");
  ex.out().append("Content-Length: 0\r\n");
  ex.endHeaders();
  ex.finish(200, 0);
}

void StaticSite::respondOpenError(Exchange& ex, int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      ex.sendError(404);
      return;
    case EACCES:
    case EPERM:
    case ELOOP:
    case EXDEV:  // a symlink leading out of the root with follow_symlinks = off
      ex.sendError(403);
      return;
    default:
      LOG_ERROR("[%s] open %s: %s", site_.title.c_str(), path_.c_str(), strerror(error));
      ex.sendError(500);
  }
}

void StaticSite::serveGet(Exchange& ex) {
  if (!normalizePath(ex.request().path, path_)) {
    ex.sendError(400);
    return;
  }
  const FileInfo& info = files_.lookup(path_, ctx_.runtime->loopTime());
  if (info.error) return respondOpenError(ex, info.error);
  if (info.isDirectory) return serveDirectory(ex, info);
  serveFile(ex, info);
}

void StaticSite::serveDirectory(Exchange& ex, const FileInfo&) {
  if (path_.back() != '/') {
    std::string location = percentEncodePath(path_ + "/");
    if (!ex.request().query.empty()) location.append("?").append(ex.request().query);
    std::string header = "Location: " + location + "\r\n";
    ex.sendError(301, header);
    return;
  }
  std::string directory = path_;
  for (const auto& name : config_.index) {
    path_ = directory + name;
    const FileInfo& index = files_.lookup(path_, ctx_.runtime->loopTime());
    if (index.error == 0 && !index.isDirectory) return serveFile(ex, index);
  }
  path_ = directory;
  if (config_.autoindex) return serveAutoindex(ex);
  ex.sendError(403);
}

void StaticSite::serveAutoindex(Exchange& ex) {
  int fd = files_.openBelowRoot(path_, O_RDONLY | O_DIRECTORY);
  DIR* dir = fd >= 0 ? fdopendir(fd) : nullptr;
  if (!dir) {
    if (fd >= 0) ::close(fd);
    return respondOpenError(ex, errno);
  }
  struct Item {
    std::string name;
    bool isDir;
    off_t size;
    time_t mtime;
  };
  std::vector<Item> items;
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (fstatat(dirfd(dir), entry->d_name, &st, 0) != 0) continue;
    items.push_back({std::string(name), S_ISDIR(st.st_mode), st.st_size, st.st_mtim.tv_sec});
  }
  closedir(dir);
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.isDir != b.isDir ? a.isDir : a.name < b.name;
  });
  std::string title = htmlEscape(path_);
  std::string body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of " +
                     title + "</title></head>\n<body><h1>Index of " + title +
                     "</h1><hr><pre><a href=\"../\">../</a>\n";
  for (auto& item : items) {
    std::string shown = item.name + (item.isDir ? "/" : "");
    char date[29];
    formatHttpDate(item.mtime, date);
    body += "<a href=\"" + percentEncodePath(shown) + "\">" + htmlEscape(shown) + "</a>  " +
            std::string(date, 29) + "  " +
            (item.isDir ? std::string("-") : std::to_string(item.size)) + "\n";
  }
  body += "</pre><hr></body></html>\n";
  ex.beginResponse(200);
  appendHeader(ex.out(), "Content-Type", "text/html; charset=utf-8");
  appendHeader(ex.out(), "Content-Length", body.size());
  ex.endHeaders();
  if (!ex.head()) ex.out().append(body);
  ex.finish(200, ex.head() ? 0 : body.size());
}

bool StaticSite::loadSmall(const FileInfo& info, std::string& body) {
  body.resize(info.validators.size);
  size_t done = 0;
  while (done < body.size()) {
    ssize_t n = ::pread(info.file->fd, body.data() + done, body.size() - done, done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      body.resize(done);
      return false;  // shrank or failed: the caller answers without caching
    }
    done += n;
  }
  // The fd is trusted for file_check_interval: a file rewritten in place since it was checked
  // now holds other bytes than its validators say, and those must not be cached under them.
  struct stat st;
  return fstat(info.file->fd, &st) == 0 &&
         static_cast<uint64_t>(st.st_size) == info.validators.size &&
         static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec ==
             info.validators.mtimeNs;
}

void StaticSite::serveChanged(Exchange& ex) {
  if (retrying_) return ex.sendError(500);  // changing under us again: give up
  const FileInfo& current = files_.recheck(path_, ctx_.runtime->loopTime());
  retrying_ = true;
  if (current.error) {
    respondOpenError(ex, current.error);
  } else if (current.isDirectory) {
    serveDirectory(ex, current);
  } else {
    serveFile(ex, current);
  }
  retrying_ = false;
}

bool StaticSite::serveFromXcache(Exchange& ex, const FileInfo& info, char variant) {
  key_.assign(path_).push_back('\0');
  key_.push_back(variant);
  std::string_view endOfHead = "\r\n";
  if (!ex.keepAlive() || ex.versionMinor() == 0) {
    // Rare shapes build their end of head; the common HTTP/1.1 keep-alive one is constant.
    endOfHead = !ex.keepAlive() ? std::string_view("Connection: close\r\n\r\n")
                                : std::string_view("Connection: keep-alive\r\n\r\n");
  }
  size_t before = ex.out().size();
  if (!xcache_.appendResponse(key_, info.validators, ex.date(), ex.versionMinor(), endOfHead,
                              ex.head(), ex.out()))
    return false;
  shm::CounterSlot c = ex.counters();
  c.inc(kCacheHits);
  if (variant == 'g') c.inc(kGzipResponses);
  // Body length = what was appended after the blank line.
  std::string_view written(ex.out().data() + before, ex.out().size() - before);
  size_t bodyStart = written.find("\r\n\r\n");
  ex.finish(200,
            ex.head() || bodyStart == std::string_view::npos ? 0 : written.size() - bodyStart - 4);
  return true;
}

void StaticSite::appendEntityHeaders(std::string& o, const Representation& rep,
                                     std::string_view contentType) {
  o.append("Content-Type: ").append(contentType.empty() ? rep.mime : contentType).append("\r\n");
  o.append("Last-Modified: ").append(rep.lastModified).append("\r\n");
  o.append("ETag: ").append(rep.etag).append("\r\n");
  if (rep.compressible) o.append("Vary: Accept-Encoding\r\n");
  if (rep.gzip) o.append("Content-Encoding: gzip\r\n");
}

void StaticSite::sendBody(Exchange& ex, const Representation& rep, uint64_t offset,
                          uint64_t length) {
  if (length == 0) return;
  if (rep.inMemory) {
    ex.out().append(memoryBody_, offset, length);
    return;
  }
  if (rep.pack) return sendPackBody(ex, *rep.pack, rep.packOffset + offset, length);
  if (length < kCopyBelow) {
    std::string& o = ex.out();
    size_t start = o.size();
    o.resize(start + length);
    ssize_t n = ::pread(rep.info->file->fd, o.data() + start, length, offset);
    if (n == static_cast<ssize_t>(length)) return;
    o.resize(start);  // the file shrank: the promised length cannot be kept
    ex.connection().abort();
    return;
  }
  ex.counters().inc(kSendfileResponses);
  ex.connection().queueFile(rep.info->file, offset, length);
}

void StaticSite::onParkedClose(Exchange& ex) { std::erase(parked_, &ex); }

void StaticSite::serveFile(Exchange& ex, const FileInfo& info) {
  const Request& req = ex.request();
  uint64_t size = info.validators.size;
  bool compressible = config_.gzip && info.compressible;
  bool wantsGzip = compressible && size >= config_.gzipMinLength && acceptsGzip(req.acceptEncoding);
  const FileInfo* staticGz = nullptr;
  if (wantsGzip && config_.gzipStatic) {
    gzPath_.assign(path_).append(".gz");  // reused buffer: no allocation per request
    const FileInfo& gz = files_.lookup(gzPath_, ctx_.runtime->loopTime());
    if (gz.error == 0 && !gz.isDirectory && gz.mtime >= info.mtime) staticGz = &gz;
  }
  bool small = xcache_.enabled() && size <= config_.xcacheMaxFile;
  bool plain = req.range.empty() && req.ifMatch.empty() && req.ifNoneMatch.empty() &&
               req.ifModifiedSince.empty() && req.ifUnmodifiedSince.empty();

  // The hot path: a small file answered from the shared cache with one copy.
  if (plain && small && !staticGz) {
    char variant = wantsGzip ? 'g' : 'i';
    if (serveFromXcache(ex, info, variant)) return;
    ex.counters().inc(kCacheMisses);
    std::string body;
    if (!loadSmall(info, body)) return serveChanged(ex);
    Representation rep;
    rep.describe(info);
    rep.compressible = compressible;
    rep.etag = info.etag;
    if (variant == 'g') {
      if (!gzipCompress(body, memoryBody_, config_.gzipLevel)) {
        ex.sendError(500);
        return;
      }
      rep.gzip = true;
      rep.etag = gzipEtag(info.etag, etag_);
      body.swap(memoryBody_);
      ex.counters().inc(kGzipResponses);
    }
    // Build the cacheable head: everything but the Connection header and the blank line.
    head_.clear();
    appendStatusLine(head_, 1, 200);
    head_.append("Server: ").append(site_.serverHeader).append("\r\nDate: ");
    uint32_t dateOffset = head_.size();
    head_.append(ex.date()).append("\r\n");
    appendEntityHeaders(head_, rep);
    appendHeader(head_, "Content-Length", body.size());
    head_.append("Accept-Ranges: bytes\r\n");
    std::string& realOut = ex.out();
    size_t mark = realOut.size();
    xcache_.put(key_, info.validators, head_, dateOffset, body);
    realOut.append(head_);
    if (ex.versionMinor() == 0) realOut[mark + 7] = '0';
    ex.endHeaders();
    if (!ex.head()) realOut.append(body);
    ex.finish(200, ex.head() ? 0 : body.size());
    return;
  }

  Representation rep;
  rep.describe(info);
  rep.compressible = compressible;
  rep.length = size;
  rep.etag = info.etag;
  if (wantsGzip) {
    if (staticGz) {
      rep.info = staticGz;
      rep.length = staticGz->validators.size;
    } else if (small) {
      if (!smallGzipBody(info, memoryBody_)) return serveChanged(ex);
      rep.inMemory = true;
      rep.length = memoryBody_.size();
    } else if (gzipStore_ && size <= config_.gzipStoreMaxFile) {
      const FileInfo* stored = gzipStore_->find(path_, info, ctx_.runtime->loopTime());
      if (stored) {
        rep.info = stored;
        rep.length = stored->validators.size;
      } else if (gzipStore_->building(path_)) {
        // Wait for the build off the loop, answering nothing meanwhile (gzip_store.hpp).
        ex.park();
        parked_.push_back(&ex);
        return;
      }
    }
    if (rep.info != &info || rep.inMemory) {
      rep.gzip = true;
      rep.etag = gzipEtag(info.etag, etag_);
      ex.counters().inc(kGzipResponses);
    }
  }

  serveRepresentation(ex, rep, info.mtime);
}

void StaticSite::serveRepresentation(Exchange& ex, Representation& rep, time_t mtime) {
  const Request& req = ex.request();
  switch (evaluatePreconditions(req, rep.etag, mtime, ctx_.runtime->now())) {
    case Precondition::NotModified: {
      ex.beginResponse(304);
      ex.out().append("Last-Modified: ").append(rep.lastModified).append("\r\n");
      ex.out().append("ETag: ").append(rep.etag).append("\r\n");
      if (rep.compressible) ex.out().append("Vary: Accept-Encoding\r\n");
      ex.endHeaders();
      ex.finish(304, 0);
      return;
    }
    case Precondition::Failed:
      ex.sendError(412);
      return;
    case Precondition::Proceed:
      break;
  }
  if (!req.range.empty() && req.method == Method::Get &&
      (!req.ifRangePresent || ifRangeAllows(req.ifRange, rep.etag, mtime))) {
    switch (parseRange(req.range, rep.length, ranges_)) {
      case RangeResult::Satisfiable:
        return serveRanges(ex, rep, ranges_);
      case RangeResult::Unsatisfiable: {
        std::string header = "Content-Range: ";
        appendUnsatisfiedRange(header, rep.length);
        header.append("\r\n");
        ex.sendError(416, header);
        return;
      }
      case RangeResult::Ignore:
        break;
    }
  }
  serveFull(ex, rep);
}

void StaticSite::serveFull(Exchange& ex, Representation& rep) {
  ex.beginResponse(200);
  appendEntityHeaders(ex.out(), rep);
  appendHeader(ex.out(), "Content-Length", rep.length);
  ex.out().append("Accept-Ranges: bytes\r\n");
  ex.endHeaders();
  if (!ex.head()) sendBody(ex, rep, 0, rep.length);
  ex.finish(200, ex.head() ? 0 : rep.length);
}

void StaticSite::serveRanges(Exchange& ex, Representation& rep,
                             const std::vector<ByteRange>& ranges) {
  ex.beginResponse(206);
  std::string& o = ex.out();
  if (ranges.size() == 1) {
    const ByteRange& r = ranges[0];
    appendEntityHeaders(ex.out(), rep);
    o.append("Content-Range: ");
    appendContentRange(o, r, rep.length);
    o.append("\r\n");
    appendHeader(o, "Content-Length", r.length());
    o.append("Accept-Ranges: bytes\r\n");
    ex.endHeaders();
    if (!ex.head()) sendBody(ex, rep, r.first, r.length());
    ex.finish(206, r.length());
    return;
  }
  std::string boundary = multipartBoundary(rep.mtimeNs ^ ex.counters().get(kRequests));
  uint64_t length = multipartLength(boundary, rep.mime, ranges, rep.length);
  appendEntityHeaders(o, rep, "multipart/byteranges; boundary=" + boundary);
  appendHeader(o, "Content-Length", length);
  ex.endHeaders();
  if (!ex.head()) {
    for (const ByteRange& r : ranges) {
      appendPartHeader(o, boundary, rep.mime, r, rep.length);
      sendBody(ex, rep, r.first, r.length());
    }
    appendClosingBoundary(o, boundary);
  }
  ex.finish(206, length);
}

bool StaticSite::smallGzipBody(const FileInfo& info, std::string& body) {
  key_.assign(path_).push_back('\0');
  key_.push_back('g');
  if (xcache_.copyBody(key_, info.validators, body)) return true;
  std::string plain;
  if (!loadSmall(info, plain)) return false;
  return gzipCompress(plain, body, config_.gzipLevel);
}

}  // namespace manifold::http
