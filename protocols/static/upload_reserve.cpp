#include "protocols/static/upload_reserve.hpp"

#include <cstring>

#include "shm/region_header.hpp"

namespace manifold::http {

namespace {
constexpr shm::MagicText kMagic = "MFUPRES1";
static_assert(std::atomic<int64_t>::is_always_lock_free);
}  // namespace

void UploadReservations::format(void* base) {
  std::memset(base, 0, bytes());
  auto* p = static_cast<uint8_t*>(base);
  const uint32_t slots = kSlots;
  std::memcpy(p + 8, &slots, sizeof slots);
  reinterpret_cast<shm::RegionMagic*>(p)->stamp(kMagic);
}

UploadReservations::UploadReservations(void* base, unsigned slot, uint64_t cap) : cap_(cap) {
  if (!base || !shm::startsWithMagic(base, kMagic)) return;
  slots_ = reinterpret_cast<std::atomic<int64_t>*>(static_cast<uint8_t*>(base) + 16);
  mine_ = slots_ + slot % kSlots;
  mine_->store(0, std::memory_order_relaxed);
}

int64_t UploadReservations::total() const {
  if (!slots_) return 0;
  int64_t sum = 0;
  for (unsigned i = 0; i < kSlots; ++i) sum += slots_[i].load(std::memory_order_relaxed);
  return sum;
}

bool UploadReservations::take(uint64_t n) {
  if (!mine_) return true;
  // A racy sum can overshoot the cap by what other workers take at the same instant: one step
  // each at most, which is what a soft cap on disk reservations needs.
  if (static_cast<uint64_t>(total() < 0 ? 0 : total()) + n > cap_) return false;
  mine_->fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  return true;
}

void UploadReservations::give(uint64_t n) {
  if (mine_ && n) mine_->fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
}

}  // namespace manifold::http
