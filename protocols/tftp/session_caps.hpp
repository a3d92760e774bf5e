// Instance-wide session caps for [tftp:NAME]: max_sessions (all transfers of the instance) and
// max_sessions_per_client (per source, an IPv4 /32 or IPv6 /64), counted in the shm region
// "tftp:NAME/sessions" by every worker. A second instance over "tftp:NAME/unverified" counts
// the sessions whose peer has not answered yet (max_unverified_sessions / _per_client).
//
// Each worker writes only the slot of its stats slot number (ServiceContext::slot, unique among
// live workers of every generation) with atomic adds; a check sums the slots in use. A worker
// zeroes its slot when it starts (a respawn reuses its dead predecessor's slot, so a crash does
// not leak sessions) and when it exits. A worker killed and not respawned (crash-loop guard,
// fewer workers after a reload) leaves its pid in the slot: the instance-task worker's periodic
// sweep finds that pid gone and zeroes the slot.
//
// Region layout (offsets from the region base):
//   +0    char[8]   magic "MFTFTSC1"
//   +8    u32       slots (kSlots)
//   +12   u32       buckets per slot (kBuckets, a power of two)
//   +16   u32 atomic  high water: slots at or past it were never used (readers stop there)
//   +64   slot[slots], kSlotBytes each:
//           +0   i32 atomic  owner pid (0 free, -1 being zeroed by the sweep)
//           +4   u32 atomic  sessions held by the owner
//           +64  u32 atomic[buckets]  sessions held per source bucket (source hash -> bucket)
// Sources whose hashes share a bucket share its count: rare with 4096 buckets, and it can only
// refuse early, never let a source past its cap.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace manifold::tftp {

class SessionCaps {
 public:
  static constexpr uint32_t kSlots = 128;  // stats slots; a worker past them counts alone
  static constexpr uint32_t kBuckets = 4096;
  static constexpr size_t kHeaderBytes = 64;
  static constexpr size_t kSlotBytes = 64 + kBuckets * sizeof(uint32_t);
  static size_t regionBytes() { return kHeaderBytes + kSlots * kSlotBytes; }
  // Zeroes the region unless an adopted one already has this layout (its slots stay claimed
  // by the workers still holding them: an old generation drains with its counts in place).
  static void formatRegion(void* base, size_t bytes, bool adopted);

  enum class Verdict : uint8_t { Ok, Busy, SourceBusy };

  // Takes slot `slot` of `region` for this process and zeroes it. With a null region, or a slot
  // past kSlots, it counts this process's sessions only.
  SessionCaps(void* region, unsigned slot, unsigned maxSessions, unsigned maxPerSource);
  ~SessionCaps();  // releases the slot
  SessionCaps(const SessionCaps&) = delete;
  SessionCaps& operator=(const SessionCaps&) = delete;

  // Counts one session of `source` if that keeps both caps; else counts nothing and says which
  // cap refused. Counts first and checks after, so racing workers can only both refuse.
  Verdict acquire(uint64_t source);
  void release(uint64_t source);
  // Zeroes the slots of workers that are gone. Costs one kill(pid, 0) per claimed slot: call it
  // from a timer, not per request.
  void reclaimDead();
  bool shared() const { return region_ != nullptr; }

 private:
  struct Slot;
  Slot* slot(uint32_t i) const;
  uint32_t bucketOf(uint64_t source) const;
  void claim(uint32_t i);
  bool reclaim(uint32_t i, pid_t owner);

  uint8_t* region_ = nullptr;  // null: private counting
  Slot* mine_ = nullptr;
  std::unique_ptr<uint8_t[]> private_;  // a one-slot stand-in when no slot is shared
  unsigned maxSessions_, maxPerSource_;
};

}  // namespace manifold::tftp
