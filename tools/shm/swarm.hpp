// `manifold-shm swarm INFO_HASH`: one torrent as every tracker of the instance sees it, read
// from the tracker:NAME/swarms regions of a read-only mapping.
#pragma once

#include <string>

#include "shm/segment.hpp"

namespace manifold::shmtool {

// Text (or one JSON object) for the torrent `hexHash` (40 hex digits) in every swarm region;
// throws std::runtime_error when the instance has no tracker.
std::string renderSwarm(const shm::Segment& segment, const std::string& hexHash, bool json);

}  // namespace manifold::shmtool
