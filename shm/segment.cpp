#include "shm/segment.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <system_error>

#include "shm/huge_pages.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"

namespace manifold::shm {

namespace {

constexpr size_t kHeaderPrefix = 32;  // bytes 0..31 mean the same in every layout version

size_t alignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

std::system_error sysError(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

// Only a segment this user created, that nobody else may write, can speak for a live master.
// Anyone can create /dev/shm/manifold.NAME (the directory is world-writable) with our magic
// and a live pid in it; honouring that would let a local user keep the daemon from starting.
bool trustworthy(const struct stat& st) {
  return S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

// The pid recorded in an existing segment if that master is still running, else 0.
// A segment we cannot parse (too small, no magic: its creator died mid-create) is stale, and
// so is one we cannot trust (another owner, or writable by others): `foreignUid` then says whose.
pid_t liveOwner(const std::string& shm, uid_t& foreignUid, bool& foreign) {
  foreign = false;
  const int fd = shm_open(shm.c_str(), O_RDONLY | O_NOFOLLOW, 0);
  if (fd < 0) return 0;
  struct stat st {};
  pid_t pid = 0;
  if (fstat(fd, &st) == 0 && !trustworthy(st)) {
    foreign = true;
    foreignUid = st.st_uid;
    close(fd);
    return 0;
  }
  if (fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) >= kHeaderPrefix) {
    void* p = mmap(nullptr, kHeaderPrefix, PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      const auto* h = static_cast<const SegmentHeader*>(p);
      if (std::memcmp(h->magic, kSegmentMagic, sizeof kSegmentMagic) == 0)
        pid = h->masterPid.load(std::memory_order_relaxed);
      munmap(p, kHeaderPrefix);
    }
  }
  close(fd);
  // EPERM: the process exists but belongs to someone else; still alive.
  if (pid <= 0 || pid == getpid()) return 0;
  if (kill(pid, 0) == 0 || errno == EPERM) return pid;
  return 0;
}

// Maps the segment file at a 2 MiB-aligned address, so that addresses and file offsets agree
// modulo a huge page and a region's aligned extent can be mapped with huge pages.
void* mapAligned(int fd, size_t bytes) {
  void* hole = mmap(nullptr, bytes + kHugePageBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (hole == MAP_FAILED) return mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const auto start = reinterpret_cast<uintptr_t>(hole);
  const uintptr_t aligned = (start + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  void* base = mmap(reinterpret_cast<void*>(aligned), bytes, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_FIXED, fd, 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    munmap(hole, bytes + kHugePageBytes);
    errno = err;
    return MAP_FAILED;
  }
  if (aligned > start) munmap(hole, aligned - start);
  const uintptr_t end = aligned + bytes, holeEnd = start + bytes + kHugePageBytes;
  if (holeEnd > end) munmap(reinterpret_cast<void*>(end), holeEnd - end);
  return base;
}

void zeroExtent(void* p, size_t bytes) {
  // Punching the pages out of tmpfs zeroes them without touching (committing) memory.
  if (madvise(p, bytes, MADV_REMOVE) != 0) std::memset(p, 0, bytes);
}

}  // namespace

const char* regionStateName(RegionState state) {
  switch (state) {
    case RegionState::Free:
      return "free";
    case RegionState::Live:
      return "live";
    case RegionState::Retired:
      return "retired";
  }
  return "?";
}

uint64_t wallClockMs() { return clock::wallMs(); }

std::string Segment::shmName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 200 && name != "." && name != "..";
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      ok = false;
  if (!ok)
    throw std::invalid_argument("invalid shm name '" + name +
                                "': use 1-200 letters, digits, '.', '_' or '-'");
  return "/manifold." + name;
}

Segment::Segment(std::string name, void* base, size_t size, bool readOnly)
    : name_(std::move(name)),
      base_(base),
      size_(size),
      readOnly_(readOnly),
      header_(static_cast<SegmentHeader*>(base)) {}

Segment::~Segment() {
  if (base_) munmap(base_, size_);
}

std::unique_ptr<Segment> Segment::create(const std::string& name, size_t bytes) {
  const std::string shm = shmName(name);
  const size_t dataOffset = alignUp(sizeof(SegmentHeader), kRegionAlign);
  bytes = alignUp(bytes, kRegionAlign);
  if (bytes < dataOffset + kRegionAlign)
    throw std::invalid_argument("shm size " + std::to_string(bytes) + " is too small (minimum " +
                                std::to_string(dataOffset + kRegionAlign) + ")");
  bool replaced = false, replacedForeign = false;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const int fd = shm_open(shm.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
      if (errno != EEXIST) throw sysError("shm_open " + shm);
      uid_t foreignUid = 0;
      bool foreign = false;
      if (const pid_t owner = liveOwner(shm, foreignUid, foreign))
        throw std::runtime_error("another instance (pid " + std::to_string(owner) + ") uses shm " +
                                 name);
      if (shm_unlink(shm.c_str()) != 0 && errno != ENOENT) {
        if (foreign)
          throw std::runtime_error("/dev/shm" + shm + " belongs to uid " +
                                   std::to_string(foreignUid) +
                                   " (or is writable by others) and cannot be removed: it is not "
                                   "this instance's; remove it or choose another shm_name");
        throw sysError("shm_unlink " + shm);
      }
      replaced = true;
      if (foreign) replacedForeign = true;
      continue;
    }
    if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      const auto err = sysError("ftruncate " + shm + " to " + std::to_string(bytes));
      close(fd);
      shm_unlink(shm.c_str());
      throw err;
    }
    void* base = mapAligned(fd, bytes);
    const int mapErrno = errno;
    close(fd);
    if (base == MAP_FAILED) {
      shm_unlink(shm.c_str());
      errno = mapErrno;
      throw sysError("mmap " + shm);
    }
    std::unique_ptr<Segment> seg(new Segment(name, base, bytes, false));
    seg->replacedStale_ = replaced;
    seg->replacedForeign_ = replacedForeign;
    SegmentHeader& h = seg->header();  // fresh pages are zero: only non-zero fields are set
    h.layoutVersion = kSegmentLayoutVersion;
    h.headerBytes = sizeof(SegmentHeader);
    h.segmentBytes = bytes;
    h.masterPid.store(getpid(), std::memory_order_relaxed);
    h.maxRegions = kMaxRegions;
    h.startedAtMs = wallClockMs();
    h.dataOffset = dataOffset;
    // Magic last: a reader that attaches mid-create sees "not a Manifold segment".
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(h.magic, kSegmentMagic, sizeof kSegmentMagic);
    return seg;
  }
  throw std::runtime_error("cannot create shm " + name + ": it keeps reappearing");
}

std::unique_ptr<Segment> Segment::attach(const std::string& name, bool readOnly) {
  const std::string shm = shmName(name);
  const std::string path = "/dev/shm" + shm;
  const int fd = shm_open(shm.c_str(), readOnly ? O_RDONLY : O_RDWR, 0);
  if (fd < 0) {
    if (errno == ENOENT)
      throw SegmentNotFound("no running instance with shm name " + name + " (" + path +
                            " not found)");
    throw sysError("cannot open " + path);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const auto err = sysError("fstat " + path);
    close(fd);
    throw err;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < sizeof(SegmentHeader)) {
    close(fd);
    throw std::runtime_error(path + " is not a Manifold segment (" + std::to_string(size) +
                             " bytes, too small)");
  }
  void* base =
      mmap(nullptr, size, readOnly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int mapErrno = errno;
  close(fd);
  if (base == MAP_FAILED) {
    errno = mapErrno;
    throw sysError("mmap " + path);
  }
  std::unique_ptr<Segment> seg(new Segment(name, base, size, readOnly));
  const SegmentHeader& h = seg->header();
  if (std::memcmp(h.magic, kSegmentMagic, sizeof kSegmentMagic) != 0)
    throw std::runtime_error(path + " is not a Manifold segment (bad magic)");
  std::atomic_thread_fence(std::memory_order_acquire);
  if (h.layoutVersion != kSegmentLayoutVersion || h.headerBytes != sizeof(SegmentHeader))
    throw std::runtime_error(path + " has layout version " + std::to_string(h.layoutVersion) +
                             " (header " + std::to_string(h.headerBytes) +
                             " bytes); this binary reads version " +
                             std::to_string(kSegmentLayoutVersion) + " (header " +
                             std::to_string(sizeof(SegmentHeader)) + " bytes)");
  if (h.segmentBytes != size || h.dataOffset < sizeof(SegmentHeader) || h.dataOffset > size)
    throw std::runtime_error(path + " has an inconsistent header (size " +
                             std::to_string(h.segmentBytes) + ", file " + std::to_string(size) +
                             ")");
  return seg;
}

void Segment::unlink() {
  const std::string shm = shmName(name_);
  if (shm_unlink(shm.c_str()) != 0 && errno != ENOENT) throw sysError("shm_unlink " + shm);
}

// Seqlock read of one entry. Words are loaded atomically so a concurrent rewrite is a
// retry, never undefined behaviour. Gives up (false) if the entry stays odd: its writer
// died mid-update.
bool Segment::readEntry(unsigned index, RegionInfo& out) const {
  const RegionEntry& e = header_->regions[index];
  constexpr size_t kWords = sizeof(RegionEntry) / 8;
  uint64_t words[kWords];
  const char* copy = reinterpret_cast<const char*>(words);
  for (int attempt = 0; attempt < 100000; ++attempt) {
    const uint32_t s1 = e.seq.load(std::memory_order_acquire);
    if (s1 & 1) {
      if (attempt > 100) sched_yield();
      continue;
    }
    const auto* src = reinterpret_cast<const uint64_t*>(&e);
    for (size_t i = 0; i < kWords; ++i) words[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e.seq.load(std::memory_order_relaxed) != s1) continue;
    uint32_t state;
    std::memcpy(&state, copy + offsetof(RegionEntry, state), sizeof state);
    const char* name = copy + offsetof(RegionEntry, name);
    const char* layout = copy + offsetof(RegionEntry, layout);
    out.state = static_cast<RegionState>(state);
    out.name.assign(name, strnlen(name, sizeof e.name));
    out.layout.assign(layout, strnlen(layout, sizeof e.layout));
    std::memcpy(&out.offset, copy + offsetof(RegionEntry, offset), 8);
    std::memcpy(&out.bytes, copy + offsetof(RegionEntry, bytes), 8);
    std::memcpy(&out.generation, copy + offsetof(RegionEntry, generation), 8);
    return true;
  }
  return false;
}

void Segment::writeEntry(unsigned index, RegionState state, const std::string& name,
                         const std::string& layout, uint64_t offset, uint64_t bytes) {
  RegionEntry& e = header_->regions[index];
  const uint32_t s = e.seq.load(std::memory_order_relaxed);
  e.seq.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::memset(e.name, 0, sizeof e.name);
  std::memcpy(e.name, name.data(), name.size());
  std::memset(e.layout, 0, sizeof e.layout);
  std::memcpy(e.layout, layout.data(), layout.size());
  e.offset = offset;
  e.bytes = bytes;
  e.generation = header_->generation.load(std::memory_order_relaxed);
  e.state = static_cast<uint32_t>(state);
  e.seq.store(s + 2, std::memory_order_release);
}

void Segment::setState(unsigned index, RegionState state) {
  RegionEntry& e = header_->regions[index];
  const uint32_t s = e.seq.load(std::memory_order_relaxed);
  e.seq.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  e.state = static_cast<uint32_t>(state);
  e.seq.store(s + 2, std::memory_order_release);
}

int Segment::liveIndex(const std::string& name) const {
  RegionInfo info;
  for (unsigned i = 0; i < kMaxRegions; ++i)
    if (readEntry(i, info) && info.state == RegionState::Live && info.name == name)
      return static_cast<int>(i);
  return -1;
}

// First fit: the free space is the gaps between live and retired extents. Extents of regions
// large enough for huge pages start on a 2 MiB boundary (the segment base is one too) when a gap
// allows it; otherwise anywhere, so a segment sized for its regions never fails for alignment.
uint64_t Segment::allocateExtent(uint64_t bytes) const {
  const uint64_t extent = alignUp(bytes, kRegionAlign);
  std::vector<std::pair<uint64_t, uint64_t>> used;  // [begin, end)
  for (const RegionEntry& e : header_->regions)
    if (static_cast<RegionState>(e.state) != RegionState::Free)
      used.emplace_back(e.offset, e.offset + alignUp(e.bytes, kRegionAlign));
  std::sort(used.begin(), used.end());
  auto firstFit = [&](uint64_t align) -> uint64_t {
    uint64_t cursor = header_->dataOffset;
    for (const auto& [begin, end] : used) {
      const uint64_t at = alignUp(cursor, align);
      if (begin >= at && begin - at >= extent) return at;
      cursor = std::max(cursor, end);
    }
    cursor = alignUp(cursor, align);
    return cursor <= size_ && size_ - cursor >= extent ? cursor : 0;
  };
  const uint64_t huge = bytes >= kHugeRegionMin ? firstFit(kHugePageBytes) : 0;
  return huge ? huge : firstFit(kRegionAlign);
}

size_t Segment::bytesAllocated() const {
  size_t total = 0;
  for (const RegionInfo& r : regions()) total += alignUp(r.bytes, kRegionAlign);
  return total;
}

Segment::RegionView Segment::ensureRegion(const std::string& name, const std::string& layout,
                                          size_t bytes) {
  if (readOnly_) throw std::logic_error("ensureRegion on a read-only shm segment");
  if (name.empty() || name.size() > kRegionNameMax || name.find('\0') != std::string::npos)
    throw std::invalid_argument("shm region name '" + name + "' must be 1-" +
                                std::to_string(kRegionNameMax) + " characters");
  if (layout.size() > kRegionLayoutMax)
    throw std::invalid_argument("shm region '" + name + "': layout key longer than " +
                                std::to_string(kRegionLayoutMax) + " characters");
  if (bytes == 0) throw std::invalid_argument("shm region '" + name + "' of 0 bytes");

  const int live = liveIndex(name);
  if (live >= 0) {
    const RegionEntry& e = header_->regions[live];
    if (e.bytes == bytes && layout == e.layout) {
      void* p = static_cast<char*>(base_) + e.offset;
      return {p, bytes, true, requestHugePages(name, p, bytes, false)};
    }
  }
  int freeIndex = -1;
  for (unsigned i = 0; i < kMaxRegions && freeIndex < 0; ++i)
    if (static_cast<RegionState>(header_->regions[i].state) == RegionState::Free)
      freeIndex = static_cast<int>(i);
  if (freeIndex < 0)
    throw std::runtime_error("shm segment full: no free directory entry for region '" + name +
                             "' (" + std::to_string(kMaxRegions) + " regions max)");
  const uint64_t offset = bytes > size_ ? 0 : allocateExtent(bytes);
  if (offset == 0)
    throw std::runtime_error("shm segment full: region '" + name + "' needs " +
                             std::to_string(alignUp(bytes, kRegionAlign)) + " bytes, " +
                             std::to_string(size_ - header_->dataOffset - bytesAllocated()) +
                             " of " + std::to_string(size_) +
                             " are free (raise shm_size, or reload once old workers are gone)");
  void* p = static_cast<char*>(base_) + offset;
  zeroExtent(p, alignUp(bytes, kRegionAlign));
  if (live >= 0) setState(static_cast<unsigned>(live), RegionState::Retired);
  writeEntry(static_cast<unsigned>(freeIndex), RegionState::Live, name, layout, offset, bytes);
  return {p, bytes, false, requestHugePages(name, p, bytes, true)};
}

// Large regions ask for huge pages where the kernel grants them for /dev/shm files (see
// huge_pages.hpp); the mapping's advice is inherited by the workers forked afterwards. Logged
// when the region is new (an adopted one was logged by the generation that created it).
size_t Segment::requestHugePages(const std::string& name, void* p, size_t bytes, bool log) {
  if (bytes < kHugeRegionMin) return 0;
  const HugePageSupport support = shmemHugePageSupport();  // re-read: the operator may remount
  const size_t mib = bytes >> 20;
  if (!support.allowed) {
    if (log)
      LOG_INFO(
          "shm region \"%s\" (%zu MiB): 4 KiB pages (%s; huge pages need `mount -o "
          "remount,huge=advise /dev/shm`)",
          name.c_str(), mib, support.why.c_str());
    return 0;
  }
  const size_t advised = adviseHugePages(p, bytes);
  if (log)
    LOG_INFO("shm region \"%s\" (%zu MiB): huge pages asked for %zu MiB (%s)", name.c_str(), mib,
             advised >> 20, support.why.c_str());
  return advised;
}

void Segment::retireExcept(const std::vector<std::string>& liveNames) {
  if (readOnly_) throw std::logic_error("retireExcept on a read-only shm segment");
  for (unsigned i = 0; i < kMaxRegions; ++i) {
    const RegionEntry& e = header_->regions[i];
    if (static_cast<RegionState>(e.state) != RegionState::Live) continue;
    const std::string name(e.name, strnlen(e.name, sizeof e.name));
    if (std::find(liveNames.begin(), liveNames.end(), name) == liveNames.end())
      setState(i, RegionState::Retired);
  }
}

void Segment::releaseRetired() {
  if (readOnly_) throw std::logic_error("releaseRetired on a read-only shm segment");
  for (unsigned i = 0; i < kMaxRegions; ++i) {
    const RegionEntry& e = header_->regions[i];
    if (static_cast<RegionState>(e.state) != RegionState::Retired) continue;
    setState(i, RegionState::Free);
    // Give the pages back to the system now; ensureRegion zeroes again anyway.
    madvise(static_cast<char*>(base_) + e.offset, alignUp(e.bytes, kRegionAlign), MADV_REMOVE);
  }
}

const void* Segment::findRegion(const std::string& name) const {
  RegionInfo info;
  for (unsigned i = 0; i < kMaxRegions; ++i)
    if (readEntry(i, info) && info.state == RegionState::Live && info.name == name &&
        info.offset >= header_->dataOffset && info.offset <= size_ &&
        info.bytes <= size_ - info.offset)
      return static_cast<const char*>(base_) + info.offset;
  return nullptr;
}

void* Segment::findRegion(const std::string& name) {
  return const_cast<void*>(static_cast<const Segment*>(this)->findRegion(name));
}

size_t Segment::regionBytes(const std::string& name) const {
  RegionInfo info;
  for (unsigned i = 0; i < kMaxRegions; ++i)
    if (readEntry(i, info) && info.state == RegionState::Live && info.name == name)
      return info.bytes;
  return 0;
}

std::vector<RegionInfo> Segment::regions() const {
  std::vector<RegionInfo> out;
  RegionInfo info;
  for (unsigned i = 0; i < kMaxRegions; ++i)
    if (readEntry(i, info) && info.state != RegionState::Free) out.push_back(info);
  return out;
}

}  // namespace manifold::shm
