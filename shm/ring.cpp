#include "shm/ring.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace manifold::shm {

Ring* Ring::format(void* mem, uint32_t capacity) {
  if (capacity < 64 || (capacity & (capacity - 1)))
    throw std::invalid_argument("ring capacity must be a power of two >= 64");
  auto* r = new (mem) Ring();
  r->capacity_ = capacity;
  r->drops_ = 0;
  r->pushed_ = 0;
  r->highWater_ = 0;
  r->lock_.init();
  r->tail_ = 0;
  r->head_ = 0;
  r->header_.stamp(kMagic, kVersion);
  return r;
}

Ring* Ring::at(void* mem) {
  auto* r = static_cast<Ring*>(mem);
  return r->header_.matches(kMagic, kVersion) ? r : nullptr;
}

bool Ring::push(std::initializer_list<std::string_view> parts, bool& wake) {
  wake = false;
  size_t len = 0;
  for (std::string_view p : parts) len += p.size();
  if (len > maxRecord()) {
    drops_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const uint64_t need = (4 + len + 7) & ~uint64_t{7};
  RobustLockGuard guard(lock_);  // a dead producer published nothing: no repair needed
  const uint64_t t = tail_.load(std::memory_order_relaxed);
  const uint64_t h = head_.load(std::memory_order_acquire);
  const uint32_t off = static_cast<uint32_t>(t & (capacity_ - 1));
  const uint64_t pad = off + need > capacity_ ? capacity_ - off : 0;
  const uint64_t used = t - h;
  if (used + pad + need > capacity_) {
    drops_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (pad) std::memcpy(data() + off, &kSkip, 4);
  char* at = data() + ((t + pad) & (capacity_ - 1));
  const uint32_t len32 = static_cast<uint32_t>(len);
  std::memcpy(at, &len32, 4);
  at += 4;
  for (std::string_view p : parts) {
    if (!p.empty()) std::memcpy(at, p.data(), p.size());
    at += p.size();
  }
  const uint64_t end = t + pad + need;
  tail_.store(end, std::memory_order_seq_cst);
  // Read after publishing (see the header): head at our start means the consumer may sleep.
  const uint64_t hAfter = head_.load(std::memory_order_seq_cst);
  wake = hAfter == t;
  pushed_.fetch_add(1, std::memory_order_relaxed);
  if (end - h > highWater_.load(std::memory_order_relaxed))
    highWater_.store(end - h, std::memory_order_relaxed);
  return true;
}

void Ring::discard() {
  head_.store(tail_.load(std::memory_order_acquire), std::memory_order_seq_cst);
}

RingArray* RingArray::format(void* mem, uint32_t count, uint32_t capacity) {
  auto* a = new (mem) RingArray();
  a->count_ = count;
  a->capacity_ = capacity;
  for (uint32_t i = 0; i < count; ++i)
    Ring::format(static_cast<char*>(mem) + 64 + size_t{i} * Ring::bytesFor(capacity), capacity);
  a->header_.stamp(kMagic, kVersion);
  return a;
}

RingArray* RingArray::at(void* mem) {
  auto* a = static_cast<RingArray*>(mem);
  return a->header_.matches(kMagic, kVersion) ? a : nullptr;
}

Ring* RingArray::ring(uint32_t i) {
  if (i >= count_) return nullptr;
  return Ring::at(reinterpret_cast<char*>(this) + 64 + size_t{i} * Ring::bytesFor(capacity_));
}

int makeWakeFd() { return ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void wake(int fd) {
  const uint64_t one = 1;
  if (fd >= 0) (void)!::write(fd, &one, sizeof one);
}

void clearWake(int fd) {
  uint64_t v;
  if (fd >= 0) (void)!::read(fd, &v, sizeof v);
}

}  // namespace manifold::shm
