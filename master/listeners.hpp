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
  // A worker index left down (crash loop): its TCP sockets stop listening, so the kernel's
  // SO_REUSEPORT group spreads new connections over the other workers only (closing the fd
  // would not do: every worker inherited a copy). The next reconcile() listens again.
  void suspendIndex(unsigned index);
  // In a freshly forked worker: closes every listening socket but `keep` (its own), so that a
  // socket the master closes later (a reload removed its address) really stops listening.
  void closeInChild(const std::vector<int>& keep) const;

 private:
  std::map<std::string, std::vector<int>> sockets_;
  std::map<std::string, std::vector<unsigned>> suspended_;  // key -> suspended worker indexes
  std::map<std::string, std::vector<int>> retired_;         // removed by a reload, closed later
};

}  // namespace manifold
