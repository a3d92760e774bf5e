// Region dns:NAME/zone_times (only with allow_transfer): the unix time each zone was last
// transferred out, written by whichever worker served the transfer. Counters are summed over
// workers, so a time cannot be a per-worker gauge; the worker that runs instance tasks copies
// these into its z_<zone>_xfr_out_time gauges every second (DnsService::publishZoneGauges).
//
//   ZoneTimesRegion { RegionMagic "MFDNSZT1"; u32 zones; u32 reserved; atomic u64 lastOut[zones] }
//
// Indexed in zoneCounterOrigins() order; the layout key carries the origin list, so a reload
// that changes the zones starts a fresh region rather than mislabel the times.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shm/region_header.hpp"

namespace manifold::dns {

struct ZoneTimesRegion {
  shm::RegionMagic magic;  // "MFDNSZT1"
  uint32_t zones;
  uint32_t reserved;
  std::atomic<uint64_t> lastOut[1];  // `zones` of them

  static size_t bytesFor(uint32_t zones) {
    return offsetof(ZoneTimesRegion, lastOut) + sizeof(std::atomic<uint64_t>) * (zones ? zones : 1);
  }
  static void format(void* base, size_t bytes, uint32_t zones, bool adopted);
  void noteOut(uint32_t zone, uint64_t unixSeconds) {
    if (zone < zones) lastOut[zone].store(unixSeconds, std::memory_order_relaxed);
  }
};

}  // namespace manifold::dns
