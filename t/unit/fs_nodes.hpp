// Unit-test helper for protocols/fs: n store nodes with distinct addresses (10.0.0.1:80, ...).
#pragma once

#include <string>
#include <vector>

#include "protocols/proxy/config.hpp"

inline std::vector<manifold::proxy::BackendConfig> fsNodes(int n) {
  std::vector<manifold::proxy::BackendConfig> out(n);
  for (int i = 0; i < n; ++i) out[i].address.text = "10.0.0." + std::to_string(i + 1) + ":80";
  return out;
}
