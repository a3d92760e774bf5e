// Unit tests of the info board (shm/info_board.*): format, rows written and read back, cleared
// rows, label sanitising, adoption across a reload, refusal of foreign bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shm/info_board.hpp"

namespace manifold::shm {
namespace {

const std::vector<InfoBoard::Value> kValues = {{"files", true}, {"swaps", false}};

TEST(ShmInfoBoard, RowsRoundTrip) {
  std::vector<char> mem(InfoBoard::bytesFor(4));
  InfoBoard::format(mem.data(), mem.size(), false, "http_pack", kValues);
  InfoBoard* b = InfoBoard::at(mem.data(), mem.size());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->rows(), 4u);
  EXPECT_EQ(b->family(), "http_pack");
  ASSERT_EQ(b->valueCount(), 2u);
  EXPECT_EQ(b->valueName(1), "swaps");
  EXPECT_TRUE(b->valueGauge(0));
  EXPECT_FALSE(b->valueGauge(1));
  EXPECT_TRUE(b->read().empty());

  b->set(2, {{"host", "a.example"}, {"path", "/x\ty\nz"}}, {6, 1});
  b->set(0, {{"host", "b"}}, {3});
  b->set(9, {{"host", "out of range"}}, {1, 1});  // ignored
  std::vector<InfoBoard::Row> rows = b->read();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].labels[0].second, "b");
  EXPECT_EQ(rows[0].values, (std::vector<uint64_t>{3, 0}));
  ASSERT_EQ(rows[1].labels.size(), 2u);
  EXPECT_EQ(rows[1].labels[1].first, "path");
  EXPECT_EQ(rows[1].labels[1].second, "/x y z");
  EXPECT_EQ(rows[1].values, (std::vector<uint64_t>{6, 1}));

  b->clear(0);
  ASSERT_EQ(b->read().size(), 1u);
  // Adopted with the same shape: rows survive; another family or shape starts fresh.
  InfoBoard::format(mem.data(), mem.size(), true, "http_pack", kValues);
  EXPECT_EQ(b->read().size(), 1u);
  InfoBoard::format(mem.data(), mem.size(), true, "other", kValues);
  EXPECT_TRUE(b->read().empty());
  // A long label is cut, never overflowing its row.
  b->set(1, {{"path", std::string(5000, 'p')}}, {1, 2});
  rows = b->read();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].labels[0].second.size(), InfoBoard::kLabelBytes - 1 - 5);
  EXPECT_EQ(rows[0].values, (std::vector<uint64_t>{1, 2}));
}

TEST(ShmInfoBoard, RefusesForeignOrShortBytes) {
  std::vector<char> mem(InfoBoard::bytesFor(2), 'x');
  EXPECT_EQ(InfoBoard::at(mem.data(), mem.size()), nullptr);
  InfoBoard::format(mem.data(), mem.size(), false, "f", kValues);
  EXPECT_NE(InfoBoard::at(mem.data(), mem.size()), nullptr);
  EXPECT_EQ(InfoBoard::at(mem.data(), mem.size() - 1), nullptr);  // rows would not fit
  EXPECT_EQ(InfoBoard::at(mem.data(), 100), nullptr);
}

}  // namespace
}  // namespace manifold::shm
