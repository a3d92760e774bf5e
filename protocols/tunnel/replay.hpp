// The receive side's replay window (RFC 6479 style, as WireGuard): a ring of 2048 bits behind
// the highest counter seen. accept() is called only after a packet authenticated, so forged
// counters cannot move the window.
#pragma once

#include <cstdint>

namespace manifold::tunnel {

// Counters at or past this are refused (WireGuard's REJECT_AFTER_MESSAGES).
inline constexpr uint64_t kRejectAfterMessages = ~uint64_t{0} - (1ull << 13);

class ReplayWindow {
 public:
  static constexpr unsigned kWords = 32;                  // 2048 bits
  static constexpr uint64_t kWindow = (kWords - 1) * 64;  // counters this far back are accepted
  // True (and marks it) for a counter not seen before and not too old.
  bool accept(uint64_t counter);

 private:
  uint64_t bits_[kWords] = {};
  uint64_t last_ = 0;
  bool seen_ = false;
};

}  // namespace manifold::tunnel
