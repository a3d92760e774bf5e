// The shared-memory budget: what a configuration's regions need from `shm_size`. One
// computation for the start, a reload and `manifold -t`, so a config that passes the check
// cannot then fail with "shm segment full".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/stats.hpp"

namespace manifold::config {

struct Config;

// The stats region keeps room for three generations of workers: the running one, a new one
// being started by a reload, and one still draining from the reload before.
inline constexpr unsigned kStatsSlotsPerWorker = 3;

// Every service's counters, in service order, as the stats region lays them out.
std::vector<shm::StatsServiceSpec> statsSpecs(const Config& config);

// Bytes of the segment a fresh start of `config` uses: header, stats region and every region,
// each rounded up to its 4096-byte extent.
uint64_t shmBytesNeeded(const Config& config);

// Throws ConfigError at `file:line: shm_size` when the regions do not fit, naming each
// region's size and the key that sets it.
void checkShmBudget(const Config& config, const std::string& file, int shmSizeLine);

}  // namespace manifold::config
