// Per-worker open-file and stat cache: a hot file costs no open()/stat() per request. An entry
// is trusted for `checkInterval` seconds (0: re-checked on every request), and dropped at once
// when the shared write generation moves (a WebDAV write in any worker). When a re-check sees
// other validators, the xcache entries for that path are erased: nothing stale is served after a
// change was observed.
//
// Files are opened below the root directory fd only: normalised paths cannot climb, and with
// follow_symlinks = off, openat2(RESOLVE_BENEATH) refuses symlinks that lead out of the root.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocols/static/xcache.hpp"
#include "worker/connection.hpp"

namespace manifold::http {

class MimeTable;

struct FileInfo {
  int error = 0;  // 0, or the errno of the failed open (ENOENT, EACCES, ELOOP, EXDEV, ...)
  bool isDirectory = false;
  FileValidators validators;
  time_t mtime = 0;
  std::string etag;  // quoted, strong
  char lastModified[29];
  std::string_view mime;
  bool compressible = false;       // isCompressible(mime), decided once per check, not per request
  std::shared_ptr<OpenFile> file;  // regular files
  double checkedAt = 0;
  uint64_t generation = 0;
};

class FileCache {
 public:
  FileCache(int rootFd, bool followSymlinks, double checkInterval, unsigned maxEntries,
            const MimeTable& mime, Xcache& xcache);
  // Call before the lookups of each request: drops every entry when the shared write
  // generation moved, and trims to the size limit. lookup() never removes entries, so the
  // references it returns stay valid for the whole request.
  void beginRequest();
  // `path`: normalised, starting with '/'.
  const FileInfo& lookup(const std::string& path, double now);
  // Like lookup(), but re-checks the file now whatever the interval says.
  const FileInfo& recheck(const std::string& path, double now);
  void forget(const std::string& path);
  static std::string xcacheKey(std::string_view path, char variant);
  // Opens `path` below the root with the configured symlink policy; -1 + errno on failure.
  int openBelowRoot(std::string_view path, int flags) const;
  // For writes (WebDAV): always resolved beneath the root (openat2 RESOLVE_BENEATH), whatever
  // follow_symlinks says: a symlink may lead reads out of the root, never a write. A path that
  // would leave it fails with EXDEV.
  int openBeneathRoot(std::string_view path, int flags) const;

 private:
  void refresh(const std::string& path, FileInfo& info, double now);
  int rootFd_;
  bool followSymlinks_;
  double checkInterval_;
  unsigned maxEntries_;
  const MimeTable& mime_;
  Xcache& xcache_;
  std::unordered_map<std::string, FileInfo> entries_;
  uint64_t generation_ = 0;
};

}  // namespace manifold::http
