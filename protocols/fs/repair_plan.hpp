// What the repairer (and bin/manifold-fs) does to a store, decided from the nodes' listings
// (pure, unit-tested): for every file, the newest copy (last writer wins: the latest mtime, the
// router's Date; a tie goes to the larger size, so copies still converge) is copied to each of
// its replicas that lacks it or holds another version; once every replica is listed and holds
// it (or is about to), copies on other nodes (hand-offs, a drained node, a stage's old
// placement) and the file's hints are deleted. A file whose tombstone is newer than its newest
// copy is deleted everywhere (a node that was down during the DELETE does not bring it back); a
// tombstone not newer than the newest copy (the file was written again, perhaps in the same
// second: HTTP dates have whole seconds) is deleted. A tombstone whose file no node of its stage
// holds any more, every node of the stage listed, and older than RepairScope::purgeBefore
// (the repairer's now - tombstone_ttl), has done its job and is purged (with its mtime checked
// first, so a DELETE written since the listing keeps its tombstone).
//
// Reserved folder on each node (the router's bookkeeping, never a file's URL, which starts with
// its stage): /.manifold-fs/tombstones/_sN/... and /.manifold-fs/hints/_sN/... mirror the file's
// path.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocols/fs/placement.hpp"

namespace manifold::fs {

inline constexpr std::string_view kReserved = "/.manifold-fs";
inline constexpr std::string_view kTombstones = "/.manifold-fs/tombstones";
inline constexpr std::string_view kHints = "/.manifold-fs/hints";

struct Version {
  int node = -1;
  int64_t size = 0;
  time_t mtime = 0;
  bool same(const Version& o) const { return size == o.size && mtime == o.mtime; }
  bool newer(const Version& o) const { return mtime != o.mtime ? mtime > o.mtime : size > o.size; }
};

// What the nodes hold of one path.
struct PathState {
  std::vector<Version> copies;
  std::vector<Version> tombstones;  // size unused
  std::vector<int> hints;           // nodes holding a hint
};

struct Inventory {
  std::unordered_map<std::string, PathState> paths;  // by the file's path ("/_s1/a")
  std::vector<bool> listed;                          // by node: walked without error
  // Adds one listed entry of `node` (a path under a stage or under the reserved folder).
  void add(int node, std::string_view path, int64_t size, time_t mtime);
};

struct RepairAction {
  enum Kind : uint8_t { Copy, Delete } kind = Copy;
  std::string path;    // the file's path (the plan's key)
  std::string target;  // Delete: the path on the node (the file, its tombstone or its hint)
  int from = -1;       // Copy: the source node
  int node = -1;       // Copy: the destination; Delete: the node
  int64_t size = 0;
  time_t mtime = 0;  // Copy: the version's; Delete of a file: the copy's (checked first; 0: none)
  bool afterCopies = false;  // Delete: only when every Copy of `path` succeeded
};

struct RepairScope {
  unsigned stage = 0;      // 0: every stage
  int drain = -1;          // a node taken out of every ranking (its copies move elsewhere)
  time_t purgeBefore = 0;  // tombstones older than this whose file is gone everywhere go (0: none)
};

struct RepairPlan {
  std::vector<RepairAction> actions;  // every Copy before any Delete
  // check: live files by how many nodes hold their newest version (the last bucket: 8 or more)
  std::vector<uint64_t> histogram = std::vector<uint64_t>(9, 0);
  uint64_t files = 0, bytes = 0;  // live files in scope and their size
  uint64_t underReplicated = 0, stale = 0, misplaced = 0, deleted = 0;
  uint64_t copyBytes = 0;
  uint64_t purged = 0;  // tombstones purged (their files gone from every node of the stage)
  // Files with a tombstone that were written again since (path, newest mtime).
  std::vector<std::pair<std::string, time_t>> rewritten;
};

void planRepair(const Inventory& inv, const std::vector<Stage>& stages,
                const std::vector<proxy::BackendConfig>& backends, unsigned replicas,
                const RepairScope& scope, RepairPlan& out);

}  // namespace manifold::fs
