// The tun device of a [tunnel:NAME] section (master side). Creating a tun needs CAP_NET_ADMIN,
// so the master does it before forking a generation (acquirePrivileged), like listen sockets.
//
// Multi-queue (IFF_MULTI_QUEUE): each worker of a generation gets its own queue fd of the same
// device. The kernel picks a queue per flow and remembers the queue a flow's packets were last
// written on, so a flow's outgoing packets reach the worker that decrypts its incoming ones.
//
// Lifetime: one TunDevice per device name in the master, shared by every generation whose
// config names it with the same settings; a reload with the same settings only attaches new
// queues (the old generation's are closed when it is gone). A reload that changes any setting
// removes the device (down hook, `ip link del`) and creates it afresh. The device is configured
// with ip(8): addresses, MTU, txqueuelen, up, routes, then the up hook runs; when the master
// stops, the down hook runs and the device goes away with its last queue.
//
// Every queue fd is also recorded process-wide, so a worker can close the ones that are not its
// own (otherwise a worker would keep other generations' queues attached after they end, and
// the kernel would go on queueing packets there).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace manifold::tunnel {

struct TunSettings {
  std::string name;
  std::vector<std::string> addresses;  // CIDR, as `ip addr add` takes them
  unsigned mtu = 1420;
  unsigned txqueuelen = 1000;
  std::vector<std::string> routes;  // CIDR routed into the device
  std::string upHook, downHook;     // run as `sh -c HOOK` with $DEVICE set
  std::string signature() const;
};

class TunDevice {
 public:
  // The device named in `settings`, created (or re-created when its settings changed) if need
  // be. Null with `error` on failure.
  static std::shared_ptr<TunDevice> acquire(const TunSettings& settings, std::string& error);
  ~TunDevice();
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  // n more non-blocking queue fds; empty with `error` on failure.
  std::vector<int> openQueues(unsigned n, std::string& error);
  const TunSettings& settings() const { return settings_; }

  // In a worker: each tunnel service claims its own queue when created; once all services of
  // the worker are up (first loop turn), every unclaimed tun fd is closed.
  static void claim(int fd);
  static void closeUnclaimed();
  // Closes and forgets one queue fd.
  static void closeQueue(int fd);

 private:
  explicit TunDevice(const TunSettings& settings) : settings_(settings) {}
  bool create(std::string& error);
  void destroy();

  TunSettings settings_;
  int anchor_ = -1;  // a detached queue that keeps the device while generations come and go
  pid_t owner_ = 0;  // the process that created it (workers inherit the object, not the job)
  bool destroyed_ = false;
};

// Runs argv (no shell) and waits; false with `error` (the command and its exit status).
bool runCommand(const std::vector<std::string>& argv, std::string& error,
                const std::vector<std::string>& env = {});

}  // namespace manifold::tunnel
