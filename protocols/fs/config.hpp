// [fs:NAME]: a distributed WebDAV store, a stateless router in front of ordinary WebDAV servers
// (nginx with dav_methods, or Manifold's own [http:NAME] with webdav = on). Built on the proxy:
// its backends are every node of every stage, reads go through the proxy's relay (and cache),
// writes fan out to the replicas (fanout.hpp). Every key is listed in README.md.
#pragma once

#include <vector>

#include "protocols/fs/placement.hpp"
#include "protocols/proxy/config.hpp"

namespace manifold::fs {

#define MANIFOLD_FS_COUNTERS(X)                                                                  \
  X(kWrites, "fs_writes", Counter, "PUT, DELETE and MKCOL requests fanned out to the nodes")     \
  X(kWritesQuorate, "fs_writes_quorate", Counter, "writes that reached write_quorum nodes")      \
  X(kWritesFailed, "fs_writes_failed", Counter, "writes answered 503: fewer than write_quorum")  \
  X(kCopiesWritten, "fs_copies_written", Counter, "successful copies written to nodes")          \
  X(kHandoffs, "fs_handoffs", Counter, "copies written to a hand-off node instead of a replica") \
  X(kReadsDeleted, "fs_reads_deleted", Counter, "reads answered 404: the path was deleted")      \
  X(kRepairPasses, "fs_repair_passes", Counter, "repair passes finished")                        \
  X(kRepairRunning, "fs_repair_running", Gauge, "1 while a repair pass runs")                    \
  X(kRepairFiles, "fs_repair_files", Gauge, "live files the last repair pass saw")               \
  X(kRepairUnderReplicated, "fs_repair_under_replicated", Gauge,                                 \
    "files the last pass found with fewer than replicas current copies on their replicas")       \
  X(kRepairUnlisted, "fs_repair_unlisted", Gauge, "nodes the last pass could not list")          \
  X(kRepairBacklog, "fs_repair_backlog", Gauge, "copies and deletes the running pass has left")  \
  X(kRepairCopies, "fs_repair_copies", Counter, "copies the repairer made")                      \
  X(kRepairDeletes, "fs_repair_deletes", Counter, "copies, tombstones and hints it deleted")     \
  X(kRepairBytes, "fs_repair_bytes", Counter, "bytes the repairer copied")                       \
  X(kRepairFailed, "fs_repair_failed", Counter, "repair actions that failed")                    \
  X(kCopies, "fs_copies", Counter, "COPY requests answered 201 or 204")                          \
  X(kCopiesFailed, "fs_copies_failed", Counter, "COPY requests answered 207 or 5xx")             \
  X(kMoves, "fs_moves", Counter, "MOVE requests answered 201 or 204")                            \
  X(kMovesFailed, "fs_moves_failed", Counter, "MOVE requests answered 207 or 5xx")               \
  X(kTransferFiles, "fs_transfer_files", Counter, "files written by COPY and MOVE")              \
  X(kTransferBytes, "fs_transfer_bytes", Counter, "bytes COPY and MOVE sent to nodes")
enum FsCounter : unsigned { MANIFOLD_FS_COUNTERS(MANIFOLD_COUNTER_ENUM) kFsCounterCount };
inline constexpr shm::CounterDef kFsCounterDefs[] = {MANIFOLD_FS_COUNTERS(MANIFOLD_COUNTER_DEF)};

struct FsConfig : public proxy::ProxyConfig {
  std::vector<Stage> stages;            // ascending by number
  unsigned writeStage = 0;              // stage of new files
  unsigned replicas = 2;                // N
  unsigned writeQuorum = 2;             // W
  bool repair = true;                   // the background repairer
  double repairInterval = 60;           // seconds between passes
  uint64_t repairRate = 16u << 20;      // bytes per second (0: unlimited)
  unsigned repairParallel = 2;          // actions at once
  uint64_t tombstoneMemory = 1u << 20;  // the deleted-paths table (deleted.hpp); 0: none
  double tombstoneTtl = 7 * 86400;      // seconds before a confirmed tombstone is purged

  const Stage* stage(unsigned number) const;
  std::vector<CounterSpec> counters() const override;
  std::vector<RegionRequest> regions() const override;
  // Where the fs counters start in the service's counter slot (after the proxy's).
  unsigned fsCounterBase() const;
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

}  // namespace manifold::fs
