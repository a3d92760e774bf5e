// Counters declared once: a protocol lists its counters in one X-macro table
//
//   #define MANIFOLD_TFTP_COUNTERS(X)
//     X(kTransfersActive, "transfers_active", Gauge, "transfers in progress")
//     X(kBytesSent, "bytes_sent", Counter, "file bytes sent")      (rows end in backslashes)
//   enum Counter : unsigned { MANIFOLD_TFTP_COUNTERS(MANIFOLD_COUNTER_ENUM) kCounterCount };
//   inline constexpr shm::CounterDef kCounterDefs[] =
//   {MANIFOLD_TFTP_COUNTERS(MANIFOLD_COUNTER_DEF)};
//
// from which follow the enum (slot index), the CounterSpec list the master turns into the stats
// region (name, kind and help stored there, so manifold-shm and /metrics need no protocol
// knowledge), and nothing else to keep in step. Services update their slot through CounterSlot,
// never by indexing raw memory.
#pragma once

#include <cstdint>
#include <string_view>

namespace manifold::shm {

enum class CounterKind : uint8_t {
  Counter = 0,  // only grows; summed over slots
  Gauge = 1,    // current level (connections open...); summed too
};

// One row of a protocol's counter table.
struct CounterDef {
  std::string_view name;  // snake_case, as readers and dashboards see it
  CounterKind kind;
  std::string_view help;  // one line for `# HELP`
};

#define MANIFOLD_COUNTER_ENUM(id, name, kind, help) id,
#define MANIFOLD_COUNTER_DEF(id, name, kind, help) \
  ::manifold::shm::CounterDef{name, ::manifold::shm::CounterKind::kind, help},

// A worker's view of its own counters (one service's block of its stats slot, or a sub-range
// of it). The owning worker is the only writer, so updates are a relaxed load and store: no
// locked read-modify-write, no tearing for readers. Indices are the protocol's enum; no bounds
// check (the enum and the region come from the same table). A default-constructed slot has no
// storage and must not be updated.
class CounterSlot {
 public:
  CounterSlot() = default;
  // Implicit so the worker can hand StatsRegion::counters() straight to a service.
  CounterSlot(uint64_t* base) : base_(base) {}  // NOLINT(google-explicit-constructor)

  void add(unsigned k, uint64_t n) const {
    __atomic_store_n(base_ + k, __atomic_load_n(base_ + k, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
  }
  void sub(unsigned k, uint64_t n) const {
    __atomic_store_n(base_ + k, __atomic_load_n(base_ + k, __ATOMIC_RELAXED) - n, __ATOMIC_RELAXED);
  }
  void inc(unsigned k) const { add(k, 1); }
  void dec(unsigned k) const { sub(k, 1); }
  void set(unsigned k, uint64_t v) const { __atomic_store_n(base_ + k, v, __ATOMIC_RELAXED); }
  uint64_t get(unsigned k) const { return __atomic_load_n(base_ + k, __ATOMIC_RELAXED); }
  // The counters from index `first` on, indexed from 0 (a sub-table such as DNS's LRRR block).
  CounterSlot from(unsigned first) const { return CounterSlot(base_ + first); }
  explicit operator bool() const { return base_ != nullptr; }

 private:
  uint64_t* base_ = nullptr;
};

}  // namespace manifold::shm
