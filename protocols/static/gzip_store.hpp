// The persistent gzip store: precompressed copies of large compressible files, kept under a
// cache directory as <store>/<path>.gz with the source's mtime. Rebuilt when the source changes,
// written to a temp file and renamed into place, so a reader never sees a partial file.
//
// Building never runs on the worker's loop: the first gzip request for a file (or for a changed
// file) hands the compression to a small BlockingPool (worker/blocking_pool.hpp); the site
// parks that request (and any other for the file) without blocking the loop, and the finished
// copy is installed on the loop thread, where onBuilt() lets the site answer the parked
// requests from it; every later request is a sendfile of it. The worker's other connections
// are served all along. At most kJobs builds are in flight per site; a request that finds the
// pool full is answered uncompressed (identity) and tries again next time; so is one whose
// build failed (retried after kRetryAfter seconds). A worker that stops abandons builds in
// progress (each stops at its next chunk and removes its temp file).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "protocols/static/file_cache.hpp"
#include "worker/blocking_pool.hpp"

struct ev_loop;

namespace manifold::http {

class GzipStore {
 public:
  static constexpr unsigned kThreads = 2;
  static constexpr unsigned kJobs = 4;
  static constexpr double kRetryAfter = 5;  // seconds

  GzipStore(struct ev_loop* loop, std::string directory, int level);
  // The stored .gz for `path` whose source is `source`, if it is ready; nullptr while it is
  // being built or if it cannot be built (then serve the identity body). Never blocks on a build.
  const FileInfo* find(const std::string& path, const FileInfo& source, double now);
  // A build for `path` is in flight (find() returned nullptr: wait for onBuilt).
  bool building(const std::string& path) const;
  // Runs on the loop thread after each build ends (built or failed).
  std::function<void()> onBuilt;

  // What a build found, filled on the pool thread and read (and logged) on the loop thread.
  struct BuildResult {
    const char* step = nullptr;  // null: built; else what failed ("mkdir", "create", "compress")
    int error = 0;
    bool cancelled = false;
  };

 private:
  enum class State : uint8_t { Building, Ready, Failed };
  struct Entry {
    FileInfo info;  // Ready: the .gz
    uint64_t sourceMtimeNs = 0;
    uint64_t sourceSize = 0;
    State state = State::Ready;
    double retryAt = 0;  // Failed
  };
  // Opens the store copy of `target` if it carries the source's mtime; false otherwise.
  bool install(Entry& entry, const std::string& target, double now);
  void finishBuild(const std::string& path, const std::string& target, const BuildResult& result);
  void startBuild(const std::string& path, const std::string& target, const FileInfo& source,
                  double now);

  std::string directory_;
  int level_;
  unsigned builds_ = 0;  // names temp files apart
  std::unordered_map<std::string, Entry> entries_;
  BlockingPool pool_;  // last: joined before the entries its `done` callbacks touch go away
};

}  // namespace manifold::http
