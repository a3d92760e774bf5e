// shm/table: put/find/replace/erase/update, eviction under the byte budget, several
// processes hammering one table, and recovery when a lock holder is SIGKILLed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "shm/robust_mutex.hpp"
#include "shm/segment.hpp"
#include "shm/table.hpp"
#include "t/unit/shm_test_util.hpp"

using manifold::shm::RobustLockGuard;
using manifold::shm::RobustMutex;
using manifold::shm::Segment;
using manifold::shm::Table;
using manifold::shm::TableEntry;
using PutResult = Table::PutResult;

namespace {

using manifold::shm::testing::Reaper;

std::string uniqueName() { return manifold::shm::testing::uniqueName("test-table"); }

// A real segment with one table region; children forked later inherit the mapping.
struct TestTable {
  TestTable(size_t dataBytes, uint32_t buckets, uint32_t stripes) {
    const size_t bytes = Table::bytesFor(dataBytes, buckets, stripes);
    seg = Segment::create(name, bytes + (1 << 20));
    auto view = seg->ensureRegion("table", "test", bytes);
    table = Table::format(view.base, view.bytes, buckets, stripes);
  }
  ~TestTable() { shm_unlink(("/manifold." + name).c_str()); }
  std::string name = uniqueName();
  std::unique_ptr<Segment> seg;
  Table* table = nullptr;
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string get(Table* t, std::string_view key) {
  std::string out = "<absent>";
  t->find(key, [&](std::span<const uint8_t> v) {
    out.assign(reinterpret_cast<const char*>(v.data()), v.size());
  });
  return out;
}

// Values that prove their own integrity: "<key>|<writer>|<len>|" then a filler derived
// from all three. A torn or misplaced value fails.
std::string makeValue(const std::string& key, unsigned writer, size_t fill) {
  std::string v = key + "|" + std::to_string(writer) + "|" + std::to_string(fill) + "|";
  for (size_t i = 0; i < fill; ++i)
    v.push_back(static_cast<char>('a' + (key.size() + writer + i) % 26));
  return v;
}

bool valueMatches(const std::string& key, std::string_view v) {
  const size_t a = v.find('|'), b = v.find('|', a + 1), c = v.find('|', b + 1);
  if (c == std::string_view::npos || v.substr(0, a) != key) return false;
  const unsigned writer =
      static_cast<unsigned>(std::stoul(std::string(v.substr(a + 1, b - a - 1))));
  const size_t fill = std::stoul(std::string(v.substr(b + 1, c - b - 1)));
  return v == makeValue(key, writer, fill);
}

std::string verified(Table* t) {
  std::string why;
  return t->verify(&why) ? "ok" : why;
}

}  // namespace

TEST(ShmTable, PutFindReplaceErase) {
  TestTable tt(256 * 1024, 64, 8);
  Table* t = tt.table;
  ASSERT_EQ(t, Table::at(tt.seg->findRegion("table")));
  EXPECT_EQ(PutResult::Inserted, t->put("alpha", bytes("one")));
  EXPECT_EQ(PutResult::Inserted, t->put("beta", bytes("two")));
  EXPECT_EQ(2u, t->entries());
  EXPECT_EQ("one", get(t, "alpha"));
  EXPECT_EQ("two", get(t, "beta"));
  EXPECT_EQ("<absent>", get(t, "gamma"));
  EXPECT_FALSE(t->find("gamma", [](auto) {}));

  const size_t usedBefore = t->bytesUsed();
  EXPECT_EQ(PutResult::Replaced, t->put("alpha", bytes(std::string(3000, 'x'))));
  EXPECT_EQ(std::string(3000, 'x'), get(t, "alpha"));
  EXPECT_GT(t->bytesUsed(), usedBefore);
  EXPECT_EQ(PutResult::Replaced, t->put("alpha", bytes("1")));
  EXPECT_EQ("1", get(t, "alpha"));
  EXPECT_EQ(2u, t->entries());

  EXPECT_TRUE(t->erase("alpha"));
  EXPECT_FALSE(t->erase("alpha"));
  EXPECT_EQ("<absent>", get(t, "alpha"));
  EXPECT_EQ(1u, t->entries());
  EXPECT_TRUE(t->erase("beta"));
  EXPECT_EQ(0u, t->entries());
  EXPECT_EQ(0u, t->bytesUsed());
  EXPECT_EQ("ok", verified(t));
}

TEST(ShmTable, BinaryKeysEmptyValuesAndKeyLimit) {
  TestTable tt(256 * 1024, 16, 4);
  Table* t = tt.table;
  const std::string nulKey("a\0b", 3), otherNulKey("a\0c", 3);
  EXPECT_EQ(PutResult::Inserted, t->put(nulKey, bytes("x")));
  EXPECT_EQ(PutResult::Inserted, t->put(otherNulKey, bytes("y")));
  EXPECT_EQ("x", get(t, nulKey));
  EXPECT_EQ("y", get(t, otherNulKey));
  EXPECT_EQ(PutResult::Inserted, t->put("empty", {}));
  EXPECT_EQ("", get(t, "empty"));
  EXPECT_EQ(PutResult::Inserted, t->put("", bytes("empty key")));
  EXPECT_EQ("empty key", get(t, ""));
  const std::string maxKey(Table::kMaxKey, 'k');
  EXPECT_EQ(PutResult::Inserted, t->put(maxKey, bytes("big key")));
  EXPECT_EQ("big key", get(t, maxKey));
  EXPECT_EQ(PutResult::Full, t->put(maxKey + "k", bytes("too long")));
  EXPECT_FALSE(t->erase(maxKey + "k"));
  EXPECT_EQ(5u, t->entries());
  EXPECT_EQ("ok", verified(t));
}

TEST(ShmTable, UpdateModifiesInPlaceAndValuesAreAligned) {
  TestTable tt(64 * 1024, 16, 4);
  Table* t = tt.table;
  uint64_t zero = 0;
  ASSERT_EQ(PutResult::Inserted, t->put("odd-key", {reinterpret_cast<uint8_t*>(&zero), 8}));
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(t->update("odd-key", [](std::span<uint8_t> v) {
      EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(v.data()) % 8);
      ++*reinterpret_cast<uint64_t*>(v.data());
    }));
  uint64_t out = 0;
  ASSERT_TRUE(
      t->find("odd-key", [&](std::span<const uint8_t> v) { std::memcpy(&out, v.data(), 8); }));
  EXPECT_EQ(10u, out);
  EXPECT_FALSE(t->update("missing", [](std::span<uint8_t>) { ADD_FAILURE(); }));
}

TEST(ShmTable, CollidingChainsAndForEach) {
  TestTable tt(1 << 20, 4, 2);  // 4 buckets: long chains
  Table* t = tt.table;
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(PutResult::Inserted, t->put("key" + std::to_string(i),
                                          bytes(makeValue("key" + std::to_string(i), 0, i % 50))));
  EXPECT_EQ(1000u, t->entries());
  for (int i = 0; i < 1000; i += 3) ASSERT_TRUE(t->erase("key" + std::to_string(i)));
  std::set<std::string> seen;
  size_t visits = 0;
  t->forEach([&](std::string_view key, std::span<const uint8_t> v) {
    ++visits;
    seen.insert(std::string(key));
    EXPECT_TRUE(
        valueMatches(std::string(key), {reinterpret_cast<const char*>(v.data()), v.size()}));
  });
  EXPECT_EQ(666u, visits);
  EXPECT_EQ(666u, seen.size());
  EXPECT_EQ(666u, t->entries());
  EXPECT_EQ(0u, seen.count("key0"));
  EXPECT_EQ(1u, seen.count("key1"));
  EXPECT_EQ("ok", verified(t));
}

TEST(ShmTable, EvictionKeepsTheBudgetAndSparesHotEntries) {
  TestTable tt(64 * 1024, 128, 8);
  Table* t = tt.table;
  const size_t budget = t->capacity();
  const std::string hotValue = makeValue("hot", 1, 100);
  ASSERT_EQ(PutResult::Inserted, t->put("hot", bytes(hotValue)));
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "cold" + std::to_string(i);
    ASSERT_NE(PutResult::Full, t->put(key, bytes(makeValue(key, 2, 150 + i % 200))));
    ASSERT_LE(t->bytesUsed(), budget);
    ASSERT_EQ(hotValue, get(t, "hot")) << "hot entry evicted after " << i << " puts";
  }
  EXPECT_GT(t->evictions(), 1000u);
  EXPECT_LT(t->entries(), 2000u);
  EXPECT_GT(t->entries(), 50u);
  EXPECT_EQ("<absent>", get(t, "cold0"));  // the oldest unread entries went first
  EXPECT_NE("<absent>", get(t, "cold1999"));
  EXPECT_EQ("ok", verified(t));
  // The table still fills to (near) its budget after the churn.
  EXPECT_GT(t->bytesUsed(), budget / 2);
}

TEST(ShmTable, FullWithoutEvictionOrWhenNothingCanFit) {
  TestTable tt(32 * 1024, 32, 4);
  Table* t = tt.table;
  EXPECT_EQ(PutResult::Full, t->put("huge", bytes(std::string(t->capacity(), 'h'))));
  int inserted = 0;
  PutResult r;
  while ((r = t->put("k" + std::to_string(inserted), bytes(std::string(500, 'v')), false)) ==
         PutResult::Inserted)
    ++inserted;
  EXPECT_EQ(PutResult::Full, r);
  EXPECT_GT(inserted, 40);
  EXPECT_EQ(static_cast<size_t>(inserted), t->entries());
  EXPECT_EQ(0u, t->evictions());
  for (int i = 0; i < inserted; ++i) ASSERT_NE("<absent>", get(t, "k" + std::to_string(i)));
  // With eviction allowed the same put succeeds.
  EXPECT_EQ(PutResult::Inserted, t->put("late", bytes(std::string(500, 'v'))));
  EXPECT_GT(t->evictions(), 0u);
  EXPECT_EQ("ok", verified(t));
}

TEST(ShmTable, RegionIsAdoptedWithItsEntries) {
  TestTable tt(64 * 1024, 32, 4);
  ASSERT_EQ(PutResult::Inserted, tt.table->put("kept", bytes("across reload")));
  auto again = tt.seg->ensureRegion("table", "test", tt.seg->regionBytes("table"));
  ASSERT_TRUE(again.adopted);
  Table* t = Table::at(again.base);
  ASSERT_NE(nullptr, t);
  EXPECT_EQ("across reload", get(t, "kept"));
  auto reader = Segment::attach(tt.name, true);  // the inspection tool's view
  const Table* ro = Table::at(reader->findRegion("table"));
  ASSERT_NE(nullptr, ro);
  EXPECT_EQ(1u, ro->entries());
  EXPECT_EQ(tt.table->bytesUsed(), ro->bytesUsed());
  EXPECT_EQ(tt.table->capacity(), ro->capacity());
}

// Four processes mix puts, replaces, updates and erases on their own keys and on keys
// they all share. No eviction (big budget), so each child's final state is exact.
TEST(ShmTable, ProcessesHammeringOneTableStayConsistent) {
  TestTable tt(8 << 20, 1024, 16);
  Table* t = tt.table;
  constexpr unsigned kChildren = 4, kOwn = 400, kShared = 50;
  Reaper children;
  for (unsigned c = 0; c < kChildren; ++c) {
    ASSERT_GT(children.spawn([t, c] {
      std::mt19937 rng(c + 1);
      auto own = [c](unsigned i) { return "c" + std::to_string(c) + "-" + std::to_string(i); };
      for (int op = 0; op < 30000; ++op) {
        const unsigned r = rng() % 100;
        const std::string key =
            r < 30 ? "shared-" + std::to_string(rng() % kShared) : own(rng() % kOwn);
        if (r < 60) {
          if (t->put(key, bytes(makeValue(key, c, rng() % 300))) == PutResult::Full) return 20;
        } else if (r < 75) {
          t->erase(key);
        } else if (r < 85) {
          t->update(key, [](std::span<uint8_t> v) {
            if (!v.empty()) v[0] = v[0];  // a write under the lock, value unchanged
          });
        } else {
          bool ok = true;
          t->find(key, [&](std::span<const uint8_t> v) {
            ok = valueMatches(key, {reinterpret_cast<const char*>(v.data()), v.size()});
          });
          if (!ok) return 21;
        }
      }
      for (unsigned i = 0; i < kOwn; ++i) {  // deterministic final state
        if (i % 3 == 0)
          t->erase(own(i));
        else if (t->put(own(i), bytes(makeValue(own(i), c, i))) == PutResult::Full)
          return 22;
      }
      return 0;
    }),
              0);
  }
  for (pid_t pid : std::vector<pid_t>(children.pids)) EXPECT_EQ(0, children.wait(pid));

  EXPECT_EQ("ok", verified(t));
  size_t own = 0, shared = 0;
  t->forEach([&](std::string_view key, std::span<const uint8_t> v) {
    EXPECT_TRUE(valueMatches(std::string(key), {reinterpret_cast<const char*>(v.data()), v.size()}))
        << key;
    (key.substr(0, 7) == "shared-" ? shared : own)++;
  });
  EXPECT_EQ(kChildren * (kOwn - (kOwn + 2) / 3), own);
  EXPECT_LE(shared, kShared);
  EXPECT_EQ(own + shared, t->entries());
  for (unsigned c = 0; c < kChildren; ++c)
    for (unsigned i = 0; i < kOwn; ++i) {
      const std::string key = "c" + std::to_string(c) + "-" + std::to_string(i);
      ASSERT_EQ(i % 3 == 0 ? "<absent>" : makeValue(key, c, i), get(t, key));
    }
  EXPECT_EQ(0u, t->evictions());
  EXPECT_EQ(0u, t->recoveries());
}

// Same, with a budget far too small: constant eviction from every process.
TEST(ShmTable, ProcessesEvictingConcurrentlyStayWithinBudget) {
  TestTable tt(128 * 1024, 256, 8);
  Table* t = tt.table;
  Reaper children;
  for (unsigned c = 0; c < 4; ++c) {
    ASSERT_GT(children.spawn([t, c] {
      std::mt19937 rng(c + 100);
      for (int op = 0; op < 20000; ++op) {
        const std::string key = "k" + std::to_string(rng() % 3000);
        if (rng() % 3) {
          if (t->put(key, bytes(makeValue(key, c, rng() % 1500))) == PutResult::Full) return 30;
        } else {
          bool ok = true;
          t->find(key, [&](std::span<const uint8_t> v) {
            ok = valueMatches(key, {reinterpret_cast<const char*>(v.data()), v.size()});
          });
          if (!ok) return 31;
        }
        if (t->bytesUsed() > t->capacity()) return 32;
      }
      return 0;
    }),
              0);
  }
  for (pid_t pid : std::vector<pid_t>(children.pids)) EXPECT_EQ(0, children.wait(pid));
  EXPECT_GT(t->evictions(), 1000u);
  EXPECT_LE(t->bytesUsed(), t->capacity());
  EXPECT_EQ("ok", verified(t));
  size_t n = 0;
  t->forEach([&](std::string_view key, std::span<const uint8_t> v) {
    ++n;
    EXPECT_TRUE(
        valueMatches(std::string(key), {reinterpret_cast<const char*>(v.data()), v.size()}));
  });
  EXPECT_EQ(n, t->entries());
}

// A RobustMutex whose holder is SIGKILLed: the next lock() succeeds and reports it.
TEST(ShmRobustMutex, OwnerKilledWhileHoldingIsRecovered) {
  TestTable tt(64 * 1024, 16, 4);
  auto view = tt.seg->ensureRegion("mutex", "robust", sizeof(RobustMutex));
  auto* m = new (view.base) RobustMutex();
  m->init();
  Reaper children;
  const pid_t child = children.spawnHolding([&](const std::function<void()>& hold) {
    m->lock();
    hold();
  });
  ASSERT_GT(child, 0);
  bool recovered = true;
  EXPECT_FALSE(m->tryLock(recovered));  // really held by the child
  EXPECT_EQ(128 + SIGKILL, children.killNow(child));
  EXPECT_TRUE(m->lock());  // recovered == true
  m->unlock();
  EXPECT_FALSE(m->lock());  // consistent again: an ordinary lock
  m->unlock();
  {
    RobustLockGuard guard(*m);
    EXPECT_FALSE(guard.recovered());
  }
}

// THE robust-lock test: a worker is SIGKILLed inside update() (holding a stripe lock,
// half-way through modifying a value). Other processes must not wedge, the table must
// keep working, and the recovery must be visible.
TEST(ShmTable, WorkerKilledHoldingAStripeLockDoesNotWedgeOthers) {
  TestTable tt(256 * 1024, 64, 4);
  Table* t = tt.table;
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(PutResult::Inserted, t->put("k" + std::to_string(i), bytes("v" + std::to_string(i))));
  ASSERT_EQ(PutResult::Inserted, t->put("victim", bytes("original")));
  Reaper children;
  const pid_t child = children.spawnHolding([&](const std::function<void()>& hold) {
    t->update("victim", [&](std::span<uint8_t> v) {
      v[0] = 'O';  // half-modified value
      hold();
    });
  });
  ASSERT_GT(child, 0);
  const uint32_t stripe = t->stripeOf("victim");
  bool recovered = false;
  EXPECT_FALSE(t->stripeMutex(stripe).tryLock(recovered));  // the child holds it
  EXPECT_EQ(128 + SIGKILL, children.killNow(child));

  EXPECT_EQ(0u, t->recoveries());
  EXPECT_EQ("Original", get(t, "victim"));  // lock recovered; value as the child left it
  EXPECT_EQ(1u, t->recoveries());
  EXPECT_EQ(0u, t->droppedChains());
  EXPECT_EQ(201u, t->entries());
  for (int i = 0; i < 200; ++i) ASSERT_EQ("v" + std::to_string(i), get(t, "k" + std::to_string(i)));
  EXPECT_EQ(PutResult::Replaced, t->put("victim", bytes("new")));
  EXPECT_EQ("new", get(t, "victim"));
  EXPECT_TRUE(t->erase("k7"));
  EXPECT_EQ("ok", verified(t));
  // Another process can use the same stripe too.
  const pid_t other =
      children.spawn([&] { return get(t, "victim") == "new" && t->erase("victim") ? 0 : 1; });
  EXPECT_EQ(0, children.wait(other));
  EXPECT_EQ("<absent>", get(t, "victim"));
  EXPECT_EQ(1u, t->recoveries());
}

// If the dead holder had left a chain pointing at garbage, recovery cuts the chain there
// instead of following it.
TEST(ShmTable, RecoveryCutsAChainAtAnInvalidLink) {
  TestTable tt(256 * 1024, 8, 2);
  Table* t = tt.table;
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(PutResult::Inserted, t->put("k" + std::to_string(i), bytes("v")));
  Reaper children;
  const pid_t child = children.spawnHolding([&](const std::function<void()>& hold) {
    t->update("k42", [&](std::span<uint8_t> v) {
      // Simulate a torn link: point k42's successor into the middle of nowhere.
      auto* e = reinterpret_cast<TableEntry*>(v.data() - TableEntry::valueOffset(3));
      e->next = 0x12345678;
      hold();
    });
  });
  ASSERT_GT(child, 0);
  EXPECT_EQ(128 + SIGKILL, children.killNow(child));

  EXPECT_EQ("v", get(t, "k42"));
  EXPECT_EQ(1u, t->recoveries());
  EXPECT_EQ(1u, t->droppedChains());
  EXPECT_LT(t->entries(), 100u);  // whatever followed k42 in its chain is gone
  EXPECT_EQ("ok", verified(t));
  size_t n = 0;
  t->forEach([&](std::string_view, std::span<const uint8_t>) { ++n; });
  EXPECT_EQ(n, t->entries());
  EXPECT_EQ(PutResult::Inserted, t->put("after", bytes("works")));
  EXPECT_EQ("works", get(t, "after"));
}
