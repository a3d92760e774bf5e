// GET and HEAD from site packs (`sites = DIR`): the host's pack answers from its in-memory
// index, bodies come from memory (small) or leave with sendfile from the pack's fd, the gzip
// form stored in the pack is sent as it is; conditionals and ranges as in directory mode.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocols/http/accept_encoding.hpp"
#include "protocols/http/date.hpp"
#include "protocols/http/path.hpp"
#include "protocols/http/response.hpp"
#include "protocols/static/site.hpp"

namespace manifold::http {

void StaticSite::servePack(Exchange& ex) {
  const Request& req = ex.request();
  const pack::Pack* p = packs_->find(req.host);
  if (!p) return ex.sendError(404);
  if (!normalizePath(req.path, path_)) return ex.sendError(400);
  pack::Entry e;
  if (!p->view().find(path_, e)) return ex.sendError(404);
  if (e.kind == pack::Kind::Redirect) {
    std::string location = percentEncodePath(path_ + "/");
    if (!req.query.empty()) location.append("?").append(req.query);
    return ex.sendError(301, "Location: " + location + "\r\n");
  }
  if (e.kind != pack::Kind::File) return ex.sendError(403);  // a directory without an index

  Representation rep;
  rep.pack = p;
  rep.mime = e.type;
  if (e.mtime != packDateOf_) {  // packs often hold many files of one mtime
    formatHttpDate(static_cast<time_t>(e.mtime), packDate_);
    packDateOf_ = e.mtime;
  }
  rep.lastModified = std::string_view(packDate_, 29);
  rep.mtimeNs = static_cast<uint64_t>(e.mtime) * 1000000000ull;
  rep.compressible = config_.gzip && e.hasGzip;
  etag_.resize(37);
  pack::formatEtag(e.bodyHash, etag_.data());
  if (rep.compressible && acceptsGzip(req.acceptEncoding)) {
    memcpy(etag_.data() + 33, "-gz\"", 4);  // the gzip form's own strong validator
    rep.etag = std::string_view(etag_).substr(0, 37);
    rep.gzip = true;
    rep.length = e.gzipLength;
    rep.packOffset = e.gzipOffset;
    ex.counters().inc(kGzipResponses);
  } else {
    rep.etag = std::string_view(etag_).substr(0, 34);
    rep.length = e.bodyLength;
    rep.packOffset = e.bodyOffset;
  }
  serveRepresentation(ex, rep, static_cast<time_t>(e.mtime));
}

void StaticSite::sendPackBody(Exchange& ex, const pack::Pack& p, uint64_t offset, uint64_t length) {
  if (length < kCopyBelow) {
    std::string& o = ex.out();
    if (p.bodiesInMemory()) {
      o.append(p.bytes() + offset, length);
      return;
    }
    size_t start = o.size();
    o.resize(start + length);
    ssize_t n = ::pread(p.file()->fd, o.data() + start, length, static_cast<off_t>(offset));
    if (n == static_cast<ssize_t>(length)) return;
    o.resize(start);  // the pack was cut short in place: the promised length cannot be kept
    ex.connection().abort();
    return;
  }
  ex.counters().inc(kSendfileResponses);
  ex.connection().queueFile(p.file(), static_cast<off_t>(offset), length);
}

}  // namespace manifold::http
