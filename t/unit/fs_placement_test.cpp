// Tier: unit — protocols/fs placement: stage parsing and the rendezvous ranking's stability.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/fs/placement.hpp"
#include "t/unit/fs_nodes.hpp"

using namespace manifold;
using namespace manifold::fs;

namespace {

std::vector<proxy::BackendConfig> nodes(int n) { return fsNodes(n); }

Stage stageOver(std::vector<int> members) {
  Stage s;
  s.number = 1;
  s.nodes = std::move(members);
  return s;
}

std::vector<int> top(std::string_view path, const Stage& s,
                     const std::vector<proxy::BackendConfig>& b, size_t n) {
  std::vector<int> r;
  rankNodes(path, s, b, r);
  r.resize(std::min(n, r.size()));
  return r;
}

}  // namespace

TEST(FsPlacement, StageOfPath) {
  EXPECT_EQ(stageOf("/_s2/photos/a.jpg"), 2u);
  EXPECT_EQ(stageOf("/_s12/x"), 12u);
  EXPECT_EQ(stageOf("/_s3"), 3u);
  EXPECT_EQ(stageOf("/_s/x"), 0u);
  EXPECT_EQ(stageOf("/_s2x/y"), 0u);
  EXPECT_EQ(stageOf("/photos/_s2/a"), 0u);
  EXPECT_EQ(stageOf("/"), 0u);
}

// Every path places (whatever the node count); adding a node moves only the replica sets it
// enters; removing one moves only the sets it was in; re-weighting one moves only sets whose
// ranking it enters or leaves.
TEST(FsPlacement, RankingMovesOnlyWhatTheChangedNodeTouches) {
  auto b = nodes(5);
  Stage four = stageOver({0, 1, 2, 3}), five = stageOver({0, 1, 2, 3, 4});
  Stage three = stageOver({0, 1, 3});  // node 2 removed
  int movedOnAdd = 0, movedOnRemove = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string path = "/_s1/file" + std::to_string(i);
    auto before = top(path, four, b, 2), added = top(path, five, b, 2);
    ASSERT_EQ(before.size(), 2u);
    if (before != added) {
      ++movedOnAdd;
      EXPECT_TRUE(added[0] == 4 || added[1] == 4) << path;  // only the new node takes copies
    }
    auto removed = top(path, three, b, 2);
    bool held = before[0] == 2 || before[1] == 2;
    if (before != removed) {
      ++movedOnRemove;
      EXPECT_TRUE(held) << path;
    }
  }
  EXPECT_NEAR(movedOnAdd, 3000 * 2 / 5, 200);     // the new node's share of copies
  EXPECT_NEAR(movedOnRemove, 3000 * 2 / 4, 200);  // the paths the removed node held
  auto heavy = b;
  heavy[1].weight = 3;
  int moved = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string path = "/_s1/file" + std::to_string(i);
    auto before = top(path, four, b, 2), after = top(path, four, heavy, 2);
    if (before != after) {
      ++moved;
      bool touches = before[0] == 1 || before[1] == 1 || after[0] == 1 || after[1] == 1;
      EXPECT_TRUE(touches) << path;
    }
  }
  EXPECT_GT(moved, 0);
  Stage single = stageOver({3});
  EXPECT_EQ(top("/_s1/any", single, b, 2), std::vector<int>{3});
}
