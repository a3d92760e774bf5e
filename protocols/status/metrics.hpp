// The two renderings of the stats region the status service serves. Pure functions over the
// region and the segment header, so they are unit-tested without a socket. Names, kinds and
// help texts all come from the region: nothing here knows a protocol.
#pragma once

#include <string>
#include <string_view>

#include "shm/segment.hpp"
#include "shm/stats.hpp"

namespace manifold::status {

// Prometheus text exposition 0.0.4: per (protocol, counter) one family
// manifold_<protocol>_<name>[_total]{service="<title>"} summed over workers, each with
// `# HELP` (when the counter has help text) and `# TYPE counter|gauge`; then workers ready,
// generation and reload counts.
// With `segment`, then every info board (shm/info_board.hpp) in it: per value one family
// manifold_<family>_<value>[_total]{service="<region name before its last '/'>",<row labels>}.
void appendPrometheus(const shm::StatsRegion& stats, const shm::SegmentHeader& header,
                      std::string& out, const shm::Segment* segment = nullptr);

// {"generation":..,"reloads":..,"failed_reloads":..,"workers":[{"slot":..,"index":..,"pid":..,
//  "generation":..,"state":<number>,"restarts":..}],"services":[{"title":..,"protocol":..,
//  "counters":{name:sum,..}}]}; with `segment`, also "boards":[{"region":..,"family":..,
//  "rows":[{"labels":{..},"values":{..}}]}] before the closing brace.
void appendJson(const shm::StatsRegion& stats, const shm::SegmentHeader& header, std::string& out,
                const shm::Segment* segment = nullptr);

// A JSON string literal: quotes, backslashes and control characters escaped.
void appendJsonString(std::string& out, std::string_view value);

}  // namespace manifold::status
