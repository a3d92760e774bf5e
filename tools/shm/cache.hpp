// `manifold-shm cache`: what every proxy cache (proxy:NAME/cache regions) holds: object counts
// and bytes, then the biggest and the hottest objects, read without locks from a read-only
// mapping.
#pragma once

#include <string>

#include "shm/segment.hpp"

namespace manifold::shmtool {

// Text, or one JSON object; `top` objects per list. Throws std::runtime_error when the instance
// has no proxy cache.
std::string renderCache(const shm::Segment& segment, bool json, size_t top = 10);

}  // namespace manifold::shmtool
