// Disk space reserved for WebDAV uploads, counted for the whole instance ([http:NAME]).
//
// A PUT reserves space (fallocate) in steps of kReserveStep ahead of the bytes received, never
// the whole Content-Length up front: a client that sends headers only, or dribbles its body,
// holds at most one step. The sum of what every upload has reserved but not yet written is
// capped by `upload_reserve_max`; past the cap an upload simply writes without reserving (a full
// disk is then found by write(), still answered 507).
//
// Region "<title>/uploads": a word region (shm/word_region.hpp), magic "MFUPRES1", one word per
// stats slot: the bytes that slot's worker has reserved ahead of its data.
// Each worker adds to the entry of its stats slot (ServiceContext::slot, unique among live
// workers) and zeroes it when it starts, so a crashed worker's reservations are forgotten with it
// (its temp files vanish with its descriptors anyway).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "shm/word_region.hpp"

namespace manifold::http {

class UploadReservations {
 public:
  static constexpr uint64_t kReserveStep = 1 << 20;
  static constexpr unsigned kSlots = 256;  // stats slots beyond this share entries (fetch_add)

  static size_t bytes() { return shm::wordRegionBytes(kSlots); }
  static std::string layout() { return "MFUPRES1/" + std::to_string(kSlots); }
  static void format(void* base);

  // base: the region (nullptr: no accounting, every reservation allowed).
  UploadReservations(void* base, unsigned slot, uint64_t cap);
  // True (and counted) if `n` more bytes may be reserved now.
  bool take(uint64_t n);
  // Bytes of earlier take()s that are now written or abandoned.
  void give(uint64_t n);
  uint64_t total() const;  // summed over every worker

 private:
  std::atomic<uint64_t>* slots_ = nullptr;
  std::atomic<uint64_t>* mine_ = nullptr;
  uint64_t cap_;
};

}  // namespace manifold::http
