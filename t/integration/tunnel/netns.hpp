// Test beds for the tunnel: network namespaces and veth links the test creates and removes
// (addresses exist only inside them), sites running the real bin/manifold in a namespace, and
// reading a service's counters and boards through bin/manifold-shm.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "t/integration/lib/harness.hpp"

namespace manifold::testing {

// A namespace "mft<pid>x<tag>", deleted (with its links) when it goes out of scope.
class Netns {
 public:
  explicit Netns(const std::string& tag);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  // Runs a shell command inside the namespace; returns stdout.
  std::string exec(const std::string& command, int* rc = nullptr) const;
  // Runs fn on a thread that has joined the namespace (setns affects only that thread).
  void inside(const std::function<void()>& fn) const;

 private:
  std::string name_;
};

// A veth link: `aDev` in a with aAddr (CIDR), `bDev` in b with bAddr; both up, offloads as is.
void linkNamespaces(const Netns& a, const std::string& aDev, const std::string& aAddr,
                    const Netns& b, const std::string& bDev, const std::string& bAddr);

struct TunnelKeys {
  std::string privatePath, publicKey;
};
// A fresh key pair from bin/manifold-tunnel (the private key written to dir/name.key).
TunnelKeys makeTunnelKeys(const std::string& dir, const std::string& name);

// The value of one counter of `service` ("tunnel:b") summed over workers; -1 if not found.
int64_t serviceCounter(const Instance& m, const std::string& service, const std::string& name);
// The `manifold-shm REGION` text of a board region, e.g. "tunnel:b/paths".
std::string regionText(const Instance& m, const std::string& region);

// ping -c count -i interval from inside ns; returns packets received.
int pingCount(const Netns& ns, const std::string& target, int count, double interval,
              const std::string& extra = "");

}  // namespace manifold::testing
