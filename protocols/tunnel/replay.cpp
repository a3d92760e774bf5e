#include "protocols/tunnel/replay.hpp"

#include <algorithm>

namespace manifold::tunnel {

bool ReplayWindow::accept(uint64_t counter) {
  if (counter >= kRejectAfterMessages) return false;
  uint64_t index = counter >> 6;
  if (!seen_ || counter > last_) {
    uint64_t current = last_ >> 6;
    uint64_t clear = seen_ ? std::min<uint64_t>(index - current, kWords) : 0;
    for (uint64_t i = 1; i <= clear; ++i) bits_[(current + i) % kWords] = 0;
    last_ = counter;
    seen_ = true;
  } else if (last_ - counter > kWindow) {
    return false;
  }
  uint64_t& word = bits_[index % kWords];
  uint64_t bit = 1ull << (counter & 63);
  if (word & bit) return false;
  word |= bit;
  return true;
}

}  // namespace manifold::tunnel
