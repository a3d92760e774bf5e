#include "shm/arena.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace manifold::shm {

namespace {

constexpr uint32_t kVersion = 1;
constexpr uint64_t kTag = 0xA7E1ull << 48;  // marks a real block header
constexpr uint64_t kTagMask = 0xFFFFull << 48;
constexpr uint64_t kUsed = 1;
constexpr uint64_t kSizeMask = ((1ull << 48) - 1) & ~uint64_t{15};
constexpr unsigned kFitScan = 16;  // blocks examined in the exact-class bin before going up

size_t alignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }
uint64_t sizeOf(uint64_t flags) { return flags & kSizeMask; }
bool isUsed(uint64_t flags) { return flags & kUsed; }

}  // namespace

struct Arena::LockGuard {
  explicit LockGuard(Arena& a) : arena(a) { a.lockAndRecover(); }
  ~LockGuard() { arena.mutex_.unlock(); }
  Arena& arena;
};

size_t Arena::headerBytes() { return alignUp(sizeof(Arena), 64); }

size_t Arena::bytesFor(size_t heapBytes) { return headerBytes() + alignUp(heapBytes, kAlign); }

Arena* Arena::format(void* mem, size_t bytes) {
  const size_t header = headerBytes();
  if (bytes < header + 2 * kMinBlock)
    throw std::invalid_argument("arena: " + std::to_string(bytes) + " bytes is too small");
  const uint64_t heap = (bytes - header) & ~uint64_t{kAlign - 1};
  if (heap > kSizeMask) throw std::invalid_argument("arena: larger than 256 TiB");
  std::memset(mem, 0, header);
  auto* a = new (mem) Arena();
  a->bytes_ = bytes;
  a->heapBegin_ = header;
  a->heapEnd_ = header + heap;
  a->mutex_.init();
  a->setSizeFlags(header, kTag | heap);
  a->prevSizeOf(header) = 0;
  a->pushFree(header, heap);
  a->header_.stamp(kMagic, kVersion);
  return a;
}

const Arena* Arena::at(const void* mem) {
  if (!mem) return nullptr;
  const auto* a = std::launder(static_cast<const Arena*>(mem));
  if (!a->header_.matches(kMagic, kVersion)) return nullptr;
  if (a->heapBegin_ != headerBytes() || a->heapEnd_ <= a->heapBegin_ || a->heapEnd_ > a->bytes_)
    return nullptr;
  return a;
}

Arena* Arena::at(void* mem) { return const_cast<Arena*>(at(static_cast<const void*>(mem))); }

// Four classes per power of two: 32,40,48,56, 64,80,96,112, 128,... (factor 1.14-1.25).
unsigned Arena::binOf(uint64_t size) {
  const unsigned k = 63 - static_cast<unsigned>(__builtin_clzll(size));
  return (k - 5) * 4 + static_cast<unsigned>((size >> (k - 2)) & 3);
}

uint64_t Arena::sizeFlags(uint64_t block) const {
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(ptr(block)), __ATOMIC_RELAXED);
}

// Release: the bytes a block header publishes (a split tail, links) are written first.
void Arena::setSizeFlags(uint64_t block, uint64_t v) {
  __atomic_store_n(reinterpret_cast<uint64_t*>(ptr(block)), v, __ATOMIC_RELEASE);
}

uint64_t& Arena::prevSizeOf(uint64_t block) { return static_cast<uint64_t*>(ptr(block))[1]; }
uint64_t& Arena::nextFreeOf(uint64_t block) { return static_cast<uint64_t*>(ptr(block))[2]; }
uint64_t& Arena::prevFreeOf(uint64_t block) { return static_cast<uint64_t*>(ptr(block))[3]; }

void Arena::pushFree(uint64_t block, uint64_t size) {
  const unsigned b = binOf(size);
  const uint64_t head = bins_[b];
  nextFreeOf(block) = head;
  prevFreeOf(block) = 0;
  if (head) prevFreeOf(head) = block;
  bins_[b] = block;
  bitmap_[b / 64] |= uint64_t{1} << (b % 64);
}

void Arena::unlinkFree(uint64_t block, uint64_t size) {
  const unsigned b = binOf(size);
  const uint64_t next = nextFreeOf(block), prev = prevFreeOf(block);
  if (prev)
    nextFreeOf(prev) = next;
  else
    bins_[b] = next;
  if (next) prevFreeOf(next) = prev;
  if (!bins_[b]) bitmap_[b / 64] &= ~(uint64_t{1} << (b % 64));
}

void Arena::lockAndRecover() {
  if (mutex_.lock()) {
    rebuild();
    recoveries_.fetch_add(1, std::memory_order_relaxed);
  }
}

uint64_t Arena::allocate(size_t bytes) {
  if (bytes > maxAllocation()) return 0;
  const uint64_t need = std::max<uint64_t>(kMinBlock, alignUp(bytes + kBlockHeader, kAlign));
  LockGuard lock(*this);
  unsigned b = binOf(need);
  uint64_t block = 0;
  for (uint64_t cur = bins_[b], n = 0; cur && n < kFitScan; cur = nextFreeOf(cur), ++n)
    if (sizeOf(sizeFlags(cur)) >= need) {
      block = cur;
      break;
    }
  if (!block) {
    // Any block of a higher class is at least that class's lower bound, which exceeds need.
    for (unsigned w = (b + 1) / 64; w < kBins / 64 && !block; ++w) {
      uint64_t bits = bitmap_[w];
      if (w == (b + 1) / 64) bits &= ~uint64_t{0} << ((b + 1) % 64);
      if (bits) block = bins_[w * 64 + static_cast<unsigned>(__builtin_ctzll(bits))];
    }
    if (!block) return 0;
  }
  uint64_t size = sizeOf(sizeFlags(block));
  unlinkFree(block, size);
  if (size - need >= kMinBlock) {
    // The tail becomes a valid free block before the head shrinks to uncover it.
    const uint64_t tail = block + need, tailSize = size - need;
    prevSizeOf(tail) = need;
    setSizeFlags(tail, kTag | tailSize);
    pushFree(tail, tailSize);
    if (block + size < heapEnd_) prevSizeOf(block + size) = tailSize;
    size = need;
  }
  setSizeFlags(block, kTag | size | kUsed);
  used_.fetch_add(size, std::memory_order_relaxed);
  allocations_.fetch_add(1, std::memory_order_relaxed);
  return block + kBlockHeader;
}

size_t Arena::usableBytes(uint64_t offset) const {
  if (offset < heapBegin_ + kBlockHeader || offset >= heapEnd_ || offset % kAlign) return 0;
  const uint64_t block = offset - kBlockHeader;
  const uint64_t f = sizeFlags(block), size = sizeOf(f);
  if ((f & kTagMask) != kTag || !isUsed(f) || size < kMinBlock || size > heapEnd_ - block) return 0;
  // The next block records our size: rules out a stale header left inside a merged block.
  // Stable without the lock: only a change of this (used) block rewrites it.
  if (block + size < heapEnd_ &&
      __atomic_load_n(static_cast<const uint64_t*>(ptr(block + size)) + 1, __ATOMIC_RELAXED) !=
          size)
    return 0;
  return size - kBlockHeader;
}

void Arena::release(uint64_t offset) {
  LockGuard lock(*this);
  if (usableBytes(offset) == 0) {
    badReleases_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  uint64_t block = offset - kBlockHeader;
  uint64_t size = sizeOf(sizeFlags(block));
  used_.fetch_sub(size, std::memory_order_relaxed);
  allocations_.fetch_sub(1, std::memory_order_relaxed);
  const uint64_t next = block + size;
  if (next < heapEnd_) {
    const uint64_t nf = sizeFlags(next);
    if (!isUsed(nf)) {
      unlinkFree(next, sizeOf(nf));
      size += sizeOf(nf);
    }
  }
  if (block > heapBegin_) {
    const uint64_t prev = block - prevSizeOf(block);
    const uint64_t pf = sizeFlags(prev);
    if (!isUsed(pf)) {
      unlinkFree(prev, sizeOf(pf));
      size += sizeOf(pf);
      block = prev;
    }
  }
  setSizeFlags(block, kTag | size);  // one store frees and merges
  if (block + size < heapEnd_) prevSizeOf(block + size) = size;
  pushFree(block, size);
}

// Walks the tiling (always consistent, see the header) and derives everything else.
void Arena::rebuild() {
  std::memset(bins_, 0, sizeof bins_);
  std::memset(bitmap_, 0, sizeof bitmap_);
  uint64_t used = 0, allocations = 0, prevSize = 0, run = 0;  // run: open free block
  for (uint64_t block = heapBegin_; block < heapEnd_;) {
    uint64_t f = sizeFlags(block), size = sizeOf(f);
    if ((f & kTagMask) != kTag || size < kMinBlock || size > heapEnd_ - block) {
      // Cannot happen with single-store updates. Quarantine the rest as used: handing
      // out memory that live entries might still occupy would be worse than losing it.
      size = heapEnd_ - block;
      f = kTag | size | kUsed;
      setSizeFlags(block, f);
    }
    prevSizeOf(block) = prevSize;
    if (isUsed(f)) {
      if (run) pushFree(run, sizeOf(sizeFlags(run)));
      run = 0;
      used += size;
      ++allocations;
      prevSize = size;
    } else if (run) {
      prevSize = sizeOf(sizeFlags(run)) + size;
      setSizeFlags(run, kTag | prevSize);
    } else {
      run = block;
      prevSize = size;
    }
    block += size;
  }
  if (run) pushFree(run, sizeOf(sizeFlags(run)));
  used_.store(used, std::memory_order_relaxed);
  allocations_.store(allocations, std::memory_order_relaxed);
}

bool Arena::check(std::string* why) {
  auto fail = [why](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  LockGuard lock(*this);
  uint64_t used = 0, allocations = 0, freeBlocks = 0, prevSize = 0;
  bool prevFree = false;
  for (uint64_t block = heapBegin_; block < heapEnd_;) {
    const uint64_t f = sizeFlags(block), size = sizeOf(f);
    auto at = [block] { return "block " + std::to_string(block); };
    if ((f & kTagMask) != kTag) return fail(at() + ": bad tag");
    if (size < kMinBlock || size > heapEnd_ - block) return fail(at() + ": bad size");
    if (prevSizeOf(block) != prevSize) return fail(at() + ": prevSize mismatch");
    if (isUsed(f)) {
      used += size;
      ++allocations;
      prevFree = false;
    } else {
      if (prevFree) return fail(at() + ": two adjacent free blocks");
      ++freeBlocks;
      prevFree = true;
    }
    prevSize = size;
    block += size;
  }
  if (used != used_.load())
    return fail("used counter " + std::to_string(used_.load()) + " != walked " +
                std::to_string(used));
  if (allocations != allocations_.load()) return fail("allocation counter mismatch");
  uint64_t listed = 0;
  for (unsigned b = 0; b < kBins; ++b) {
    const bool bit = bitmap_[b / 64] & (uint64_t{1} << (b % 64));
    if (bit != (bins_[b] != 0)) return fail("bitmap mismatch at bin " + std::to_string(b));
    uint64_t prev = 0;
    for (uint64_t cur = bins_[b]; cur; prev = cur, cur = nextFreeOf(cur)) {
      const uint64_t f = sizeFlags(cur);
      if (cur < heapBegin_ || cur >= heapEnd_ || (f & kTagMask) != kTag || isUsed(f))
        return fail("bin " + std::to_string(b) + " lists a non-free block");
      if (binOf(sizeOf(f)) != b) return fail("block in the wrong bin");
      if (prevFreeOf(cur) != prev) return fail("broken free-list back link");
      if (++listed > freeBlocks) return fail("free lists longer than the free blocks");
    }
  }
  if (listed != freeBlocks) return fail("free block missing from the bins");
  return true;
}

}  // namespace manifold::shm
