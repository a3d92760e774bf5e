#include "shm/snapshot.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "shm/arena.hpp"
#include "shm/info_board.hpp"
#include "shm/region_header.hpp"
#include "shm/table.hpp"

namespace manifold::shmtool {

namespace {

bool processAlive(int32_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Looks for a known structure at 64-byte steps in the region's first page. Each at()
// validates its header; sizes are checked against the region so a damaged header cannot
// send the reader outside the mapping.
void recognise(const shm::Segment& segment, RegionView& region) {
  if (region.info.state == shm::RegionState::Free) return;
  const auto* base = static_cast<const char*>(segment.base()) + region.info.offset;
  const uint64_t bytes = region.info.bytes;
  for (uint64_t off = 0; off + 64 <= bytes && off < 4096; off += 64) {
    const char* p = base + off;
    const uint64_t room = bytes - off;
    if (shm::startsWithMagic(p, shm::StatsRegion::kMagic)) {
      const auto* stats = shm::StatsRegion::at(static_cast<const void*>(p));
      if (!stats || stats->bytes() > room) continue;
      region.kind = "stats";
      region.slots = stats->slotCount();
      region.services = stats->serviceCount();
    } else if (shm::startsWithMagic(p, shm::Table::kMagic)) {
      const auto* table = shm::Table::at(static_cast<const void*>(p));
      if (!table || shm::Table::bytesFor(0, table->bucketCount(), table->stripeCount()) > room)
        continue;
      region.kind = "table";
      region.entries = table->entries();
      region.used = table->bytesUsed();
      region.capacity = table->capacity();
      region.evictions = table->evictions();
      region.recoveries = table->recoveries();
    } else if (shm::startsWithMagic(p, shm::Arena::kMagic)) {
      const auto* arena = shm::Arena::at(static_cast<const void*>(p));
      if (!arena || shm::Arena::headerBytes() + arena->capacity() > room) continue;
      region.kind = "arena";
      region.used = arena->used();
      region.capacity = arena->capacity();
      region.allocations = arena->allocations();
    } else if (shm::startsWithMagic(p, shm::InfoBoard::kMagic)) {
      const auto* board = shm::InfoBoard::at(static_cast<const void*>(p), room);
      if (!board) continue;
      region.kind = "board";
      region.family = board->family();
      for (unsigned i = 0; i < board->valueCount(); ++i)
        region.valueNames.emplace_back(board->valueName(i));
      region.rows = board->read();
    } else {
      continue;
    }
    region.innerOffset = off;
    return;
  }
}

void readStats(const shm::StatsRegion& stats, Snapshot& snap) {
  snap.haveStats = true;
  std::vector<unsigned> slots;
  for (unsigned slot = 0; slot < stats.slotCount(); ++slot) {
    const shm::WorkerInfo info = stats.readWorker(slot);
    if (info.state == shm::kWorkerFree) continue;
    snap.workers.push_back({slot, info, processAlive(info.pid)});
    slots.push_back(slot);
  }
  for (unsigned s = 0; s < stats.serviceCount(); ++s) {
    ServiceView service;
    service.title = stats.serviceTitle(s);
    service.protocol = stats.serviceProtocol(s);
    for (unsigned c = 0; c < stats.counterCount(s); ++c) {
      CounterView counter;
      counter.name = stats.counterName(s, c);
      counter.gauge = stats.counterKind(s, c) == shm::kGauge;
      counter.help = stats.counterHelp(s, c);
      counter.total = stats.sum(s, c);  // every slot: retired workers' counts included
      for (unsigned slot : slots) counter.perWorker.push_back(stats.read(slot, s, c));
      service.counters.push_back(std::move(counter));
    }
    snap.services.push_back(std::move(service));
  }
}

}  // namespace

Snapshot takeSnapshot(const shm::Segment& segment) {
  Snapshot snap;
  const shm::SegmentHeader& h = segment.header();
  InstanceView& in = snap.instance;
  in.name = segment.name();
  in.path = segment.path();
  in.layoutVersion = h.layoutVersion;
  in.segmentBytes = h.segmentBytes;
  in.masterPid = h.masterPid.load(std::memory_order_relaxed);
  in.masterAlive = processAlive(in.masterPid);
  in.generation = h.generation.load(std::memory_order_relaxed);
  in.reloads = h.reloads.load(std::memory_order_relaxed);
  in.failedReloads = h.failedReloads.load(std::memory_order_relaxed);
  in.lastReloadMs = h.lastReloadMs.load(std::memory_order_relaxed);
  in.lastReloadOk = h.lastReloadOk.load(std::memory_order_relaxed) != 0;
  in.startedAtMs = h.startedAtMs;
  in.nowMs = shm::wallClockMs();

  for (const shm::RegionInfo& info : segment.regions()) {
    if (info.offset > segment.size() || info.bytes > segment.size() - info.offset) continue;
    RegionView region;
    region.info = info;
    recognise(segment, region);
    in.allocatedBytes +=
        (info.bytes + shm::kRegionAlign - 1) / shm::kRegionAlign * shm::kRegionAlign;
    if (region.kind == "stats" && region.info.state == shm::RegionState::Live &&
        region.info.name == "stats")
      readStats(*shm::StatsRegion::at(static_cast<const char*>(segment.base()) + info.offset +
                                      region.innerOffset),
                snap);
    snap.regions.push_back(std::move(region));
  }
  return snap;
}

std::string humanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024;
  unsigned u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string humanPercent(uint64_t part, uint64_t whole) {
  if (!whole) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

std::string humanDuration(uint64_t ms) {
  const uint64_t s = ms / 1000;
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60));
  else
    std::snprintf(buf, sizeof buf, "%llud%02lluh", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s / 3600 % 24));
  return buf;
}

}  // namespace manifold::shmtool
