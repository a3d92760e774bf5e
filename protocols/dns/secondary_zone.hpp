// Secondary zones (`secondary = ZONE ADDR[:PORT] [key=NAME]`, `secondary_dir = PATH`): what the
// config says of each, and the shm region through which any worker that accepts a NOTIFY tells
// the instance-task worker (which runs the transfers, secondary.hpp) to refresh a zone.
//
// Copies: `secondary_dir/ZONE.zone` (ZONE in lowercase presentation form without the final
// dot), a master file written by the transfer (xfr_in.hpp), atomically (temp file + rename).
// Its mtime is the last time the primary confirmed the copy (a transfer, or an IXFR/SOA check
// that found it current): at load, a copy whose mtime + SOA expire is past is "expired" and not
// served (SERVFAIL, as NSD), nor is a zone with no copy yet.
//
// Region dns:NAME/secondary: { RegionMagic "MFDNSSC2"; u32 count; u32 reserved;
//   atomic<u32> notified[kMaxSecondaries]; atomic<u64> transferred[kMaxSecondaries] } —
// notified[i] is bumped for the i-th secondary (config order) by the worker that accepts a NOTIFY
// for it, and the instance-task worker polls it; transferred[i] is the unix time of its last
// transfer in (the per-zone gauge, kept across the reload the transfer causes).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/dns/tsig.hpp"
#include "shm/region_header.hpp"

namespace manifold::dns {

inline constexpr uint32_t kMaxSecondaries = 1024;

struct SecondaryZone {
  std::string origin;  // lowercase wire
  std::string name;    // "example.net" (file name, logs)
  sockaddr_storage primary{};
  socklen_t primaryLen = 0;
  std::string primaryText;  // "192.0.2.1:53"
  const TsigKey* key = nullptr;
  std::string path;        // the copy
  bool loaded = false;     // its copy is served in this generation
  double lastContact = 0;  // the copy's mtime (unix seconds)
};

struct SecondaryRegion {
  shm::RegionMagic magic;  // "MFDNSSC2"
  uint32_t count;
  uint32_t reserved;
  std::atomic<uint32_t> notified[kMaxSecondaries];
  std::atomic<uint64_t> transferred[kMaxSecondaries];
  static void format(void* base, bool adopted);
};

}  // namespace manifold::dns
