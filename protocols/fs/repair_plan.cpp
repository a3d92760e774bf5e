#include "protocols/fs/repair_plan.hpp"

#include <algorithm>

namespace manifold::fs {

namespace {

Version* find(std::vector<Version>& v, int node) {
  for (Version& x : v)
    if (x.node == node) return &x;
  return nullptr;
}

const Version* find(const std::vector<Version>& v, int node) {
  for (const Version& x : v)
    if (x.node == node) return &x;
  return nullptr;
}

const Stage* stageNumbered(const std::vector<Stage>& stages, unsigned n) {
  for (const Stage& s : stages)
    if (s.number == n) return &s;
  return nullptr;
}

void deleteAt(RepairPlan& out, const std::string& path, std::string target, int node, time_t mtime,
              bool afterCopies) {
  RepairAction a;
  a.kind = RepairAction::Delete;
  a.path = path;
  a.target = std::move(target);
  a.node = node;
  a.mtime = mtime;
  a.afterCopies = afterCopies;
  out.actions.push_back(std::move(a));
}

}  // namespace

void Inventory::add(int node, std::string_view path, int64_t size, time_t mtime) {
  bool tombstone = false, hint = false;
  if (path.starts_with(kTombstones) && path.size() > kTombstones.size() &&
      path[kTombstones.size()] == '/') {
    path.remove_prefix(kTombstones.size());
    tombstone = true;
  } else if (path.starts_with(kHints) && path.size() > kHints.size() &&
             path[kHints.size()] == '/') {
    path.remove_prefix(kHints.size());
    hint = true;
  }
  if (stageOf(path) == 0) return;  // not a store path (another folder on the node)
  PathState& s = paths[std::string(path)];
  if (hint) {
    if (std::find(s.hints.begin(), s.hints.end(), node) == s.hints.end()) s.hints.push_back(node);
    return;
  }
  std::vector<Version>& list = tombstone ? s.tombstones : s.copies;
  if (Version* v = find(list, node)) {
    *v = Version{node, size, mtime};
  } else {
    list.push_back(Version{node, size, mtime});
  }
}

void planRepair(const Inventory& inv, const std::vector<Stage>& stages,
                const std::vector<proxy::BackendConfig>& backends, unsigned replicas,
                const RepairScope& scope, RepairPlan& out) {
  out = RepairPlan{};
  std::vector<RepairAction> deletes;
  std::vector<int> ranked;
  auto listed = [&](int node) {
    return node >= 0 && static_cast<size_t>(node) < inv.listed.size() && inv.listed[node];
  };
  // Sorted, so the plan (and the order of work) is the same on every run.
  std::vector<const std::pair<const std::string, PathState>*> order;
  order.reserve(inv.paths.size());
  for (const auto& entry : inv.paths) order.push_back(&entry);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
  RepairPlan copies;
  for (const auto* entry : order) {
    const std::string& path = entry->first;
    const PathState& s = entry->second;
    unsigned number = stageOf(path);
    const Stage* stage = stageNumbered(stages, number);
    if (!stage || (scope.stage != 0 && scope.stage != number)) continue;
    const Version* newest = nullptr;
    for (const Version& v : s.copies)
      if (!newest || v.newer(*newest)) newest = &v;
    time_t tombstone = 0;
    for (const Version& t : s.tombstones) tombstone = std::max(tombstone, t.mtime);
    auto dropHints = [&](bool afterCopies) {
      for (int node : s.hints)
        if (listed(node)) deleteAt(out, path, std::string(kHints) + path, node, 0, afterCopies);
    };
    // Deleted (or only bookkeeping left). A write in the same second as the DELETE wins: a
    // DELETE then PUT (a client replacing a file) must never lose the new file.
    if (!newest || tombstone > newest->mtime) {
      if (newest) ++out.deleted;
      for (const Version& v : s.copies)
        if (listed(v.node)) deleteAt(out, path, path, v.node, v.mtime, false);
      dropHints(false);
      // Every node of the stage confirmed the delete (listed, no copy left): an old enough
      // tombstone has nothing left to guard against.
      if (!newest && tombstone != 0 && tombstone < scope.purgeBefore &&
          std::all_of(stage->nodes.begin(), stage->nodes.end(), listed)) {
        for (const Version& t : s.tombstones)
          deleteAt(out, path, std::string(kTombstones) + path, t.node, t.mtime, false);
        ++out.purged;
      }
      continue;
    }
    if (!s.tombstones.empty()) out.rewritten.emplace_back(path, newest->mtime);
    ++out.files;
    out.bytes += static_cast<uint64_t>(std::max<int64_t>(0, newest->size));
    unsigned holding = 0;
    for (const Version& v : s.copies) holding += v.same(*newest);
    ++out.histogram[std::min<size_t>(holding, out.histogram.size() - 1)];

    Stage placed = *stage;
    std::erase(placed.nodes, scope.drain);
    rankNodes(path, placed, backends, ranked);
    if (ranked.size() > replicas) ranked.resize(replicas);
    // A source: a listed node holding the newest version, a replica if one does.
    const Version* source = nullptr;
    for (const Version& v : s.copies)
      if (v.same(*newest) && listed(v.node) &&
          (!source || (std::find(ranked.begin(), ranked.end(), source->node) == ranked.end() &&
                       std::find(ranked.begin(), ranked.end(), v.node) != ranked.end())))
        source = &v;
    bool home = source != nullptr;  // every replica holds it, or gets a copy this pass
    bool under = false, stale = false;
    for (int r : ranked) {
      const Version* v = find(s.copies, r);
      if (v && v->same(*newest)) continue;
      under = true;
      stale = stale || v;
      if (!listed(r) || !source) {
        home = false;
        continue;
      }
      RepairAction a;
      a.kind = RepairAction::Copy;
      a.path = path;
      a.from = source->node;
      a.node = r;
      a.size = newest->size;
      a.mtime = newest->mtime;
      out.copyBytes += static_cast<uint64_t>(std::max<int64_t>(0, a.size));
      copies.actions.push_back(std::move(a));
    }
    out.underReplicated += under;
    out.stale += stale;
    bool misplaced = false;
    for (const Version& v : s.copies) {
      if (std::find(ranked.begin(), ranked.end(), v.node) != ranked.end()) continue;
      misplaced = true;
      if (home && listed(v.node)) deleteAt(out, path, path, v.node, v.mtime, true);
    }
    out.misplaced += misplaced;
    if (home) {
      dropHints(true);
      for (const Version& t : s.tombstones)  // written again since its DELETE
        if (listed(t.node)) deleteAt(out, path, std::string(kTombstones) + path, t.node, 0, true);
    }
  }
  deletes = std::move(out.actions);
  out.actions = std::move(copies.actions);
  out.actions.insert(out.actions.end(), std::make_move_iterator(deletes.begin()),
                     std::make_move_iterator(deletes.end()));
}

}  // namespace manifold::fs
