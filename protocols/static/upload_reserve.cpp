#include "protocols/static/upload_reserve.hpp"

#include "shm/region_header.hpp"

namespace manifold::http {

namespace {
constexpr shm::MagicText kMagic = "MFUPRES1";
}  // namespace

void UploadReservations::format(void* base) {
  shm::formatWordRegion(base, bytes(), false, kMagic, kSlots);
}

UploadReservations::UploadReservations(void* base, unsigned slot, uint64_t cap) : cap_(cap) {
  if (!base || !shm::startsWithMagic(base, kMagic)) return;
  slots_ = shm::regionWords(base);
  mine_ = slots_ + slot % kSlots;
  mine_->store(0, std::memory_order_relaxed);
}

uint64_t UploadReservations::total() const {
  uint64_t sum = 0;
  for (unsigned i = 0; slots_ && i < kSlots; ++i) sum += slots_[i].load(std::memory_order_relaxed);
  return sum;
}

bool UploadReservations::take(uint64_t n) {
  if (!mine_) return true;
  // A racy sum can overshoot the cap by what other workers take at the same instant: one step
  // each at most, which is what a soft cap on disk reservations needs.
  if (total() + n > cap_) return false;
  mine_->fetch_add(n, std::memory_order_relaxed);
  return true;
}

void UploadReservations::give(uint64_t n) {
  if (mine_ && n) mine_->fetch_sub(n, std::memory_order_relaxed);
}

}  // namespace manifold::http
