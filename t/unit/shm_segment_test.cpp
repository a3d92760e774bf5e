// shm/segment: create/attach, the region directory (adopt, retire, release, full),
// stale-segment replacement and torn-read freedom of the directory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "shm/segment.hpp"
#include "t/unit/shm_test_util.hpp"

using manifold::shm::RegionInfo;
using manifold::shm::RegionState;
using manifold::shm::Segment;
using manifold::shm::SegmentNotFound;

namespace {

using manifold::shm::testing::Reaper;
using manifold::shm::testing::SharedMemory;

std::string uniqueName() { return manifold::shm::testing::uniqueName("test-seg"); }

bool shmExists(const std::string& name) {
  struct stat st {};
  return stat(("/dev/shm/manifold." + name).c_str(), &st) == 0;
}

// Unlinks the name whatever happens to the test.
struct NameGuard {
  std::string name = uniqueName();
  ~NameGuard() { shm_unlink(("/manifold." + name).c_str()); }
};

const RegionInfo* findInfo(const std::vector<RegionInfo>& all, const std::string& name,
                           RegionState state) {
  for (const auto& r : all)
    if (r.name == name && r.state == state) return &r;
  return nullptr;
}

}  // namespace

TEST(ShmSegment, CreateWritesHeaderAndAttachSeesIt) {
  NameGuard n;
  auto seg = Segment::create(n.name, 1 << 20);
  EXPECT_TRUE(shmExists(n.name));
  EXPECT_FALSE(seg->replacedStale());
  const auto& h = seg->header();
  EXPECT_EQ(0, std::memcmp(h.magic, "MANIFOLD", 8));
  EXPECT_EQ(manifold::shm::kSegmentLayoutVersion, h.layoutVersion);
  EXPECT_EQ(sizeof(manifold::shm::SegmentHeader), h.headerBytes);
  EXPECT_EQ(size_t{1} << 20, h.segmentBytes);
  EXPECT_EQ(getpid(), h.masterPid.load());
  EXPECT_EQ(0u, h.dataOffset % manifold::shm::kRegionAlign);
  EXPECT_NEAR(static_cast<double>(manifold::shm::wallClockMs()), static_cast<double>(h.startedAtMs),
              5000.0);

  seg->header().generation = 7;
  seg->header().reloads++;
  auto reader = Segment::attach(n.name, true);
  EXPECT_TRUE(reader->readOnly());
  EXPECT_EQ(7u, reader->header().generation.load());
  EXPECT_EQ(1u, reader->header().reloads.load());
  EXPECT_EQ(seg->size(), reader->size());
  EXPECT_EQ("/dev/shm/manifold." + n.name, reader->path());
  EXPECT_THROW(reader->ensureRegion("x", "l", 10), std::logic_error);

  seg->unlink();
  EXPECT_FALSE(shmExists(n.name));
  EXPECT_EQ(7u, reader->header().generation.load());  // mappings outlive the name
}

TEST(ShmSegment, AttachMissingSegmentSaysSo) {
  const std::string name = uniqueName();
  try {
    Segment::attach(name, true);
    FAIL() << "attach of a missing segment succeeded";
  } catch (const SegmentNotFound& e) {
    EXPECT_EQ(
        "no running instance with shm name " + name + " (/dev/shm/manifold." + name + " not found)",
        e.what());
  }
}

TEST(ShmSegment, AttachRefusesForeignOrOtherVersion) {
  NameGuard n;
  auto seg = Segment::create(n.name, 1 << 20);
  seg->header().layoutVersion = 99;
  try {
    Segment::attach(n.name, true);
    FAIL() << "version mismatch accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string::npos, std::string(e.what()).find("layout version 99")) << e.what();
  }
  seg->header().layoutVersion = manifold::shm::kSegmentLayoutVersion;
  seg->header().magic[0] = 'X';
  try {
    Segment::attach(n.name, true);
    FAIL() << "bad magic accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string::npos, std::string(e.what()).find("not a Manifold segment")) << e.what();
  }
}

TEST(ShmSegment, RejectsBadNames) {
  EXPECT_THROW(Segment::create("a/b", 1 << 20), std::invalid_argument);
  EXPECT_THROW(Segment::create("", 1 << 20), std::invalid_argument);
  EXPECT_THROW(Segment::attach("..", true), std::invalid_argument);
}

TEST(ShmSegment, EnsureRegionAdoptsSameLayoutAndRetiresChangedOne) {
  NameGuard n;
  auto seg = Segment::create(n.name, 1 << 20);
  auto a = seg->ensureRegion("cache", "table/v1 b=64", 10000);
  EXPECT_FALSE(a.adopted);
  EXPECT_EQ(10000u, a.bytes);
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(a.base) % 4096);
  std::memset(a.base, 0x5A, a.bytes);

  // A reload with the same name, layout and size keeps the contents.
  auto again = seg->ensureRegion("cache", "table/v1 b=64", 10000);
  EXPECT_TRUE(again.adopted);
  EXPECT_EQ(a.base, again.base);
  EXPECT_EQ(0x5A, static_cast<unsigned char*>(again.base)[9999]);
  EXPECT_EQ(a.base, seg->findRegion("cache"));
  EXPECT_EQ(10000u, seg->regionBytes("cache"));

  // A new layout: new zeroed extent; the old one is retired, untouched, still listed.
  auto changed = seg->ensureRegion("cache", "table/v2 b=64", 10000);
  EXPECT_FALSE(changed.adopted);
  EXPECT_NE(a.base, changed.base);
  for (size_t i = 0; i < changed.bytes; ++i)
    ASSERT_EQ(0, static_cast<unsigned char*>(changed.base)[i]);
  EXPECT_EQ(0x5A, static_cast<unsigned char*>(a.base)[0]);
  EXPECT_EQ(changed.base, seg->findRegion("cache"));
  auto all = seg->regions();
  ASSERT_EQ(2u, all.size());
  ASSERT_NE(nullptr, findInfo(all, "cache", RegionState::Retired));
  EXPECT_EQ("table/v1 b=64", findInfo(all, "cache", RegionState::Retired)->layout);
  EXPECT_EQ("table/v2 b=64", findInfo(all, "cache", RegionState::Live)->layout);

  // Same layout, other size: not adoptable either.
  auto bigger = seg->ensureRegion("cache", "table/v2 b=64", 20000);
  EXPECT_FALSE(bigger.adopted);
  EXPECT_EQ(3u, seg->regions().size());

  seg->releaseRetired();
  all = seg->regions();
  ASSERT_EQ(1u, all.size());
  EXPECT_EQ(RegionState::Live, all[0].state);
  EXPECT_EQ(20000u, all[0].bytes);
  EXPECT_EQ(bigger.base, seg->findRegion("cache"));
}

TEST(ShmSegment, RetireExceptDropsUnlistedRegionsAndReusesTheirSpace) {
  NameGuard n;
  auto seg = Segment::create(n.name, 1 << 20);
  auto a = seg->ensureRegion("a", "x", 4096);
  auto b = seg->ensureRegion("b", "x", 8192);
  seg->ensureRegion("c", "x", 4096);
  seg->retireExcept({"a", "c"});
  EXPECT_EQ(nullptr, seg->findRegion("b"));
  EXPECT_EQ(a.base, seg->findRegion("a"));
  ASSERT_NE(nullptr, findInfo(seg->regions(), "b", RegionState::Retired));
  // Retired space is not reused before release...
  auto d = seg->ensureRegion("d", "x", 8192);
  EXPECT_NE(b.base, d.base);
  seg->releaseRetired();
  EXPECT_EQ(3u, seg->regions().size());
  // ...and first fit reuses it after.
  std::memset(b.base, 0xFF, 8192);
  auto e = seg->ensureRegion("e", "x", 8000);
  EXPECT_EQ(b.base, e.base);
  for (size_t i = 0; i < 8192; ++i) ASSERT_EQ(0, static_cast<unsigned char*>(e.base)[i]) << i;
}

TEST(ShmSegment, FullSegmentThrows) {
  NameGuard n;
  auto seg = Segment::create(n.name, 64 * 1024);
  const size_t room = seg->size() - seg->header().dataOffset;
  try {
    seg->ensureRegion("huge", "x", room + 1);
    FAIL() << "oversized region accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(0u, std::string(e.what()).rfind("shm segment full: ", 0)) << e.what();
  }
  auto all = seg->ensureRegion("all", "x", room);  // exactly fits
  EXPECT_FALSE(all.adopted);
  EXPECT_THROW(seg->ensureRegion("more", "x", 1), std::runtime_error);
  // A failed ensureRegion changes nothing: the old region stays live.
  EXPECT_THROW(seg->ensureRegion("all", "y", room), std::runtime_error);
  EXPECT_EQ(all.base, seg->findRegion("all"));
  EXPECT_EQ(1u, seg->regions().size());
}

TEST(ShmSegment, DirectoryFullThrows) {
  NameGuard n;
  auto seg = Segment::create(n.name, (manifold::shm::kMaxRegions + 8) * 4096 + 65536);
  for (unsigned i = 0; i < manifold::shm::kMaxRegions; ++i)
    seg->ensureRegion("r" + std::to_string(i), "x", 100);
  try {
    seg->ensureRegion("one-too-many", "x", 100);
    FAIL() << "65th region accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string::npos, std::string(e.what()).find("shm segment full")) << e.what();
  }
}

TEST(ShmSegment, StaleSegmentOfDeadMasterIsReplaced) {
  NameGuard n;
  Reaper children;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto seg = Segment::create(n.name, 1 << 20);
      seg->ensureRegion("stats", "old", 4096);
      _exit(0);  // dies without unlink, like a crashed master
    } catch (...) {
      _exit(1);
    }
  }
  children.pids.push_back(child);
  ASSERT_EQ(0, children.wait(child));
  ASSERT_TRUE(shmExists(n.name));
  {
    auto old = Segment::attach(n.name, true);
    EXPECT_EQ(child, old->header().masterPid.load());
  }
  auto seg = Segment::create(n.name, 1 << 20);
  EXPECT_TRUE(seg->replacedStale());
  EXPECT_EQ(getpid(), seg->header().masterPid.load());
  EXPECT_TRUE(seg->regions().empty());
  seg->unlink();
}

TEST(ShmSegment, LiveInstanceIsRefused) {
  NameGuard n;
  int toParent[2], toChild[2];
  ASSERT_EQ(0, pipe(toParent));
  ASSERT_EQ(0, pipe(toChild));
  Reaper children;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(toParent[0]);
    close(toChild[1]);
    char c = 0;
    try {
      auto seg = Segment::create(n.name, 1 << 20);
      c = 'R';
    } catch (...) {
      c = 'E';
    }
    if (write(toParent[1], &c, 1) != 1) _exit(2);
    ssize_t r = read(toChild[0], &c, 1);  // until the parent closes the pipe
    _exit(r == 0 ? 0 : 3);
  }
  children.pids.push_back(child);
  close(toParent[1]);
  close(toChild[0]);
  char c = 0;
  ASSERT_EQ(1, read(toParent[0], &c, 1));
  ASSERT_EQ('R', c);
  try {
    Segment::create(n.name, 1 << 20);
    ADD_FAILURE() << "second instance accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ("another instance (pid " + std::to_string(child) + ") uses shm " + n.name,
              std::string(e.what()));
  }
  close(toChild[1]);
  close(toParent[0]);
  EXPECT_EQ(0, children.wait(child));
  auto seg = Segment::create(n.name, 1 << 20);  // now stale
  EXPECT_TRUE(seg->replacedStale());
}

// A reader attached separately must never see an entry mixing two writes (probabilistic:
// without the seqlock it fails about once per few hundred thousand rewrites). Layout and
// bytes are derived from the same k, and the layout's length varies with k.
TEST(ShmSegment, ReaderNeverSeesATornDirectoryEntry) {
  NameGuard n;
  auto seg = Segment::create(n.name, 4 << 20);
  auto reader = Segment::attach(n.name, true);
  auto layoutFor = [](unsigned k) { return "L" + std::to_string(k) + std::string(k % 80, 'x'); };
  auto bytesFor = [](unsigned k) { return size_t{4096} * (k % 7 + 1) - k % 13; };
  seg->ensureRegion("r", layoutFor(0), bytesFor(0));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (unsigned k = 1; k < 50000; ++k) {
      seg->ensureRegion("r", layoutFor(k), bytesFor(k));
      seg->releaseRetired();
    }
    done = true;
  });
  unsigned reads = 0, bad = 0;
  while (!done || reads == 0) {
    for (const RegionInfo& r : reader->regions()) {
      ++reads;
      const unsigned k = static_cast<unsigned>(std::stoul(r.layout.substr(1)));
      if (r.name != "r" || r.layout != layoutFor(k) || r.bytes != bytesFor(k)) ++bad;
    }
  }
  writer.join();
  EXPECT_GT(reads, 0u);
  EXPECT_EQ(0u, bad);
}
