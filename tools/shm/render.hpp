// Text tables and JSON for a Snapshot. Pure functions: no shared memory, no I/O.
#pragma once

#include <string>

#include "shm/snapshot.hpp"

namespace manifold::shmtool {

enum class View { All, Stats, Workers, Regions, Region };

struct RenderOptions {
  View view = View::All;
  std::string region;  // for View::Region
  bool perWorker = false;
};

// nullptr if the snapshot has no region of that name (live preferred over retired).
const RegionView* findRegion(const Snapshot& snap, const std::string& name);

std::string renderText(const Snapshot& snap, const RenderOptions& options);
// One JSON object, no trailing newline. Keys and their order are stable:
// {"instance":{...},"workers":[...],"services":[...],"regions":[...]} for View::All, and the
// one matching member for the other views ("region":{...} for View::Region).
std::string renderJson(const Snapshot& snap, const RenderOptions& options);

}  // namespace manifold::shmtool
