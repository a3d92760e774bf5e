// The persistent gzip store: precompressed copies of large compressible files, kept under a
// cache directory as <store>/<path>.gz with the source's mtime. Rebuilt when the source changes,
// written to a temp file and renamed into place, so a reader never sees a partial file.
// Building happens on the first gzip request for a file and blocks that worker while it
// compresses (bounded by gzip_store_max_file); every later request is a sendfile.
#pragma once

#include <string>
#include <unordered_map>

#include "protocols/static/file_cache.hpp"

namespace manifold::http {

class GzipStore {
 public:
  GzipStore(std::string directory, int level);
  // The stored .gz for `path` whose source is `source`; nullptr if it cannot be built.
  const FileInfo* find(const std::string& path, const FileInfo& source, double now);

 private:
  bool build(const std::string& target, const FileInfo& source);
  std::string directory_;
  int level_;
  struct Entry {
    FileInfo info;
    uint64_t sourceMtimeNs = 0;
    uint64_t sourceSize = 0;
  };
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace manifold::http
