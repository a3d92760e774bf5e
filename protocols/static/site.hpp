// The static file handler of one [http:NAME] site: GET/HEAD/OPTIONS over a root directory with
// the xcache, sendfile, ranges, conditionals and gzip; WebDAV PUT/DELETE/MKCOL when enabled.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/http/access_log.hpp"
#include "protocols/http/range.hpp"
#include "protocols/http/server.hpp"
#include "protocols/static/config.hpp"
#include "protocols/static/file_cache.hpp"
#include "protocols/static/gzip_store.hpp"
#include "protocols/static/mime.hpp"
#include "protocols/static/pack_sites.hpp"
#include "protocols/static/upload_reserve.hpp"
#include "protocols/static/xcache.hpp"

namespace manifold::http {

class StaticSite : public RequestHandler {
 public:
  // Bodies up to this size are copied into the output buffer (one send with the head) rather
  // than queued for sendfile.
  static constexpr uint64_t kCopyBelow = 16 * 1024;

  StaticSite(const SiteConfig& config, ServiceContext& ctx);
  ~StaticSite() override;

  void onRequest(Exchange& ex) override;
  void onBody(Exchange& ex, std::string_view data) override;
  void onBodyEnd(Exchange& ex) override;
  void onAbort(Exchange& ex) override;
  void onParkedClose(Exchange& ex) override;

  Site& site() { return site_; }
  void start();  // after fork: loads and watches the site packs
  void stop();   // graceful stop: stops watching them
  void reopenLogs();

 private:
  // One representation of a file chosen for this request.
  struct Representation {
    const FileInfo* info = nullptr;  // the file sent (the .gz for gzip_static / the store)
    bool gzip = false;
    bool compressible = false;
    uint64_t length = 0;
    std::string_view etag;  // into the FileInfo, or etag_ (no allocation per request)
    bool inMemory = false;  // body in memoryBody_ (small gzip from the xcache)
    // The entity: from the FileInfo in directory mode, from the entry in pack mode.
    std::string_view mime;
    std::string_view lastModified;  // 29 chars
    uint64_t mtimeNs = 0;
    // Pack mode: the body is `length` bytes at `packOffset` in `pack`.
    const pack::Pack* pack = nullptr;
    uint64_t packOffset = 0;
    void describe(const FileInfo& file) {
      info = &file;
      mime = file.mime;
      lastModified = std::string_view(file.lastModified, 29);
      mtimeNs = file.validators.mtimeNs;
    }
  };

  void serveGet(Exchange& ex);
  void serveFile(Exchange& ex, const FileInfo& info);
  void serveDirectory(Exchange& ex, const FileInfo& info);
  void serveAutoindex(Exchange& ex);
  bool serveFromXcache(Exchange& ex, const FileInfo& info, char variant);
  // After the representation is chosen: preconditions, ranges, then the response.
  void serveRepresentation(Exchange& ex, Representation& rep, time_t mtime);
  void serveFull(Exchange& ex, Representation& rep);
  void serveRanges(Exchange& ex, Representation& rep, const std::vector<ByteRange>& ranges);
  bool chooseGzip(Exchange& ex, const FileInfo& info, Representation& rep);
  // False when the file is not what `info` says any more (changed since it was checked).
  bool loadSmall(const FileInfo& info, std::string& body);
  // Answers after loadSmall() found the file changed: re-checks it now and serves it again, once.
  void serveChanged(Exchange& ex);
  bool smallGzipBody(const FileInfo& info, std::string& body);
  // Content-Type (the file's, unless contentType is given), Last-Modified, ETag, Vary,
  // Content-Encoding.
  void appendEntityHeaders(std::string& out, const Representation& rep,
                           std::string_view contentType = {});
  void sendBody(Exchange& ex, const Representation& rep, uint64_t offset, uint64_t length);
  void respondOptions(Exchange& ex);
  void respondNotAllowed(Exchange& ex);
  void respondOpenError(Exchange& ex, int error);
  std::string_view allowHeader() const;

  // Site packs (pack_serve.cpp)
  void servePack(Exchange& ex);
  void sendPackBody(Exchange& ex, const pack::Pack& pack, uint64_t offset, uint64_t length);

  // WebDAV (webdav.cpp)
  void davPut(Exchange& ex);
  void davDelete(Exchange& ex);
  void davMkcol(Exchange& ex);
  void invalidate(const std::string& path);

  const SiteConfig& config_;
  ServiceContext& ctx_;
  int rootFd_ = -1;
  MimeTable mime_;
  Xcache xcache_;
  FileCache files_;
  UploadReservations reservations_;
  std::unique_ptr<AccessLog> accessLog_;
  std::unique_ptr<GzipStore> gzipStore_;
  std::unique_ptr<PackSites> packs_;  // sites = DIR
  std::vector<Exchange*> parked_;     // gzip requests waiting for a store build
  Site site_;
  // Per-request scratch reused across requests: no allocation once warm.
  std::string path_;
  std::string key_;
  std::string gzPath_;
  std::string memoryBody_;
  std::string head_;
  std::vector<ByteRange> ranges_;
  bool retrying_ = false;
  std::string etag_;  // a computed ETag (the gzip form's, a pack entry's)
  char packDate_[29];
  int64_t packDateOf_ = -1;  // the mtime packDate_ holds
};

}  // namespace manifold::http
