#include "protocols/proxy/health.hpp"

#include <cstring>

namespace manifold::proxy {

namespace {
constexpr shm::MagicText kMagic = "MFPROXY1";

template <typename T>
T load(const T& v) {
  return __atomic_load_n(&v, __ATOMIC_RELAXED);
}
template <typename T>
void store(T& v, T x) {
  __atomic_store_n(&v, x, __ATOMIC_RELAXED);
}
}  // namespace

std::string HealthRegion::layout() {
  return "proxy-backends-v" + std::to_string(kHealthVersion) + "-" +
         std::to_string(sizeof(BackendState));
}

size_t HealthRegion::bytes(size_t backends) { return 64 + backends * sizeof(BackendState); }

void HealthRegion::format(void* base, size_t backends) {
  auto* r = static_cast<HealthRegion*>(base);
  std::memset(base, 0, bytes(backends));
  r->count_ = static_cast<uint32_t>(backends);
  r->header_.stamp(kMagic, kHealthVersion);
}

HealthRegion* HealthRegion::attach(void* base) {
  auto* r = static_cast<HealthRegion*>(base);
  return r && r->header_.matches(kMagic, kHealthVersion) ? r : nullptr;
}

bool HealthRegion::available(size_t i, uint64_t nowMs) {
  BackendState& s = at(i);
  return load(s.checkDown) == 0 && nowMs >= load(s.failedUntilMs);
}

bool HealthRegion::recordFailure(size_t i, unsigned maxFails, uint64_t failTimeoutMs,
                                 uint64_t nowMs) {
  if (maxFails == 0) return false;
  BackendState& s = at(i);
  if (nowMs - load(s.windowStartMs) > failTimeoutMs) {
    store(s.windowStartMs, nowMs);
    store(s.fails, 0u);
  }
  uint32_t fails = __atomic_add_fetch(&s.fails, 1, __ATOMIC_RELAXED);
  if (fails < maxFails) return false;
  store(s.fails, 0u);
  store(s.windowStartMs, nowMs);
  bool was = nowMs < load(s.failedUntilMs);
  store(s.failedUntilMs, nowMs + failTimeoutMs);
  return !was;
}

bool HealthRegion::recordCheck(size_t i, bool ok, unsigned rise, unsigned fall, uint64_t nowWallMs,
                               uint32_t latencyUs) {
  BackendState& s = at(i);
  __atomic_add_fetch(&s.checks, 1, __ATOMIC_RELAXED);
  store(s.lastCheckMs, nowWallMs);
  if (ok) store(s.latencyUs, latencyUs);
  bool down = load(s.checkDown) != 0;
  if (ok != down) {  // agrees with the verdict
    store(s.checkStreak, 0u);
    return false;
  }
  uint32_t streak = load(s.checkStreak) + 1;
  if (streak < (down ? rise : fall)) {
    store(s.checkStreak, streak);
    return false;
  }
  store(s.checkStreak, 0u);
  store(s.checkDown, down ? 0u : 1u);
  store(s.lastChangeMs, nowWallMs);
  if (down) store(s.failedUntilMs, uint64_t{0});  // back: passive marks are forgiven too
  return true;
}

}  // namespace manifold::proxy
