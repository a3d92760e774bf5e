// The master's listening sockets: one SO_REUSEPORT socket per worker per (address, transport),
// so the kernel spreads connections and datagrams and a respawned worker takes over the same
// socket with its queue intact. A reload keeps sockets whose address stays in the config.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "protocols/service.hpp"

namespace manifold {

class ListenerSet {
 public:
  ~ListenerSet();
  // Makes the set match `wanted` with `workers` sockets per key: keeps existing sockets, opens
  // new ones (a failure throws std::runtime_error and leaves the set as it was), and returns the
  // keys that are no longer wanted without closing them (see closeKeys).
  std::vector<std::string> reconcile(const std::vector<ListenRequest>& wanted, unsigned workers);
  void closeKeys(const std::vector<std::string>& keys);
  void closeAll();
  // Sockets for one address, indexed by worker.
  const std::vector<int>& sockets(const ListenRequest& request) const;
  static std::string keyOf(const ListenRequest& request);

 private:
  std::map<std::string, std::vector<int>> sockets_;
  std::map<std::string, std::vector<int>> retired_;  // removed by a reload, closed later
};

}  // namespace manifold
