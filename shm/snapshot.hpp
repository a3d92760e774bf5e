// One consistent-enough reading of a live segment, taken through a read-only mapping:
// plain values only, so rendering (text or JSON) never touches shared memory. Read by
// bin/manifold-shm (tools/shm) and by the status service's dashboard (protocols/status).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/info_board.hpp"
#include "shm/segment.hpp"
#include "shm/stats.hpp"

namespace manifold::shmtool {

struct InstanceView {
  std::string name;
  std::string path;
  uint32_t layoutVersion = 0;
  uint64_t segmentBytes = 0;
  uint64_t allocatedBytes = 0;  // live + retired extents
  int32_t masterPid = 0;
  bool masterAlive = false;
  uint64_t generation = 0;
  uint64_t reloads = 0;
  uint64_t failedReloads = 0;
  uint64_t lastReloadMs = 0;  // 0: no reload yet
  bool lastReloadOk = false;
  uint64_t startedAtMs = 0;
  uint64_t nowMs = 0;
};

struct WorkerView {
  unsigned slot = 0;
  shm::WorkerInfo info{};
  bool alive = false;
};

struct CounterView {
  std::string name;
  bool gauge = false;
  std::string help;  // from the protocol's counter table; may be empty
  uint64_t total = 0;
  std::vector<uint64_t> perWorker;  // parallel to Snapshot::workers
};

struct ServiceView {
  std::string title;
  std::string protocol;
  std::vector<CounterView> counters;
};

// What a region holds, recognised by the magic of a shm building block at its base or
// within its first page (a protocol may put a small header before its table).
struct RegionView {
  shm::RegionInfo info;
  std::string kind = "raw";  // "stats", "table", "arena", "board" or "raw"
  uint64_t innerOffset = 0;  // where the recognised structure starts
  uint64_t entries = 0;      // table
  uint64_t used = 0;         // table, arena: bytes in use
  uint64_t capacity = 0;     // table, arena: byte budget
  uint64_t evictions = 0;    // table
  uint64_t recoveries = 0;   // table: stripe locks recovered from dead owners
  uint64_t allocations = 0;  // arena
  unsigned slots = 0;        // stats
  unsigned services = 0;     // stats
  // board (shm/info_board.hpp): its family, value names and the rows in use
  std::string family;
  std::vector<std::string> valueNames;
  std::vector<shm::InfoBoard::Row> rows;
};

struct Snapshot {
  InstanceView instance;
  bool haveStats = false;
  std::vector<WorkerView> workers;  // non-free slots only
  std::vector<ServiceView> services;
  std::vector<RegionView> regions;
};

Snapshot takeSnapshot(const shm::Segment& segment);

// Operator-facing figures (manifold-shm, the status dashboard).
std::string humanBytes(uint64_t bytes);                   // "512 B", "64.0 KiB", "1.5 GiB"
std::string humanDuration(uint64_t ms);                   // "45s", "12m03s", "5h07m", "3d04h"
std::string humanPercent(uint64_t part, uint64_t whole);  // "42%", "-" when whole is 0

}  // namespace manifold::shmtool
