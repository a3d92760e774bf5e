#include "protocols/fs/placement.hpp"

#include <algorithm>

#include "protocols/proxy/balancer.hpp"

namespace manifold::fs {

bool stageRoot(std::string_view path) {
  size_t slash = path.find('/', 1);
  return slash == std::string_view::npos || slash + 1 == path.size();
}

unsigned stageOf(std::string_view path) {
  if (!path.starts_with("/_s")) return 0;
  unsigned n = 0;
  size_t i = 3;
  for (; i < path.size() && path[i] >= '0' && path[i] <= '9' && i < 12; ++i)
    n = n * 10 + static_cast<unsigned>(path[i] - '0');
  if (i == 3 || (i < path.size() && path[i] != '/')) return 0;
  return n;
}

void rankNodes(std::string_view path, const Stage& stage,
               const std::vector<proxy::BackendConfig>& backends, std::vector<int>& out) {
  std::vector<std::pair<uint64_t, int>> scored;
  scored.reserve(stage.nodes.size());
  for (int i : stage.nodes)
    scored.emplace_back(
        proxy::Balancer::score(path, proxy::Balancer::seedOf(backends[i]), backends[i].weight), i);
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  out.clear();
  for (auto& [score, i] : scored) out.push_back(i);
}

}  // namespace manifold::fs
