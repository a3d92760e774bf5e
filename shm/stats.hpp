// Per-worker counters in shared memory: one padded block of uint64 counters per worker
// slot, written only by the worker that owns the slot (no locks, no atomic RMW), read by
// anybody (master, other workers, bin/manifold-shm) with relaxed atomic loads and summed.
//
// Region layout (offsets from the region base, which is 4096-aligned):
//
//   0               StatsRegion header, 128 bytes
//                     magic[8] "MFSTATS1", version, slots, services, counterTotal,
//                     bytes (= bytesFor), offsets of the four arrays below, slotStride
//   servicesOffset  StatsServiceDesc[services]   112 bytes each: title, protocol,
//                                                first counter index, counter count
//   countersOffset  StatsCounterDesc[counterTotal] 256 bytes each: name, kind, help text
//   workersOffset   WorkerInfo[slots]            64 bytes each (one cache line)
//   slotsOffset     slot blocks, slotStride bytes each (a multiple of 128, so two workers
//                   never write the same cache line pair): uint64 counters[counterTotal],
//                   service s occupying [firstCounter(s), firstCounter(s)+counterCount(s))
//
// Names, kinds and help texts live in the region, so a reader needs no knowledge of protocols
// (they come from each protocol's counter table, shm/counters.hpp).
// Slots: the master sizes the region with 2 x workers slots so an old and a new
// generation never share one; a respawned worker reuses its dead predecessor's slot
// (counters keep accumulating; it calls resetGauges() at start).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>  // std::move
#include <vector>

#include "shm/counters.hpp"
#include "shm/region_header.hpp"

namespace manifold::shm {

// CounterKind as stored in the region (one byte).
inline constexpr uint8_t kCounter = static_cast<uint8_t>(CounterKind::Counter);
inline constexpr uint8_t kGauge = static_cast<uint8_t>(CounterKind::Gauge);

// A worker slot's state: written by the master (WorkerInfo::state), read by manifold-shm and the
// status service. The one set of values and names; nobody else numbers them.
inline constexpr uint8_t kWorkerFree = 0;
inline constexpr uint8_t kWorkerStarting = 1;
inline constexpr uint8_t kWorkerReady = 2;
inline constexpr uint8_t kWorkerDraining = 3;
const char* workerStateName(uint8_t state);  // "free", "starting", "ready", "draining"

inline constexpr size_t kStatsTitleMax = 63;
inline constexpr size_t kStatsProtocolMax = 31;
inline constexpr size_t kStatsCounterNameMax = 55;
inline constexpr size_t kStatsCounterHelpMax = 191;

struct StatsCounterSpec {
  // A constructor rather than an aggregate: {name, kind} without help stays warning-free.
  StatsCounterSpec(std::string n, uint8_t k = kCounter, std::string h = {})
      : name(std::move(n)), kind(k), help(std::move(h)) {}
  std::string name;
  uint8_t kind = kCounter;  // kCounter or kGauge
  std::string help;         // may be empty; longer than kStatsCounterHelpMax is cut
};

struct StatsServiceSpec {
  std::string title;     // "http:www"
  std::string protocol;  // "http"
  std::vector<StatsCounterSpec> counters;
};

// One worker slot, written by the master (and `state` by the worker). Plain aligned
// fields: each is read atomically by readWorker(); write `state` last.
struct alignas(64) WorkerInfo {
  int32_t pid;
  uint32_t index;  // worker index 0..workers-1 (several generations may share an index)
  uint64_t generation;
  uint64_t startedAtMs;  // wallClockMs()
  uint32_t restarts;     // respawns of this index after a crash
  uint8_t state;         // kWorkerFree / Starting / Ready / Draining
};
static_assert(sizeof(WorkerInfo) == 64);

struct StatsServiceDesc {
  char title[64];
  char protocol[32];
  uint32_t firstCounter;
  uint32_t counterCount;
  uint64_t reserved;
};
static_assert(sizeof(StatsServiceDesc) == 112);

struct StatsCounterDesc {
  char name[56];
  uint8_t kind;
  uint8_t reserved[7];
  char help[192];
};
static_assert(sizeof(StatsCounterDesc) == 256);

class StatsRegion {
 public:
  static constexpr MagicText kMagic = "MFSTATS1";

  // Sizing and layout identity; throw std::invalid_argument for names that do not fit.
  static size_t bytesFor(unsigned slots, const std::vector<StatsServiceSpec>& services);
  // Changes whenever slots, services, counter names/kinds or the struct sizes change.
  static std::string layoutKey(unsigned slots, const std::vector<StatsServiceSpec>& services);
  // Writes a fresh layout into mem (zeroes counters and the worker table).
  static StatsRegion* format(void* mem, size_t bytes, unsigned slots,
                             const std::vector<StatsServiceSpec>& services);
  // The region at mem if its header is valid, else nullptr.
  static const StatsRegion* at(const void* mem);
  static StatsRegion* at(void* mem);

  // Writer side. nullptr if slot or service is out of range.
  uint64_t* counters(unsigned slot, unsigned service);
  // Single writer per slot: a relaxed load and store (no locked RMW) cannot tear and
  // cannot lose updates because nobody else writes the slot. Services use CounterSlot.
  static void add(uint64_t* c, uint64_t n) { CounterSlot(c).add(0, n); }
  static void sub(uint64_t* c, uint64_t n) { CounterSlot(c).sub(0, n); }
  static void set(uint64_t* c, uint64_t v) { CounterSlot(c).set(0, v); }
  // Zeroes the slot's gauges (a respawned worker starts with no connections).
  void resetGauges(unsigned slot);

  // Worker table. Precondition: slot < slotCount().
  WorkerInfo& worker(unsigned slot);
  const WorkerInfo& worker(unsigned slot) const;
  // Field-by-field atomic snapshot for readers; zeroes if slot is out of range.
  WorkerInfo readWorker(unsigned slot) const;

  // Reader side: out-of-range indices give empty names and 0.
  unsigned slotCount() const { return slots_; }
  unsigned serviceCount() const { return services_; }
  std::string_view serviceTitle(unsigned s) const;
  std::string_view serviceProtocol(unsigned s) const;
  unsigned counterCount(unsigned s) const;
  std::string_view counterName(unsigned s, unsigned c) const;
  uint8_t counterKind(unsigned s, unsigned c) const;
  std::string_view counterHelp(unsigned s, unsigned c) const;
  uint64_t read(unsigned slot, unsigned s, unsigned c) const;
  uint64_t sum(unsigned s, unsigned c) const;
  size_t bytes() const { return bytes_; }

 private:
  StatsRegion() = default;
  const StatsServiceDesc* service(unsigned s) const;
  const StatsCounterDesc* counterDesc(unsigned s, unsigned c) const;
  const uint64_t* slotBlock(unsigned slot) const;
  bool valid() const;

  RegionHeader header_;
  uint32_t slots_;
  uint32_t services_;
  uint32_t counterTotal_;
  uint64_t bytes_;
  uint64_t servicesOffset_;
  uint64_t countersOffset_;
  uint64_t workersOffset_;
  uint64_t slotsOffset_;
  uint64_t slotStride_;
  uint64_t reserved_[7];
};
static_assert(sizeof(StatsRegion) == 128);

}  // namespace manifold::shm
