// A bounded byte ring in shared memory carrying variable-length records from any process to one
// consumer process, plus the eventfd that wakes the consumer: the cross-worker relay of services
// whose clients on different workers talk to each other (the WebTorrent tracker's offers and
// answers). Producers never block on a slow consumer: a record that does not fit is dropped and
// counted. Nothing in a ring points outside it.
//
// Ring layout (offsets from the ring base; bytesFor(capacity) bytes in all):
//   0    RegionHeader (magic "MFRING01", version), u32 capacity (data bytes, a power of two),
//        u64 drops (records refused: full), u64 pushed, u64 highWater (most bytes ever queued)
//   64   RobustMutex producers take (one producer writes at a time), u64 tail (bytes ever
//        written; the consumer may read up to it)
//   128  u64 head (bytes ever consumed; written by the consumer only)
//   192  data[capacity]
// Record at position p (offset p % capacity): u32 length, then the bytes, the whole padded to a
// multiple of 8. A length of 0xFFFFFFFF means "the rest of the ring is padding: continue at
// offset 0" (a record is never split across the end).
//
// Wake-up: a producer publishes its record (tail, sequentially consistent), then reads head; if
// head had reached the record's start the consumer may be asleep, and push() says so (the
// producer then writes the consumer's eventfd). The consumer stores head after each batch and
// reads tail again before it sleeps. One of the two sees the other, so a record is never left
// behind without a wake-up, and a busy consumer costs producers no syscall.
//
// Crash safety: a record becomes visible only when tail moves past it, so a producer killed
// while writing leaves nothing half-written behind (the next producer's lock() returns
// EOWNERDEAD and goes on). A consumer that restarts (a respawned worker) discards what was
// queued for its predecessor.
//
// RingArray: `count` rings of one capacity, back to back after a 64-byte header (magic
// "MFRINGS1", count, capacity), one per consumer (a worker's stats slot).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "shm/region_header.hpp"
#include "shm/robust_mutex.hpp"

namespace manifold::shm {

class Ring {
 public:
  static constexpr MagicText kMagic = "MFRING01";
  static constexpr uint32_t kVersion = 1;
  static constexpr size_t kHeaderBytes = 192;

  static size_t bytesFor(uint32_t capacity) { return kHeaderBytes + capacity; }
  // capacity: a power of two, at least 64. Throws std::invalid_argument otherwise.
  static Ring* format(void* mem, uint32_t capacity);
  static Ring* at(void* mem);  // nullptr if not a formatted ring

  // Largest record push() accepts.
  uint32_t maxRecord() const { return capacity_ / 4; }

  // Producer (any process): the parts, concatenated, as one record. False when the ring has no
  // room (counted in drops()) or the record is larger than maxRecord(). `wake` is set when the
  // consumer must be woken (see above).
  bool push(std::initializer_list<std::string_view> parts, bool& wake);

  // Consumer: calls fn(std::string_view record) for every record queued, in order, until the
  // ring is empty. Records are valid only during the call. Returns how many it handed over.
  template <class Fn>
  size_t drain(Fn&& fn);
  // Consumer: drops everything queued (a new owner starting).
  void discard();

  uint64_t drops() const { return drops_.load(std::memory_order_relaxed); }
  uint64_t pushed() const { return pushed_.load(std::memory_order_relaxed); }
  uint64_t highWater() const { return highWater_.load(std::memory_order_relaxed); }
  uint64_t queuedBytes() const {
    return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_relaxed);
  }
  uint32_t capacity() const { return capacity_; }

 private:
  static constexpr uint32_t kSkip = 0xFFFFFFFF;
  char* data() { return reinterpret_cast<char*>(this) + kHeaderBytes; }

  RegionHeader header_;
  uint32_t capacity_;
  std::atomic<uint64_t> drops_;
  std::atomic<uint64_t> pushed_;
  std::atomic<uint64_t> highWater_;
  alignas(64) RobustMutex lock_;
  std::atomic<uint64_t> tail_;
  alignas(64) std::atomic<uint64_t> head_;
};
static_assert(sizeof(Ring) <= Ring::kHeaderBytes);

class RingArray {
 public:
  static constexpr MagicText kMagic = "MFRINGS1";
  static constexpr uint32_t kVersion = 1;
  static size_t bytesFor(uint32_t count, uint32_t capacity) {
    return 64 + size_t{count} * Ring::bytesFor(capacity);
  }
  static RingArray* format(void* mem, uint32_t count, uint32_t capacity);
  static RingArray* at(void* mem);
  uint32_t count() const { return count_; }
  Ring* ring(uint32_t i);  // nullptr when i >= count()

 private:
  RegionHeader header_;
  uint32_t count_;
  uint32_t capacity_;
};

// The consumer's wake-up: an eventfd (non-blocking, close-on-exec) created before the processes
// fork so all of them hold it. -1 when the kernel refuses one.
int makeWakeFd();
void wake(int fd);       // producer: one write (the count saturates harmlessly)
void clearWake(int fd);  // consumer: reset before draining

template <class Fn>
size_t Ring::drain(Fn&& fn) {
  size_t n = 0;
  uint64_t h = head_.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t t = tail_.load(std::memory_order_seq_cst);
    if (h == t) return n;
    while (h != t) {
      const uint32_t off = static_cast<uint32_t>(h & (capacity_ - 1));
      uint32_t len;
      __builtin_memcpy(&len, data() + off, 4);
      if (len == kSkip) {
        h += capacity_ - off;
        continue;
      }
      fn(std::string_view(data() + off + 4, len));
      ++n;
      h += (4 + uint64_t{len} + 7) & ~uint64_t{7};
    }
    head_.store(h, std::memory_order_seq_cst);
  }
}

}  // namespace manifold::shm
