// [http:NAME]: one virtual server of the static web server. Several sections may share a listen
// address (chosen by Host through server_name); every key is listed in README.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocols/http/limits_config.hpp"
#include "protocols/http/server.hpp"
#include "protocols/service.hpp"

namespace manifold::http {

struct SiteConfig : public ServiceConfig, VirtualServerKeys {
  std::string root;                       // empty when `sites` is set
  std::string sites;                      // directory of HOST.site packs (pack_sites.hpp)
  uint64_t packMemoryMax = 256ull << 20;  // packs up to this size are read whole into memory
  std::vector<std::string> index{"index.html"};
  bool autoindex = false;
  bool followSymlinks = true;
  std::string mimeTypesFile = "/etc/mime.types";

  uint64_t xcacheSize = 64ull << 20;  // shm budget for small files and their gzip forms
  uint64_t xcacheMaxFile = 256 * 1024;
  double fileCheckInterval = 1.0;  // a cached stat/fd is trusted this long
  unsigned openFileCacheMax = 10000;

  bool gzip = true;
  int gzipLevel = 6;
  uint64_t gzipMinLength = 256;
  bool gzipStatic = true;
  std::string gzipStore;  // directory for precompressed large files; empty = off
  uint64_t gzipStoreMaxFile = 64ull << 20;

  bool webdav = false;
  bool createFullPutPath = false;
  bool sealed = false;  // PUT takes age-encrypted bodies only (sealed_upload.hpp)
  uint64_t uploadReserveMax = 64ull << 20;  // disk reserved ahead of PUT bodies, whole instance

  std::string accessLog;  // empty = off
  ServerLimits limits;

  std::vector<ListenRequest> listeners() const override;
  std::vector<std::string> logFiles() const override;
  std::vector<RegionRequest> regions() const override;
  std::vector<CounterSpec> counters() const override;
  std::string listenShareGroup() const override { return "http"; }
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

}  // namespace manifold::http
