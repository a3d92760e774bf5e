// A segment planted by another user is never honoured (issue #11 point 5): a local user could
// otherwise create /dev/shm/manifold.NAME with our magic and a live pid and keep the root
// master from starting. Needs root (to plant a file owned by someone else), as CI runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "shm/segment.hpp"

using manifold::shm::Segment;
using manifold::shm::SegmentHeader;

namespace {
// Writes a header that claims a live master (our parent: alive for the whole test).
void plant(const std::string& name, uid_t owner, mode_t mode) {
  const std::string shm = "/manifold." + name;
  shm_unlink(shm.c_str());
  int fd = shm_open(shm.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, sizeof(SegmentHeader)), 0);
  SegmentHeader h{};
  std::memcpy(h.magic, manifold::shm::kSegmentMagic, sizeof h.magic);
  h.layoutVersion = manifold::shm::kSegmentLayoutVersion;
  h.masterPid.store(getppid());
  ASSERT_EQ(pwrite(fd, &h, sizeof h, 0), static_cast<ssize_t>(sizeof h));
  ASSERT_EQ(fchown(fd, owner, static_cast<gid_t>(-1)), 0);
  ASSERT_EQ(fchmod(fd, mode), 0);
  close(fd);
}
std::string uniqueName(const char* tag) {
  return std::string("owner-test-") + tag + "-" + std::to_string(getpid());
}
// Removes the segment however the test ends (a failed create throws past the test body).
struct Unlinked {
  std::string name;
  ~Unlinked() { shm_unlink(("/manifold." + name).c_str()); }
};
}  // namespace

TEST(ShmSegmentOwner, AnotherUsersSegmentIsNotHonoured) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to plant a file owned by another user";
  const std::string name = uniqueName("foreign");
  Unlinked cleanup{name};
  plant(name, 65534, 0600);  // nobody's file, claiming our (live) parent as its master
  auto seg = Segment::create(name, 1 << 20);
  EXPECT_TRUE(seg->replacedForeign());
  EXPECT_EQ(seg->header().masterPid.load(), getpid());
  seg->unlink();
}

TEST(ShmSegmentOwner, OwnSegmentWritableByOthersIsNotHonoured) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string name = uniqueName("writable");
  Unlinked cleanup{name};
  plant(name, geteuid(), 0666);
  auto seg = Segment::create(name, 1 << 20);
  EXPECT_TRUE(seg->replacedForeign());
  seg->unlink();
}

TEST(ShmSegmentOwner, OwnLiveSegmentStillRefusesASecondInstance) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string name = uniqueName("own");
  Unlinked cleanup{name};
  plant(name, geteuid(), 0600);
  EXPECT_THROW(Segment::create(name, 1 << 20), std::runtime_error);
  shm_unlink(("/manifold." + name).c_str());
}
