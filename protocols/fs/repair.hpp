// One repair pass over a store (repair_plan.hpp decides, this does it), used by the router's
// background repairer and by bin/manifold-fs (check, drain, rebalance):
//  1. list: every node in scope is walked folder by folder with PROPFIND Depth 1 (its stage
//     folders /_sN/ and the reserved /.manifold-fs/{tombstones,hints}/_sN/), one request per
//     node at a time, all nodes at once; a node that fails a listing, or is configured `down`
//     (unless it is the one drained), counts as unlisted (nothing is copied to it, and no copy
//     is deleted because of it);
//  2. plan (planRepair);
//  3. act (unless only checking): copies (GET from a node holding the newest version, the
//     version checked; PUT to the replica with Date set to its mtime, so copies keep their
//     mtime), then deletes (each file's mtime checked with HEAD first, so a copy written since
//     the listing is left alone; a misplaced copy is deleted only if every copy of its file
//     succeeded). At most `parallel` at once; `rate` bytes per second over the pass.
// Copies are relayed from node to node through a bounded buffer (kCopyWindow), any size.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "protocols/fs/config.hpp"
#include "protocols/fs/node_client.hpp"
#include "protocols/fs/repair_plan.hpp"
#include "worker/timer.hpp"

namespace manifold::fs {

struct RepairProgress {
  uint64_t folders = 0, entries = 0;  // listed so far
  bool listing = true;
  uint64_t actions = 0, done = 0, failed = 0, skipped = 0;
  uint64_t copies = 0, deletes = 0;
  uint64_t bytesPlanned = 0, bytesMoved = 0;
  uint64_t unlisted = 0;  // nodes whose listing failed
  double started = 0;     // loop time
};

class RepairRun {
 public:
  static constexpr size_t kCopyWindow = 1u << 20;   // bytes a copy may hold between its nodes
  static constexpr size_t kMaxListing = 64u << 20;  // one folder's PROPFIND answer
  struct Options {
    RepairScope scope;
    double rate = 0;  // bytes per second; 0: unlimited
    unsigned parallel = 2;
    bool act = true;  // false: list and plan only (check)
    // By node: a failed listing was logged already (kept across passes by the repairer, so a
    // node without PROPFIND is logged once, not every pass); null: log every failure.
    std::vector<bool>* warned = nullptr;
  };
  RepairRun(NodeClient& client, struct ev_loop* loop, const FsConfig& config, Options options,
            std::function<void()> finished);
  void start();
  bool finished() const { return finished_; }
  const RepairProgress& progress() const { return progress_; }
  const RepairPlan& plan() const { return plan_; }
  // Actions still to do (the backlog).
  uint64_t backlog() const { return progress_.actions - progress_.done - progress_.failed; }

 private:
  struct Walk {
    std::vector<std::string> folders;  // still to list
    bool failed = false;
  };
  void listNext(int node);
  void listed(int node, const std::string& folder, NodeReply& reply);
  void actNext();
  void copy(const RepairAction& a);
  void remove(const RepairAction& a);
  void actionDone(const RepairAction& a, bool ok, bool skipped = false);
  std::string requestHead(std::string_view method, std::string_view target, int node) const;
  void end();

  NodeClient& client_;
  const FsConfig& config_;
  Options options_;
  std::function<void()> onFinished_;
  Inventory inventory_;
  std::vector<Walk> walks_;
  unsigned walking_ = 0;
  RepairPlan plan_;
  RepairProgress progress_;
  size_t next_ = 0;
  unsigned inFlight_ = 0;
  std::unordered_set<std::string> failedPaths_;  // a copy failed: keep its other copies
  Timer pause_;                                  // the rate limit
  bool finished_ = false;
};

// The router's background repairer (repair = on): one pass every repair_interval, in the one
// worker that runs instance tasks; progress and backlog in the service's fs counters.
class FsService;
class Repairer {
 public:
  explicit Repairer(FsService& service);
  ~Repairer();
  void start();

 private:
  void tick();
  void publish();
  FsService& service_;
  NodeClient client_;
  Timer timer_, publisher_;
  std::unique_ptr<RepairRun> run_;
  uint64_t copiesSeen_ = 0, deletesSeen_ = 0, bytesSeen_ = 0, failedSeen_ = 0;
  std::vector<bool> warned_;  // RepairRun::Options::warned
  bool doneLater_ = false;    // the pass ended: destroyed at the next publish
};

}  // namespace manifold::fs
