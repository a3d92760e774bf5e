// Where a file lives (pure, unit-tested): its URL's first segment names its stage
// ("/_s2/photos/a.jpg" is in stage 2), and inside the stage weighted rendezvous hashing (HRW)
// of its path ranks the stage's nodes: the first `replicas` hold the copies, the rest are
// hand-off nodes. The same score as the proxy's `hash` balance (Balancer::score over the node's
// address), so reads (through the proxy's relay) and writes rank nodes identically. Adding,
// removing or re-weighting one node moves only the paths whose ranking that node enters or
// leaves; no path can fail to place while the stage has a node.
#pragma once

#include <string_view>
#include <vector>

#include "protocols/proxy/config.hpp"

namespace manifold::fs {

struct Stage {
  unsigned number = 0;
  std::vector<int> nodes;  // indices into the backends
};

// The stage number of a path ("/_s12/x" -> 12), 0 when its first segment names none.
unsigned stageOf(std::string_view path);

// A path of one segment ("/_s1/", "/_s1", "/x"): a stage's root, which every stage has; no COPY
// or MOVE may name it, and its DELETE is not walked file by file.
bool stageRoot(std::string_view path);

// The stage's nodes ranked for `path` (best first) into `out`.
void rankNodes(std::string_view path, const Stage& stage,
               const std::vector<proxy::BackendConfig>& backends, std::vector<int>& out);

}  // namespace manifold::fs
