// Tier: unit — the open-addressing peer table (peer_table.hpp) on a private buffer.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "protocols/tracker/peer_table.hpp"

using namespace manifold::tracker;

namespace {

using T4 = PeerTable<kV4>;
using T6 = PeerTable<kV6>;

void record4(uint8_t* r, uint32_t host, uint16_t port) {
  std::memset(r, 0, kRecordBytes[kV4]);
  std::memcpy(r, &host, 4);
  r[4] = static_cast<uint8_t>(port >> 8);
  r[5] = static_cast<uint8_t>(port);
}

// Inserts or finds; false when the table is full.
template <typename T>
bool put(std::vector<uint8_t>& table, uint32_t capacity, uint64_t seed, const uint8_t* rec) {
  bool found;
  const uint32_t at = T::find(table.data(), capacity, seed, rec, found);
  if (at == capacity) return false;
  if (!found) std::memcpy(table.data() + at * T::kStride, rec, T::kStride);
  return true;
}

uint32_t occupied4(const std::vector<uint8_t>& table, uint32_t capacity) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < capacity; ++i) n += !T4::empty(table.data() + i * T4::kStride);
  return n;
}

}  // namespace

TEST(TrackerPeerTable, FindsEveryPeerAfterInsertsAndErases) {
  const uint32_t cap = 1024;
  const uint64_t seed = 0x1234567890abcdefull;
  std::vector<uint8_t> table(cap * T4::kStride, 0);
  uint8_t r[12];
  const uint32_t n = peerTableLimit(cap);
  for (uint32_t i = 0; i < n; ++i) {
    record4(r, 0x0a000001, static_cast<uint16_t>(1 + i));
    ASSERT_TRUE(put<T4>(table, cap, seed, r));
  }
  EXPECT_EQ(occupied4(table, cap), n);
  // Erase every third peer: the others stay findable (no probe run got a gap).
  for (uint32_t i = 0; i < n; i += 3) {
    record4(r, 0x0a000001, static_cast<uint16_t>(1 + i));
    bool found;
    const uint32_t at = T4::find(table.data(), cap, seed, r, found);
    ASSERT_TRUE(found);
    T4::erase(table.data(), cap, seed, at);
  }
  for (uint32_t i = 0; i < n; ++i) {
    record4(r, 0x0a000001, static_cast<uint16_t>(1 + i));
    bool found;
    T4::find(table.data(), cap, seed, r, found);
    EXPECT_EQ(found, i % 3 != 0) << i;
  }
  EXPECT_EQ(occupied4(table, cap), n - (n + 2) / 3);
}

TEST(TrackerPeerTable, SmallTableFillsCompletelyThenReportsFull) {
  const uint32_t cap = 4;
  std::vector<uint8_t> table(cap * T4::kStride, 0);
  uint8_t r[12];
  EXPECT_EQ(peerTableLimit(cap), 4u);
  for (uint16_t p = 1; p <= 4; ++p) {
    record4(r, 7, p);
    ASSERT_TRUE(put<T4>(table, cap, 99, r));
  }
  record4(r, 7, 3);
  EXPECT_TRUE(put<T4>(table, cap, 99, r));  // present: found even in a full table
  record4(r, 7, 5);
  EXPECT_FALSE(put<T4>(table, cap, 99, r));
  EXPECT_EQ(peerTableLimit(64), 56u);
}

TEST(TrackerPeerTable, RehashKeepsPeersAndDropsDuplicates) {
  const uint32_t from = 16, to = 64;
  std::vector<uint8_t> a(from * T6::kStride, 0), b(to * T6::kStride, 0);
  uint8_t r[24] = {};
  for (int i = 0; i < 10; ++i) {
    std::memset(r, 0, sizeof r);
    r[0] = 0x20;
    r[15] = static_cast<uint8_t>(i);
    r[17] = 80;
    ASSERT_TRUE(put<T6>(a, from, 5, r));
  }
  // A crash could leave a record twice: copy one into a free slot by hand.
  uint32_t freeSlot = 0;
  while (!T6::empty(a.data() + freeSlot * T6::kStride)) ++freeSlot;
  uint32_t used = 0;
  while (T6::empty(a.data() + used * T6::kStride)) ++used;
  std::memcpy(a.data() + freeSlot * T6::kStride, a.data() + used * T6::kStride, T6::kStride);
  EXPECT_EQ(T6::rehash(a.data(), from, b.data(), to, 77), 10u);
  for (int i = 0; i < 10; ++i) {
    std::memset(r, 0, sizeof r);
    r[0] = 0x20;
    r[15] = static_cast<uint8_t>(i);
    r[17] = 80;
    bool found;
    T6::find(b.data(), to, 77, r, found);
    EXPECT_TRUE(found) << i;
  }
}

TEST(TrackerPeerTable, HomesSpreadOverTheTable) {
  // Ports of one address (what one NATed host or a load generator sends) must not pile up.
  const uint32_t cap = 4096;
  std::vector<uint32_t> perLine(cap / 16, 0);
  uint8_t r[12];
  for (uint32_t p = 1; p <= cap / 2; ++p) {
    record4(r, 0x7f000001, static_cast<uint16_t>(p));
    ++perLine[T4::home(r, 0xfeedull, cap) / 16];
  }
  uint32_t worst = 0;
  for (uint32_t c : perLine) worst = std::max(worst, c);
  EXPECT_LT(worst, 24u);  // 8 expected per 16 slots
}
