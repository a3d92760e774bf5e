// Clocks, in one place. Monotonic time for intervals and deadlines (never jumps with the wall
// clock); wall time (ms since the epoch) for what is shown to people or compared between
// processes (shm timestamps). Each call is one vDSO clock_gettime, no syscall. On the data path
// prefer the loop's cached time (Timer::now / WorkerRuntime::now): it costs nothing.
#pragma once

#include <time.h>

#include <cstdint>

namespace manifold::clock {

inline uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
inline uint64_t monotonicMs() { return monotonicNs() / 1000000ull; }
inline double monotonicSeconds() { return static_cast<double>(monotonicNs()) / 1e9; }

inline uint64_t wallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000ull +
         static_cast<uint64_t>(ts.tv_nsec) / 1000000ull;
}
inline uint64_t wallSeconds() { return wallMs() / 1000ull; }

}  // namespace manifold::clock
