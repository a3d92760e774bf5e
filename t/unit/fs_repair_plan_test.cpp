// Tier: unit — protocols/fs repair: a node's PROPFIND listing parsed, and the repair plan
// (missing and stale copies, hand-off copies moved home, tombstones, drain, one stage).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "protocols/fs/multistatus.hpp"
#include "protocols/fs/repair_plan.hpp"
#include "t/unit/fs_nodes.hpp"

using namespace manifold;
using namespace manifold::fs;

namespace {

std::vector<proxy::BackendConfig> nodes(int n) { return fsNodes(n); }

std::vector<Stage> oneStage(int n) {
  Stage s;
  s.number = 1;
  for (int i = 0; i < n; ++i) s.nodes.push_back(i);
  return {s};
}

std::vector<int> replicasOf(const std::string& path, const std::vector<Stage>& stages,
                            const std::vector<proxy::BackendConfig>& b, size_t n) {
  std::vector<int> r;
  rankNodes(path, stages[0], b, r);
  r.resize(n);
  return r;
}

size_t count(const RepairPlan& p, RepairAction::Kind kind) {
  return std::count_if(p.actions.begin(), p.actions.end(),
                       [&](const RepairAction& a) { return a.kind == kind; });
}

}  // namespace

TEST(FsListing, NginxMultistatus) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<D:multistatus xmlns:D=\"DAV:\">\n"
      "<D:response>\n<D:href>/_s1/a/</D:href>\n<D:propstat>\n<D:prop>\n"
      "<D:getlastmodified>Sat, 05 Dec 2026 03:16:08 GMT</D:getlastmodified>\n"
      "<D:resourcetype><D:collection/></D:resourcetype>\n</D:prop>\n</D:propstat>\n"
      "</D:response>\n<D:response>\n<D:href>http://node:80/_s1/a/b%20c.txt</D:href>\n"
      "<D:propstat>\n<D:prop>\n<D:getcontentlength>5</D:getcontentlength>\n"
      "<D:getlastmodified>Sat, 05 Dec 2020 03:00:00 GMT</D:getlastmodified>\n"
      "<D:resourcetype></D:resourcetype>\n</D:prop>\n</D:propstat>\n</D:response>\n"
      "<D:response><D:href>/_s1/a/bad</D:href><D:prop><D:getcontentlength>x1"
      "</D:getcontentlength></D:prop></D:response>\n"
      "<D:response><D:href>/_s1/a/x HTTP/1.1\r\nHost: y</D:href></D:response>\n"
      "</D:multistatus>\n";
  std::vector<ListingEntry> e;
  ASSERT_TRUE(parseListing(body, e));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].path, "/_s1/a/");
  EXPECT_TRUE(e[0].collection);
  EXPECT_EQ(e[1].path, "/_s1/a/b%20c.txt");
  EXPECT_FALSE(e[1].collection);
  EXPECT_EQ(e[1].size, 5);
  EXPECT_EQ(e[1].mtime, 1607137200);
  EXPECT_EQ(e[2].size, -1);  // not a number
  EXPECT_EQ(e[2].mtime, 0);
  EXPECT_FALSE(parseListing("<html>not dav</html>", e));
}

TEST(FsRepairPlan, MissingAndStaleCopiesAreCopiedFromTheNewest) {
  auto b = nodes(4);
  auto stages = oneStage(4);
  auto r = replicasOf("/_s1/f", stages, b, 2);
  Inventory inv;
  inv.listed.assign(4, true);
  inv.add(r[0], "/_s1/f", 10, 2000);  // the newest
  RepairPlan p;
  planRepair(inv, stages, b, 2, {}, p);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, RepairAction::Copy);
  EXPECT_EQ(p.actions[0].from, r[0]);
  EXPECT_EQ(p.actions[0].node, r[1]);
  EXPECT_EQ(p.actions[0].mtime, 2000);
  EXPECT_EQ(p.underReplicated, 1u);
  EXPECT_EQ(p.histogram[1], 1u);

  inv.add(r[1], "/_s1/f", 12, 1000);  // an older version on the other replica
  planRepair(inv, stages, b, 2, {}, p);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].node, r[1]);
  EXPECT_EQ(p.stale, 1u);

  inv.add(r[1], "/_s1/f", 10, 2000);  // in step
  planRepair(inv, stages, b, 2, {}, p);
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(p.histogram[2], 1u);

  // Same second, different sizes (concurrent PUTs): the larger wins everywhere.
  inv.add(r[1], "/_s1/f", 11, 2000);
  planRepair(inv, stages, b, 2, {}, p);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].from, r[1]);
  EXPECT_EQ(p.actions[0].node, r[0]);
}

TEST(FsRepairPlan, HandOffCopiesGoHomeThenLeave) {
  auto b = nodes(4);
  auto stages = oneStage(4);
  auto ranked = replicasOf("/_s1/h", stages, b, 4);
  Inventory inv;
  inv.listed.assign(4, true);
  inv.add(ranked[0], "/_s1/h", 3, 500);
  inv.add(ranked[2], "/_s1/h", 3, 500);  // a hand-off copy, with its hint
  inv.add(ranked[2], "/.manifold-fs/hints/_s1/h", 0, 500);
  RepairPlan p;
  planRepair(inv, stages, b, 2, {}, p);
  ASSERT_EQ(p.actions.size(), 3u);
  EXPECT_EQ(p.actions[0].kind, RepairAction::Copy);  // copies first
  EXPECT_EQ(p.actions[0].node, ranked[1]);
  EXPECT_EQ(p.actions[1].kind, RepairAction::Delete);
  EXPECT_EQ(p.actions[1].node, ranked[2]);
  EXPECT_EQ(p.actions[1].target, "/_s1/h");
  EXPECT_TRUE(p.actions[1].afterCopies);
  EXPECT_EQ(p.actions[2].target, "/.manifold-fs/hints/_s1/h");
  EXPECT_EQ(p.misplaced, 1u);

  // The home replica cannot be listed (down): nothing is deleted.
  inv.listed[ranked[1]] = false;
  planRepair(inv, stages, b, 2, {}, p);
  EXPECT_TRUE(p.actions.empty());
}

TEST(FsRepairPlan, TombstonesDeleteOlderCopiesAndYieldToNewerWrites) {
  auto b = nodes(3);
  auto stages = oneStage(3);
  Inventory inv;
  inv.listed.assign(3, true);
  inv.add(0, "/_s1/gone", 4, 100);  // a node that was down during the DELETE
  inv.add(1, "/.manifold-fs/tombstones/_s1/gone", 0, 200);
  inv.add(2, "/.manifold-fs/tombstones/_s1/gone", 0, 200);
  RepairPlan p;
  planRepair(inv, stages, b, 2, {}, p);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, RepairAction::Delete);
  EXPECT_EQ(p.actions[0].node, 0);
  EXPECT_EQ(p.actions[0].mtime, 100);  // checked before deleting
  EXPECT_EQ(p.deleted, 1u);
  EXPECT_EQ(p.files, 0u);

  inv.add(0, "/_s1/gone", 4, 200);  // written again in the DELETE's second: it stays
  planRepair(inv, stages, b, 2, {}, p);
  EXPECT_EQ(p.files, 1u);
  EXPECT_EQ(p.deleted, 0u);

  inv.add(0, "/_s1/gone", 4, 300);  // written again after the DELETE
  planRepair(inv, stages, b, 2, {}, p);
  EXPECT_EQ(p.files, 1u);
  EXPECT_EQ(count(p, RepairAction::Copy), 1u);
  EXPECT_EQ(count(p, RepairAction::Delete), 2u);  // both stale tombstones
  ASSERT_EQ(p.rewritten.size(), 1u);              // routers forget the DELETE
  EXPECT_EQ(p.rewritten[0].second, 300);
}

// A tombstone is purged once no node of its stage holds the file (every node listed) and it is
// older than purgeBefore (now - tombstone_ttl); not while a copy or an unlisted node remains.
TEST(FsRepairPlan, ConfirmedOldTombstonesArePurged) {
  auto b = nodes(3);
  auto stages = oneStage(3);
  Inventory inv;
  inv.listed.assign(3, true);
  inv.add(1, "/.manifold-fs/tombstones/_s1/gone", 0, 200);
  inv.add(2, "/.manifold-fs/tombstones/_s1/gone", 0, 200);
  RepairPlan p;
  RepairScope scope;
  planRepair(inv, stages, b, 2, scope, p);  // no purgeBefore: kept forever
  EXPECT_TRUE(p.actions.empty());
  scope.purgeBefore = 200;  // not older than the limit yet
  planRepair(inv, stages, b, 2, scope, p);
  EXPECT_TRUE(p.actions.empty());
  scope.purgeBefore = 201;
  planRepair(inv, stages, b, 2, scope, p);
  ASSERT_EQ(p.actions.size(), 2u);
  EXPECT_EQ(p.purged, 1u);
  for (const RepairAction& a : p.actions) {
    EXPECT_EQ(a.kind, RepairAction::Delete);
    EXPECT_EQ(a.target, "/.manifold-fs/tombstones/_s1/gone");
    EXPECT_EQ(a.mtime, 200);  // checked first: a DELETE since the listing keeps its tombstone
    EXPECT_NE(a.node, 0);
  }

  inv.listed[0] = false;  // a node of the stage that could not be listed may still hold it
  planRepair(inv, stages, b, 2, scope, p);
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(p.purged, 0u);
  inv.listed[0] = true;

  inv.add(0, "/_s1/gone", 4, 100);  // an old copy: deleted this pass, the tombstone next pass
  planRepair(inv, stages, b, 2, scope, p);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].target, "/_s1/gone");
  EXPECT_EQ(p.purged, 0u);
}

TEST(FsRepairPlan, DrainAndStageScope) {
  auto b = nodes(3);
  auto stages = oneStage(3);
  Stage two;
  two.number = 2;
  two.nodes = {0, 1, 2};
  stages.push_back(two);
  Inventory inv;
  inv.listed.assign(3, true);
  for (int i = 0; i < 40; ++i)
    for (int n : replicasOf("/_s1/f" + std::to_string(i), stages, b, 2))
      inv.add(n, "/_s1/f" + std::to_string(i), 1, 1);
  inv.add(0, "/_s2/other", 1, 1);    // one copy only, in stage 2
  inv.add(0, "/elsewhere/x", 1, 1);  // not a store path: never touched
  RepairPlan p;
  RepairScope scope;
  scope.stage = 1;
  planRepair(inv, stages, b, 2, scope, p);
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(p.files, 40u);

  scope = RepairScope{};
  scope.drain = 0;
  planRepair(inv, stages, b, 2, scope, p);
  // Every copy on node 0 moves to the one node that lacks it, then leaves node 0.
  size_t onZero = 0;
  for (auto& [path, s] : inv.paths)
    for (auto& v : s.copies) onZero += v.node == 0;
  EXPECT_EQ(count(p, RepairAction::Copy), onZero + 1);  // and /_s2/other gets its second copy
  EXPECT_EQ(count(p, RepairAction::Delete), onZero);
  for (const RepairAction& a : p.actions) {
    if (a.kind == RepairAction::Copy) {
      EXPECT_NE(a.node, 0);
    } else {
      EXPECT_EQ(a.node, 0);
    }
  }
}
