// A variable-size allocator inside a shared-memory region, used by several processes.
//
// Segregated fit with boundary tags: free blocks sit in size-class bins spaced by a
// factor of about 1.25 (four classes per power of two, memcached's factor), each bin a
// doubly-linked list; a bitmap finds the smallest non-empty bin that surely fits.
// Freed blocks merge with free neighbours, so space freed by eviction becomes usable by
// any size (no slab calcification). One RobustMutex guards the whole arena.
//
// Layout (offsets from the arena base):
//
//   0           Arena header (this object): magic "MFARENA1", version, bytes,
//               heapBegin/heapEnd, counters, the RobustMutex, bin bitmap, bin heads
//   heapBegin   blocks, tiling [heapBegin, heapEnd) exactly, each 16-byte aligned:
//                 +0  uint64 sizeFlags   kBlockTag << 48 | size | used bit (bit 0)
//                 +8  uint64 prevSize    size of the block just before (0 for the first)
//                 +16 payload            (free blocks: uint64 nextFree, prevFree offsets)
//
// allocate() returns the payload's offset from the arena base (never 0).
//
// Crash safety: every change of the tiling is a single 8-byte store of one sizeFlags word
// (a split writes the tail block's header before shrinking the head), so walking the
// blocks from heapBegin by size always yields a consistent tiling. When lock() reports
// that the previous owner died, the arena rebuilds bins, prevSize fields and counters
// from that walk, merging adjacent free blocks. What a crash can cost: the one block
// being allocated or released at the moment of death may stay "used" (leaked).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "shm/region_header.hpp"
#include "shm/robust_mutex.hpp"

namespace manifold::shm {

class Arena {
 public:
  static constexpr MagicText kMagic = "MFARENA1";

  static constexpr size_t kAlign = 16;  // payload alignment and size granule
  static constexpr size_t kBlockHeader = 16;
  static constexpr size_t kMinBlock = 32;
  static constexpr unsigned kBins = 192;

  // Bytes before the heap; bytesFor(n) is the region size that gives n bytes of heap.
  static size_t headerBytes();
  static size_t bytesFor(size_t heapBytes);
  // Initialises an arena over [mem, mem+bytes); throws std::invalid_argument if too small.
  static Arena* format(void* mem, size_t bytes);
  // The arena at mem if its header is valid, else nullptr.
  static Arena* at(void* mem);
  static const Arena* at(const void* mem);

  // Offset of at least `bytes` usable bytes (16-aligned), or 0 if no free block fits.
  uint64_t allocate(size_t bytes);
  // Frees an offset returned by allocate(). An offset that is not a live allocation is
  // ignored and counted in badReleases() (a double free must not corrupt other processes).
  void release(uint64_t offset);

  void* ptr(uint64_t offset) { return reinterpret_cast<char*>(this) + offset; }
  const void* ptr(uint64_t offset) const { return reinterpret_cast<const char*>(this) + offset; }

  size_t capacity() const { return heapEnd_ - heapBegin_; }              // the byte budget
  size_t used() const { return used_.load(std::memory_order_relaxed); }  // incl. block headers
  size_t allocations() const { return allocations_.load(std::memory_order_relaxed); }
  size_t maxAllocation() const { return capacity() - kBlockHeader; }
  // Usable bytes of a live allocation (>= what was asked), 0 if offset is not one.
  size_t usableBytes(uint64_t offset) const;
  // Cheap plausibility test (header tag, used bit, bounds): for chain validation. Lock-free.
  bool owns(uint64_t offset) const { return usableBytes(offset) != 0; }

  uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }
  uint64_t badReleases() const { return badReleases_.load(std::memory_order_relaxed); }
  // Full consistency walk under the lock (tests, debugging). False + reason on damage.
  bool check(std::string* why = nullptr);
  // The arena's lock, for tests that kill its holder. Lock it through allocate/release.
  RobustMutex& mutex() { return mutex_; }

 private:
  Arena() = default;
  struct LockGuard;
  void lockAndRecover();
  void rebuild();  // caller holds the lock
  uint64_t sizeFlags(uint64_t block) const;
  void setSizeFlags(uint64_t block, uint64_t v);
  uint64_t& prevSizeOf(uint64_t block);
  uint64_t& nextFreeOf(uint64_t block);
  uint64_t& prevFreeOf(uint64_t block);
  void pushFree(uint64_t block, uint64_t size);
  void unlinkFree(uint64_t block, uint64_t size);
  static unsigned binOf(uint64_t size);

  RegionHeader header_;
  uint32_t reserved0_;
  uint64_t bytes_;
  uint64_t heapBegin_;
  uint64_t heapEnd_;
  std::atomic<uint64_t> used_;
  std::atomic<uint64_t> allocations_;
  std::atomic<uint64_t> recoveries_;
  std::atomic<uint64_t> badReleases_;
  alignas(64) RobustMutex mutex_;
  uint64_t bitmap_[kBins / 64];
  uint64_t bins_[kBins];  // block offset of the first free block in each class, 0 = empty
};

}  // namespace manifold::shm
