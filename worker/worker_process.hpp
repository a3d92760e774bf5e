// The worker process: one libev loop hosting every configured service.
//
// Control channel with the master (a SOCK_SEQPACKET socketpair per worker, one byte a message):
//   master -> worker  'Q'  graceful stop: stop accepting, finish in-flight work, exit 0
//                     'L'  reopen the error log (and services' logs)
//   worker -> master  'R'  every service started: the master may retire the old generation
// EOF on the channel means the master is gone: the worker stops gracefully.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "master/config.hpp"

namespace manifold {

namespace shm {
class Segment;
class StatsRegion;
}  // namespace shm

struct WorkerLaunch {
  const config::Config* config = nullptr;
  unsigned index = 0;
  unsigned count = 1;
  unsigned slot = 0;  // stats slot
  uint64_t generation = 0;
  int controlFd = -1;
  std::vector<std::vector<int>> serviceFds;        // [service][listener]
  std::vector<std::vector<void*>> serviceRegions;  // [service][region]
  shm::Segment* segment = nullptr;
  shm::StatsRegion* stats = nullptr;
};

// Runs in the forked child; returns the process exit code.
int runWorker(const WorkerLaunch& launch);

// The uid/gid workers run as (`user`, `group` of [master]); false (and logged) if they do not
// exist. `dropping` is false when there is nothing to drop (no user set, or not root).
bool workerIdentity(const config::MasterConfig& master, bool& dropping, uid_t& uid, gid_t& gid);

}  // namespace manifold
