// shm/huge_pages and the segment's huge-page request: when the kernel's settings allow huge pages
// for a /dev/shm file, extents and the mapping's alignment, and what the kernel reports granted.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "shm/huge_pages.hpp"
#include "shm/segment.hpp"

using namespace manifold::shm;

namespace {

bool aligned(const void* p, size_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

std::string thpEnabled() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(f, line);
  const size_t open = line.find('['), close = line.find(']');
  return open == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

struct NameGuard {
  std::string name = "test-huge-" + std::to_string(getpid());
  ~NameGuard() { shm_unlink(("/manifold." + name).c_str()); }
};

}  // namespace

TEST(ShmHugePages, SettingsDecideWhetherADevShmFileGetsThem) {
  // The mount's huge= option decides, unless shmem_enabled forces or denies.
  EXPECT_TRUE(shmemHugePagesAllowed("never", "advise"));
  EXPECT_TRUE(shmemHugePagesAllowed("advise", "always"));
  EXPECT_TRUE(shmemHugePagesAllowed("never", "within_size"));
  EXPECT_TRUE(shmemHugePagesAllowed("force", "never"));
  EXPECT_TRUE(shmemHugePagesAllowed("force", ""));
  // shmem_enabled=advise only covers the kernel's internal mount (memfd, SysV, anonymous).
  EXPECT_FALSE(shmemHugePagesAllowed("advise", "never"));
  EXPECT_FALSE(shmemHugePagesAllowed("always", ""));
  EXPECT_FALSE(shmemHugePagesAllowed("deny", "advise"));
  EXPECT_FALSE(shmemHugePagesAllowed("never", "deny"));
}

TEST(ShmHugePages, SupportNamesTheSettingsRead) {
  const HugePageSupport s = shmemHugePageSupport();
  EXPECT_NE(s.why.find("shmem_enabled="), std::string::npos) << s.why;
  EXPECT_NE(s.why.find("/dev/shm huge="), std::string::npos) << s.why;
  // No tmpfs there: only shmem_enabled=force would give a file huge pages.
  const HugePageSupport none = shmemHugePageSupport("/no/such/mount");
  EXPECT_NE(none.why.find("huge=(not tmpfs)"), std::string::npos) << none.why;
  EXPECT_EQ(s.why.find("shmem_enabled=force") != std::string::npos, none.allowed) << none.why;
}

TEST(ShmHugePages, AdvisesOnlyWholeAlignedHugePages) {
  const size_t bytes = 8 * kHugePageBytes;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  char* c = static_cast<char*>(p);
  // Within one huge page there is nothing to ask for.
  EXPECT_EQ(0u, adviseHugePages(c + 4096, kHugePageBytes - 8192));
  // From an unaligned start: only the whole pages inside.
  const auto base = reinterpret_cast<uintptr_t>(c);
  const uintptr_t first = (base + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const size_t expect = ((base + bytes) & ~(kHugePageBytes - 1)) - first;
  EXPECT_EQ(expect, adviseHugePages(c, bytes));
  munmap(p, bytes);
}

TEST(ShmHugePages, ReportsWhatTheKernelGrantedForAnAnonymousMapping) {
  const size_t bytes = 8 * kHugePageBytes;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_GT(adviseHugePages(p, bytes), 0u);
  std::memset(p, 1, bytes);
  const size_t got = hugeMappedBytes(p);
  const std::string enabled = thpEnabled();
  if (enabled == "never")
    EXPECT_EQ(0u, got);
  else  // madvise or always: the aligned whole pages, unless memory is too fragmented
    EXPECT_GE(got, kHugePageBytes) << "transparent_hugepage/enabled=" << enabled;
  EXPECT_LE(got, bytes);
  EXPECT_EQ(0u, hugeMappedBytes(nullptr));  // no mapping there
  munmap(p, bytes);
}

TEST(ShmHugePages, SegmentAlignsLargeRegionsAndAsksWhenAllowed) {
  NameGuard n;
  auto seg = Segment::create(n.name, 64u << 20);
  EXPECT_TRUE(aligned(seg->base(), kHugePageBytes));
  auto small = seg->ensureRegion("small", "v1", 10000);
  EXPECT_EQ(0u, small.hugeAdvised);
  auto large = seg->ensureRegion("large", "v1", 5 * kHugePageBytes + 4096);
  EXPECT_TRUE(aligned(large.base, kHugePageBytes));
  // Small regions still pack at 4 KiB: the next one fills the gap before "large".
  auto small2 = seg->ensureRegion("small2", "v1", 10000);
  EXPECT_LT(small2.base, large.base);
  const HugePageSupport s = shmemHugePageSupport();
  EXPECT_EQ(s.allowed ? 5 * kHugePageBytes : 0u, large.hugeAdvised) << s.why;
  // Adopting asks again (a new master of the same segment maps it afresh).
  EXPECT_EQ(large.hugeAdvised,
            seg->ensureRegion("large", "v1", 5 * kHugePageBytes + 4096).hugeAdvised);
  std::memset(large.base, 1, 5 * kHugePageBytes);
  // Alignment never makes a region fail that fits: all after "large", which ends 4 KiB past a
  // huge page, so the region cannot start on one.
  const size_t largeEnd =
      static_cast<size_t>(static_cast<char*>(large.base) - static_cast<char*>(seg->base())) +
      5 * kHugePageBytes + 4096;
  const size_t rest = seg->size() - largeEnd;
  ASSERT_GE(rest, kHugeRegionMin);
  auto tight = seg->ensureRegion("tight", "v1", rest);
  EXPECT_EQ(static_cast<char*>(seg->base()) + largeEnd, tight.base);
  if (s.allowed)
    EXPECT_GT(hugeMappedBytes(large.base), 0u) << s.why;
  else
    EXPECT_EQ(0u, hugeMappedBytes(large.base)) << s.why;
}
