// Backend state shared by every worker of one [proxy:NAME] (region "proxy:NAME/backends"):
// passive health (max_fails within fail_timeout), the active health check's verdict, and the
// requests in flight per backend (leastconn counts them across workers).
//
// Layout (kept across a reload when the backend count is unchanged; then the state carries on):
//   +0   RegionHeader  magic "MFPROXY1", version kHealthVersion
//   +12  uint32        backend count
//   +64  BackendState[count]   one cache line each, in config order
// Every field is read and written with relaxed atomics; no locks. Races between workers only
// blur a count by one (two failures in the same instant may start two windows): harmless.
// Times are CLOCK_MONOTONIC milliseconds, the same clock in every process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "shm/region_header.hpp"

namespace manifold::proxy {

constexpr size_t kMaxBackends = 256;

struct alignas(64) BackendState {
  uint32_t fails;          // passive failures in the current window
  uint32_t active;         // requests in flight, all workers
  uint64_t windowStartMs;  // when the current failure window began
  uint64_t failedUntilMs;  // passive: not chosen before then
  uint32_t checkDown;      // active check: 1 while it says down
  uint32_t checkStreak;    // consecutive check results against the current verdict
  uint64_t checks;         // checks run (for inspection)
  uint64_t lastCheckMs;    // wall clock of the last finished check (the dashboard)
  uint64_t lastChangeMs;   // wall clock of the active verdict's last change
  uint32_t latencyUs;      // round trip of the last good check
};
static_assert(sizeof(BackendState) == 64);

class HealthRegion {
 public:
  static constexpr uint32_t kHealthVersion = 1;
  static std::string layout();
  static size_t bytes(size_t backends);
  static void format(void* base, size_t backends);
  // The region at `base`, or nullptr when it is not one (never after a good format).
  static HealthRegion* attach(void* base);

  size_t count() const { return count_; }
  BackendState& at(size_t i) { return states()[i]; }

  // Whether passive and active health allow choosing backend i now.
  bool available(size_t i, uint64_t nowMs);
  // A failed try (connect refused or timed out, bad or missing response). Returns true when
  // this failure marked the backend failed for failTimeoutMs.
  bool recordFailure(size_t i, unsigned maxFails, uint64_t failTimeoutMs, uint64_t nowMs);
  void begin(size_t i) { __atomic_add_fetch(&at(i).active, 1, __ATOMIC_RELAXED); }
  void end(size_t i) { __atomic_sub_fetch(&at(i).active, 1, __ATOMIC_RELAXED); }
  uint32_t active(size_t i) { return __atomic_load_n(&at(i).active, __ATOMIC_RELAXED); }
  // The active check's result for backend i: down after `fall` failures in a row, up after
  // `rise` successes in a row. Returns true when the verdict changed. Times are wall clock (ms)
  // for readers; latencyUs is kept for a good check.
  bool recordCheck(size_t i, bool ok, unsigned rise, unsigned fall, uint64_t nowWallMs = 0,
                   uint32_t latencyUs = 0);
  bool checkDown(size_t i) { return __atomic_load_n(&at(i).checkDown, __ATOMIC_RELAXED) != 0; }

 private:
  BackendState* states() {
    return reinterpret_cast<BackendState*>(reinterpret_cast<char*>(this) + 64);
  }
  shm::RegionHeader header_;
  uint32_t count_;
};

}  // namespace manifold::proxy
