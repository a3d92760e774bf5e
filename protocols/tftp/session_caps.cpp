#include "protocols/tftp/session_caps.hpp"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "shm/region_header.hpp"

namespace manifold::tftp {

namespace {

struct Header {
  shm::RegionMagic magic;
  uint32_t slots;
  uint32_t buckets;
  std::atomic<uint32_t> highWater;
};
static_assert(sizeof(Header) <= SessionCaps::kHeaderBytes);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<int32_t>::is_always_lock_free);

Header* header(uint8_t* region) { return reinterpret_cast<Header*>(region); }

}  // namespace

struct SessionCaps::Slot {
  std::atomic<int32_t> owner;
  std::atomic<uint32_t> total;
  uint8_t pad[56];
  std::atomic<uint32_t> perSource[kBuckets];

  void zero() {
    total.store(0, std::memory_order_relaxed);
    for (auto& count : perSource) count.store(0, std::memory_order_relaxed);
  }
};

void SessionCaps::formatRegion(void* base, size_t bytes, bool adopted) {
  static_assert(sizeof(Slot) == kSlotBytes);
  auto* h = static_cast<Header*>(base);
  if (adopted && h->magic.is("MFTFTSC1") && h->slots == kSlots && h->buckets == kBuckets) return;
  std::memset(base, 0, bytes);
  new (&h->highWater) std::atomic<uint32_t>(0);
  auto* slots = static_cast<uint8_t*>(base) + kHeaderBytes;
  for (uint32_t i = 0; i < kSlots; ++i) {
    auto* s = reinterpret_cast<Slot*>(slots + i * kSlotBytes);
    new (&s->owner) std::atomic<int32_t>(0);
    new (&s->total) std::atomic<uint32_t>(0);
    for (auto& count : s->perSource) new (&count) std::atomic<uint32_t>(0);
  }
  h->slots = kSlots;
  h->buckets = kBuckets;
  h->magic.stamp("MFTFTSC1");
}

SessionCaps::SessionCaps(void* region, unsigned slot, unsigned maxSessions, unsigned maxPerSource)
    : region_(static_cast<uint8_t*>(region)),
      maxSessions_(maxSessions),
      maxPerSource_(maxPerSource) {
  if (region_ && slot < kSlots) claim(slot);
  if (!mine_) {
    region_ = nullptr;
    private_ = std::make_unique<uint8_t[]>(kSlotBytes);
    mine_ = new (private_.get()) Slot{};
  }
}

SessionCaps::~SessionCaps() {
  if (!region_) return;
  mine_->zero();
  int32_t pid = static_cast<int32_t>(getpid());
  mine_->owner.compare_exchange_strong(pid, 0, std::memory_order_acq_rel);
}

SessionCaps::Slot* SessionCaps::slot(uint32_t i) const {
  return reinterpret_cast<Slot*>(region_ + kHeaderBytes + i * kSlotBytes);
}

uint32_t SessionCaps::bucketOf(uint64_t source) const {
  return static_cast<uint32_t>((source * 0x9e3779b97f4a7c15ull) >> 32) & (kBuckets - 1);
}

// The slot is ours (no live worker shares a stats slot) once the sweep is not zeroing it; its
// counts are a dead predecessor's, if anything: forgotten.
void SessionCaps::claim(uint32_t i) {
  const int32_t pid = static_cast<int32_t>(getpid());
  Slot* s = slot(i);
  int32_t owner = s->owner.load(std::memory_order_acquire);
  for (;;) {
    if (owner == -1) {
      sched_yield();
      owner = s->owner.load(std::memory_order_acquire);
    } else if (s->owner.compare_exchange_weak(owner, pid, std::memory_order_acq_rel)) {
      break;
    }
  }
  mine_ = s;
  mine_->zero();
  Header* h = header(region_);
  uint32_t high = h->highWater.load(std::memory_order_relaxed);
  while (high < i + 1 && !h->highWater.compare_exchange_weak(high, i + 1)) {
  }
}

// Only the sweep whose CAS moves the owner to -1 zeroes the slot, and a starting worker waits
// for -1 to clear before it takes the slot, so a slot in use is never wiped.
bool SessionCaps::reclaim(uint32_t i, pid_t owner) {
  int32_t expected = static_cast<int32_t>(owner);
  if (!slot(i)->owner.compare_exchange_strong(expected, -1, std::memory_order_acq_rel))
    return false;
  slot(i)->zero();
  slot(i)->owner.store(0, std::memory_order_release);
  return true;
}

void SessionCaps::reclaimDead() {
  if (!region_) return;
  uint32_t high = header(region_)->highWater.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < high && i < kSlots; ++i) {
    int32_t owner = slot(i)->owner.load(std::memory_order_acquire);
    if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) reclaim(i, owner);
  }
}

SessionCaps::Verdict SessionCaps::acquire(uint64_t source) {
  const uint32_t bucket = bucketOf(source);
  mine_->total.fetch_add(1, std::memory_order_relaxed);
  mine_->perSource[bucket].fetch_add(1, std::memory_order_relaxed);
  uint64_t total = 0, perSource = 0;
  if (!region_) {
    total = mine_->total.load(std::memory_order_relaxed);
    perSource = mine_->perSource[bucket].load(std::memory_order_relaxed);
  } else {
    uint32_t high = header(region_)->highWater.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < high && i < kSlots; ++i) {
      const Slot* s = slot(i);
      total += s->total.load(std::memory_order_relaxed);
      perSource += s->perSource[bucket].load(std::memory_order_relaxed);
    }
  }
  Verdict verdict = total > maxSessions_        ? Verdict::Busy
                    : perSource > maxPerSource_ ? Verdict::SourceBusy
                                                : Verdict::Ok;
  if (verdict != Verdict::Ok) release(source);
  return verdict;
}

void SessionCaps::release(uint64_t source) {
  mine_->total.fetch_sub(1, std::memory_order_relaxed);
  mine_->perSource[bucketOf(source)].fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace manifold::tftp
