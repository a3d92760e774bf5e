// The instance's named shared-memory segment: a header, a directory of named regions,
// and the regions themselves. Created by the master before it forks (workers inherit the
// mapping); attached by name by the inspection tool (bin/manifold-shm) and by tests.
//
// Segment layout (all offsets from the segment base; never pointers):
//
//   0      SegmentHeader (sizeof = 12416 bytes in layout version 1)
//            0   char     magic[8]        "MANIFOLD"
//            8   uint32   layoutVersion   kSegmentLayoutVersion
//           12   uint32   headerBytes     sizeof(SegmentHeader)
//           16   uint64   segmentBytes    total mapped size
//           24   int32    masterPid       pid of the master that created it
//           28   uint32   maxRegions      kMaxRegions
//             (bytes 0..31 keep this meaning in every layout version, so any version can
//              tell whether a segment belongs to a live master before replacing it)
//           32   uint64   generation      bumped by the master on each successful reload
//           40   uint64   reloads         successful reloads
//           48   uint64   failedReloads   reloads refused (bad config)
//           56   uint64   startedAtMs     wall clock (ms since epoch) at create()
//           64   uint64   dataOffset      first byte usable by regions (4096-aligned)
//           72   uint64   lastReloadMs    wall clock of the last reload attempt (0: none yet)
//           80   uint64   lastReloadOk    1 if that attempt succeeded, 0 if it was refused
//           88   uint64   reserved[5]
//          128   RegionEntry regions[kMaxRegions]   192 bytes each, see below
//   dataOffset   region extents, each 4096-aligned (2 MiB-aligned from kHugeRegionMin up when
//                a gap allows, so they can be huge pages), first-fit between the extents of live
//                and retired entries (free space is simply the gaps). create() maps the segment at
//                a 2 MiB-aligned address for the same reason.
//
// Only the master writes the header and the directory. Readers (workers, the tool) may
// read while it writes: each RegionEntry carries a seqlock counter (odd while being
// rewritten) and the mutable header counters are atomics, so nobody sees a torn entry.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "shm/huge_pages.hpp"

namespace manifold::shm {

inline constexpr char kSegmentMagic[8] = {'M', 'A', 'N', 'I', 'F', 'O', 'L', 'D'};
inline constexpr uint32_t kSegmentLayoutVersion = 1;
inline constexpr unsigned kMaxRegions = 64;
inline constexpr size_t kRegionAlign = 4096;
inline constexpr size_t kRegionNameMax = 63;    // + NUL in name[64]
inline constexpr size_t kRegionLayoutMax = 95;  // + NUL in layout[96]

enum class RegionState : uint32_t { Free = 0, Live = 1, Retired = 2 };
const char* regionStateName(RegionState state);

// One directory slot (192 bytes). Written only by the master under the seqlock `seq`.
struct RegionEntry {
  std::atomic<uint32_t> seq;  // even: stable; odd: the master is rewriting this entry
  uint32_t state;             // RegionState
  char name[64];              // NUL-terminated
  char layout[96];            // NUL-terminated layout key; a change means "do not adopt"
  uint64_t offset;            // extent start, from the segment base, kRegionAlign-aligned
  uint64_t bytes;             // bytes asked for; the extent is bytes rounded up to 4096
  uint64_t generation;        // header generation when the region was created
};
static_assert(sizeof(RegionEntry) == 192);

struct SegmentHeader {
  char magic[8];
  uint32_t layoutVersion;
  uint32_t headerBytes;
  uint64_t segmentBytes;
  std::atomic<int32_t> masterPid;
  uint32_t maxRegions;
  std::atomic<uint64_t> generation;
  std::atomic<uint64_t> reloads;
  std::atomic<uint64_t> failedReloads;
  uint64_t startedAtMs;
  uint64_t dataOffset;
  std::atomic<uint64_t> lastReloadMs;
  std::atomic<uint64_t> lastReloadOk;
  uint64_t reserved[5];
  RegionEntry regions[kMaxRegions];
};
static_assert(sizeof(SegmentHeader) == 128 + kMaxRegions * sizeof(RegionEntry));
static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<int32_t>::is_always_lock_free,
              "shared-memory atomics must be lock-free");

// A consistent copy of one directory entry.
struct RegionInfo {
  std::string name;
  std::string layout;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  RegionState state = RegionState::Free;
  uint64_t generation = 0;
};

// Thrown by attach() when /dev/shm/manifold.<name> does not exist.
class SegmentNotFound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Milliseconds since the epoch (CLOCK_REALTIME): comparable between processes.
uint64_t wallClockMs();

class Segment {
 public:
  struct RegionView {
    void* base;
    size_t bytes;
    bool adopted;
    size_t hugeAdvised = 0;  // bytes asked to be huge pages (huge_pages.hpp), 0 if none
  };

  // Master, before fork. Replaces a stale segment of the same name (its master is gone);
  // throws std::runtime_error if another live instance owns it or on any system error.
  static std::unique_ptr<Segment> create(const std::string& name, size_t bytes);
  // Maps an existing segment; throws SegmentNotFound if missing, std::runtime_error if it
  // is not a Manifold segment of this layout version.
  static std::unique_ptr<Segment> attach(const std::string& name, bool readOnly);

  ~Segment();  // unmaps; the name stays until unlink()
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Removes the name (clean shutdown). Existing mappings stay valid.
  void unlink();

  // Master only. Returns the live region (name, layout, bytes) with adopted=true, or a new
  // zero-filled extent (adopted=false); a region of kHugeRegionMin or more gets a 2 MiB-aligned
  // extent and asks for huge pages where the kernel grants them (logged); a live region of that
  // name with another layout or size becomes retired (kept mapped, untouched) until
  // releaseRetired(). Throws std::runtime_error("shm segment full: ...") when there is no room.
  RegionView ensureRegion(const std::string& name, const std::string& layout, size_t bytes);
  // Marks live regions whose name is not listed retired (a reload dropped them).
  void retireExcept(const std::vector<std::string>& liveNames);
  // Frees retired extents: call once the previous generation of workers has exited.
  void releaseRetired();

  // The live region of that name, or nullptr / 0.
  const void* findRegion(const std::string& name) const;
  void* findRegion(const std::string& name);
  size_t regionBytes(const std::string& name) const;
  // Every non-free directory entry, in directory order.
  std::vector<RegionInfo> regions() const;

  // Header fields; writable only through a create()d or read-write attach()ed segment.
  SegmentHeader& header() { return *header_; }
  const SegmentHeader& header() const { return *header_; }
  void* base() { return base_; }
  const void* base() const { return base_; }
  size_t size() const { return size_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/dev/shm/" + shmName(name_).substr(1); }
  bool readOnly() const { return readOnly_; }
  // True if create() found a stale segment of a dead master and replaced it.
  bool replacedStale() const { return replacedStale_; }
  // True if that segment was not trusted (another user's, or writable by others): it was
  // removed without honouring the master pid written in it.
  bool replacedForeign() const { return replacedForeign_; }
  // Sum of live and retired extents (bytes, 4096-rounded).
  size_t bytesAllocated() const;

  // "/manifold.<name>"; throws std::invalid_argument for an unusable name.
  static std::string shmName(const std::string& name);

 private:
  Segment(std::string name, void* base, size_t size, bool readOnly);
  bool readEntry(unsigned index, RegionInfo& out) const;
  void writeEntry(unsigned index, RegionState state, const std::string& name,
                  const std::string& layout, uint64_t offset, uint64_t bytes);
  void setState(unsigned index, RegionState state);
  uint64_t allocateExtent(uint64_t bytes) const;  // 0 if no gap is large enough
  int liveIndex(const std::string& name) const;
  size_t requestHugePages(const std::string& name, void* p, size_t bytes, bool log);

  std::string name_;
  void* base_ = nullptr;
  size_t size_ = 0;
  bool readOnly_ = false;
  bool replacedStale_ = false;
  bool replacedForeign_ = false;
  SegmentHeader* header_ = nullptr;
};

}  // namespace manifold::shm
