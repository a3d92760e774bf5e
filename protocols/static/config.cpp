#include "protocols/static/config.hpp"

#include "protocols/http/limits_config.hpp"
#include "protocols/static/pack_sites.hpp"
#include "protocols/static/upload_reserve.hpp"
#include "protocols/static/xcache.hpp"

namespace manifold::http {

namespace {

using config::Millis;

std::unique_ptr<ServiceConfig> parseHttpSection(config::SectionReader& in) {
  auto site = std::make_unique<SiteConfig>();
  site->VirtualServerKeys::read(in);
  if (in.has("sites")) site->sites = in.directory("sites", "", true);
  if (!site->sites.empty() && in.has("root"))
    in.fail("sites", "a section serves either a root directory or site packs, not both");
  if (site->sites.empty()) site->root = in.directory("root", "", true);
  site->packMemoryMax = in.size("pack_memory_max", 256ull << 20, 0, 1ull << 40);
  site->index = in.list("index", "index.html");
  site->autoindex = in.flag("autoindex", false);
  site->followSymlinks = in.flag("follow_symlinks", true);
  site->mimeTypesFile = in.text("mime_types", "/etc/mime.types");

  // A pack section serves from its packs: no xcache unless asked for.
  site->xcacheSize = in.size("xcache_size", site->sites.empty() ? 64ull << 20 : 0, 0, 16ull << 30);
  if (site->xcacheSize != 0 && site->xcacheSize < (1 << 20))
    in.fail("xcache_size", "must be 0 (off) or at least 1M");
  site->xcacheMaxFile = in.size("xcache_max_file", 256 * 1024, 0, 64ull << 20);
  site->fileCheckInterval =
      in.seconds("file_check_interval", Millis(1000), Millis(0), Millis(3600000));
  site->openFileCacheMax = in.integer("open_file_cache_max", 10000, 16, 1000000);

  site->gzip = in.flag("gzip", true);
  site->gzipLevel = in.integer("gzip_level", 6, 1, 9);
  site->gzipMinLength = in.size("gzip_min_length", 256, 0, 1ull << 30);
  site->gzipStatic = in.flag("gzip_static", true);
  site->gzipStore = in.path("gzip_store", "");
  site->gzipStoreMaxFile = in.size("gzip_store_max_file", 64ull << 20, 0, 16ull << 30);

  site->webdav = in.flag("webdav", false);
  if (site->webdav && !site->sites.empty())
    in.fail("webdav", "site packs are read-only: webdav needs a root directory");
  site->sealed = in.flag("sealed", false);
  if (site->sealed && !site->webdav)
    in.fail("sealed", "sealed = on needs webdav = on (it checks uploads)");
  if (site->sealed) {
    site->gzip = false;  // ciphertext does not compress; serve it as stored
    // and zero-copy (sendfile from 16 KiB), not from the shm cache, unless asked for
    if (!in.has("xcache_size")) site->xcacheSize = 0;
  }
  site->createFullPutPath = in.flag("create_full_put_path", false);
  site->uploadReserveMax = in.size("upload_reserve_max", 64ull << 20, 0, 1ull << 40);
  site->limits.maxBodySize = in.size("client_max_body_size", 16ull << 20, 0, 1ull << 40);

  std::string accessLog = in.text("access_log", "off");
  if (accessLog != "off") site->accessLog = in.path("access_log", "");

  site->limits = http::readConnectionLimits(in, site->limits);
  return site;
}

}  // namespace

MANIFOLD_PROTOCOL("http", parseHttpSection);

std::vector<ListenRequest> SiteConfig::listeners() const {
  return listenRequests(listen, listenLine, false, true);
}

std::vector<CounterSpec> SiteConfig::counters() const {
  std::vector<CounterSpec> out = httpCounters();
  if (!sites.empty()) appendCounters(out, kPackCounterDefs);
  return out;
}

std::vector<std::string> SiteConfig::logFiles() const {
  if (accessLog.empty()) return {};
  return {accessLog};
}

// Regions, in ServiceContext::regions order: [0] the xcache, [1] upload reservations, [2] the
// packs in use (sites only), then with a tls listen address the TLS session ticket keys and
// the TLS session-ID cache.
std::vector<RegionRequest> SiteConfig::regions() const {
  std::vector<RegionRequest> out;
  if (xcacheSize == 0) {
    out.push_back({title() + "/xcache", Xcache::headerOnlyLayout(), Xcache::kHeaderOnlyBytes,
                   [](void* base, size_t, bool adopted) {
                     if (!adopted) Xcache::formatHeaderOnly(base);
                   },
                   "xcache_size"});
  } else {
    out.push_back({title() + "/xcache", Xcache::layout(), xcacheSize,
                   [](void* base, size_t bytes, bool adopted) {
                     if (!adopted) Xcache::format(base, bytes);
                   },
                   "xcache_size"});
  }
  out.push_back({title() + "/uploads", UploadReservations::layout(), UploadReservations::bytes(),
                 [](void* base, size_t, bool adopted) {
                   if (!adopted) UploadReservations::format(base);
                 },
                 ""});
  if (!sites.empty())
    out.push_back({title() + "/packs", "infoboard-v1", shm::InfoBoard::bytesFor(kPackBoardRows),
                   [](void* base, size_t bytes, bool adopted) {
                     shm::InfoBoard::format(base, bytes, adopted, "http_pack",
                                            PackSites::boardValues());
                   },
                   ""});
  if (tls.enabled())
    for (RegionRequest& r : tls.regions(title())) out.push_back(std::move(r));
  return out;
}

}  // namespace manifold::http
