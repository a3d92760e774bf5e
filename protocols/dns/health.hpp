// Health checks for failover pools: TCP connect, HTTP GET expecting a status, ICMP echo.
// Probes run only in the worker that runs instance tasks, non-blocking on its loop (TCP and HTTP
// through worker/connector.hpp, timers and the ICMP sockets through the worker kit), and write
// up/down into the HealthSlot array in shm (see zone_db.hpp) so every worker answers the same. A
// target goes down after `fall` consecutive failures and up again after `rise` successes; it starts
// up. Each change is logged.
//
// ICMP: a raw socket needs CAP_NET_RAW and workers drop privileges before services start, so
// the master opens it while parsing the config (IcmpSocket, inherited over fork). Without it,
// probes use an unprivileged ping socket (SOCK_DGRAM/IPPROTO_ICMP, net.ipv4.ping_group_range)
// opened per probe; when neither works the target is reported down and the log says why.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/dns/zone_db.hpp"
#include "shm/counters.hpp"
#include "worker/connector.hpp"
#include "worker/io_watcher.hpp"

namespace manifold::dns {

enum class CheckKind : uint8_t { Tcp, Http, Icmp };

struct HealthTarget {
  std::string text;  // "127.0.0.1 tcp:80", for logs and counter names
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  CheckKind kind = CheckKind::Tcp;
  uint16_t port = 0;
  std::string path = "/";
  int expectStatus = 200;
  double interval = 2.0, timeout = 1.0;
  unsigned rise = 2, fall = 2;
};

// A raw ICMP socket opened in the master (before privileges are dropped); closed with the
// config that owns it.
struct IcmpSocket {
  int fd = -1;
  std::string error;  // why it could not be opened
  IcmpSocket();
  ~IcmpSocket();
};

class Prober {
 public:
  Prober(WorkerRuntime& runtime, const std::string& title, const std::vector<HealthTarget>& targets,
         HealthSlot* slots, shm::CounterSlot gauges, shm::CounterSlot probeResults, int rawIcmpFd);
  ~Prober();
  void start();
  void stop();

 private:
  struct Probe;
  class StatusReader;
  void begin(Probe& p);
  void beginIcmp(Probe& p);
  void beginTcp(Probe& p);
  void finish(Probe& p, bool ok, const char* why);
  void judgeStatus(Probe& p, std::string_view response);
  void onPingReply(Probe& p);
  void onRawIcmp();

  WorkerRuntime& runtime_;
  Connector connector_;  // no pooling: checks close after each probe
  std::string title_;
  const std::vector<HealthTarget>& targets_;
  HealthSlot* slots_;
  shm::CounterSlot gauges_;        // two per target: up, last check (unix seconds)
  shm::CounterSlot probeResults_;  // [0] good checks, [1] failed checks
  int rawFd_;
  IoWatcher rawIo_;
  std::vector<std::unique_ptr<Probe>> probes_;
  bool started_ = false;
};

}  // namespace manifold::dns
