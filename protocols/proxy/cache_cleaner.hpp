// Keeps the disk tier within cache_max_size (one worker per instance, off the loop): every
// kInterval, a pool thread walks cache_dir, counts its bytes (the shared diskBytes figure is set
// to the truth), and when over the budget removes the least recently used files until the tier
// is at kLowWater of it. "Used" is the shm index's lastUsed for indexed objects and the file's
// mtime for the others (found after a restart, not hit since). Temporary files older than
// kTempAge (a worker died while writing) are removed too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocols/proxy/cache_store.hpp"
#include "worker/blocking_pool.hpp"
#include "worker/timer.hpp"

namespace manifold::proxy {

struct CleanResult {
  uint64_t bytes = 0;    // on disk after the pass
  uint64_t removed = 0;  // files removed
};

// One pass (blocking: for the pool thread, and for tests).
CleanResult cleanDiskTier(CacheStore& store, uint64_t maxBytes, int64_t now);

class CacheCleaner {
 public:
  static constexpr double kInterval = 10;
  static constexpr double kLowWater = 0.9;
  static constexpr int64_t kTempAge = 3600;

  CacheCleaner(struct ev_loop* loop, CacheStore& store, uint64_t maxBytes, std::string title);
  void start();

 private:
  void pass();
  CacheStore& store_;
  uint64_t maxBytes_;
  std::string title_;
  BlockingPool pool_;
  Timer timer_;
};

}  // namespace manifold::proxy
