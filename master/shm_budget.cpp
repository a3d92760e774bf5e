#include "master/shm_budget.hpp"

#include <cstdio>
#include <stdexcept>

#include "master/config.hpp"
#include "protocols/service.hpp"
#include "shm/segment.hpp"

namespace manifold::config {

namespace {
uint64_t extent(uint64_t bytes) {
  return (bytes + shm::kRegionAlign - 1) / shm::kRegionAlign * shm::kRegionAlign;
}

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fM", static_cast<double>(bytes) / (1 << 20));
  return text;
}
}  // namespace

std::vector<shm::StatsServiceSpec> statsSpecs(const Config& config) {
  std::vector<shm::StatsServiceSpec> specs;
  for (auto& service : config.services) {
    shm::StatsServiceSpec spec;
    spec.title = service->title();
    spec.protocol = service->protocol;
    for (auto& counter : service->counters())
      spec.counters.emplace_back(counter.name, static_cast<uint8_t>(counter.kind), counter.help);
    specs.push_back(std::move(spec));
  }
  return specs;
}

namespace {
// A title or counter name the stats region cannot hold is reported where the region is made (at
// start, with its own message); the budget then counts no stats bytes.
uint64_t statsBytes(const Config& config) {
  try {
    return shm::StatsRegion::bytesFor(config.master.workers * kStatsSlotsPerWorker,
                                      statsSpecs(config));
  } catch (const std::invalid_argument&) {
    return 0;
  }
}
}  // namespace

uint64_t shmBytesNeeded(const Config& config) {
  uint64_t total = extent(sizeof(shm::SegmentHeader)) + extent(statsBytes(config));
  for (auto& service : config.services)
    for (auto& region : service->regions()) total += extent(region.bytes);
  return total;
}

void checkShmBudget(const Config& config, const std::string& file, int shmSizeLine) {
  const uint64_t need = shmBytesNeeded(config);
  const uint64_t have = extent(config.master.shmSize);
  if (need <= have) return;
  // Regions sized by a key are named; the fixed ones (counters, small tables) are summed.
  uint64_t fixed = extent(sizeof(shm::SegmentHeader)) + extent(statsBytes(config));
  std::string parts;
  for (auto& service : config.services) {
    for (auto& region : service->regions()) {
      if (region.sizeKey.empty()) {
        fixed += extent(region.bytes);
        continue;
      }
      parts +=
          "[" + service->title() + "] " + region.sizeKey + " " + mib(extent(region.bytes)) + ", ";
    }
  }
  parts += "fixed regions " + std::to_string(fixed / 1024) + "K";
  auto kib = [](uint64_t bytes) { return std::to_string(bytes / 1024) + "K"; };
  throw ConfigError(file, shmSizeLine, "shm_size",
                    kib(have) + " cannot hold the shared memory this configuration needs (" +
                        kib(need) + ": " + parts + "); raise shm_size or lower those keys");
}

}  // namespace manifold::config
