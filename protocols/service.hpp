// The small interface every protocol plugs in through, and the registry.
//
// A protocol has two halves:
//  - master half (ServiceConfig): built from one `[protocol:name]` section by the protocol's
//    parse function, validated once, and declaring what it needs — listen sockets, shm regions,
//    counters — without calling socket() or mmap() itself;
//  - worker half (Service): created after fork in each worker from the inherited fds and the
//    mapped regions; attaches watchers to the worker's libev loop, drains on request and says
//    when it is idle.
// A protocol registers itself with one line in its own folder:
//     MANIFOLD_PROTOCOL("http", parseHttpSection);
// master/ and worker/ never switch on protocol names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "master/section_reader.hpp"
#include "shm/counters.hpp"

struct ev_loop;

namespace manifold {

namespace shm {
class Segment;
}
class WorkerRuntime;

enum class Transport : uint8_t { Tcp, Udp };

struct ListenRequest {
  config::ListenAddress address;
  Transport transport = Transport::Tcp;
  int line = 0;  // config line, for conflict errors
};

// A named region of the shared segment. Kept across reloads when name, layout and bytes are
// unchanged (then init is called with adopted = true and must not wipe it); otherwise it starts
// fresh and the master logs so. `layout` should include sizeof() of the structures stored.
struct RegionRequest {
  std::string name;  // unique in the segment, e.g. "http:www/xcache"
  std::string layout;
  size_t bytes = 0;
  std::function<void(void* base, size_t bytes, bool adopted)> init;
  std::string sizeKey;  // the config key that sets `bytes` (named when shm_size is too small)
};

using shm::CounterKind;

// One per-worker 64-bit counter; summed over workers by readers. Built from the protocol's
// counter table (shm/counters.hpp) by counterSpecs(), or by hand for dynamic ones.
struct CounterSpec {
  // A constructor rather than an aggregate: {name, kind} without help stays warning-free.
  CounterSpec(std::string n, CounterKind k = CounterKind::Counter, std::string h = {})
      : name(std::move(n)), kind(k), help(std::move(h)) {}
  std::string name;  // snake_case, e.g. "requests_2xx"
  CounterKind kind = CounterKind::Counter;
  std::string help;  // one line, shown as `# HELP` by the status service
};

// Appends one CounterSpec per row of `table`, in order (the order of the table's enum).
inline void appendCounters(std::vector<CounterSpec>& out, std::span<const shm::CounterDef> table) {
  for (const shm::CounterDef& d : table)
    out.push_back({std::string(d.name), d.kind, std::string(d.help)});
}
inline std::vector<CounterSpec> counterSpecs(std::span<const shm::CounterDef> table) {
  std::vector<CounterSpec> out;
  appendCounters(out, table);
  return out;
}

// What a service gets in its worker.
struct ServiceContext {
  struct ev_loop* loop = nullptr;
  unsigned workerIndex = 0;  // 0..workers-1 (instance-wide tasks: runtime->runsInstanceTasks())
  unsigned workerCount = 1;
  // This worker's stats slot: unique among live workers of every generation (a respawn reuses a
  // dead worker's), so per-worker shm state keyed by it is never shared.
  unsigned slot = 0;
  std::vector<int> fds;              // this worker's socket for each listeners() entry, same order
  std::vector<void*> regions;        // base of each regions() entry, same order
  shm::CounterSlot counters;         // this worker's slot, indexed like counters()
  WorkerRuntime* runtime = nullptr;  // shared worker building blocks (clock, buffers, log)
  shm::Segment* segment = nullptr;
};

// Worker half.
class Service {
 public:
  virtual ~Service() = default;
  virtual void start() = 0;             // attach watchers
  virtual void stopAccepting() = 0;     // graceful stop: no new connections/sessions
  virtual void closeIdle() {}           // graceful stop: close connections with nothing in flight
  virtual size_t inFlight() const = 0;  // connections/transfers still busy; 0 = may exit
  virtual void reopenLogs() {}
};

// Master half: the validated config of one section.
class ServiceConfig {
 public:
  virtual ~ServiceConfig() = default;
  std::string protocol;  // "http"
  std::string name;      // "www"
  std::string title() const { return protocol + ":" + name; }
  // Stats slots of the instance (set by the config loader, before regions() is asked): per-worker
  // shm state indexed by ServiceContext::slot needs this many entries.
  unsigned workerSlots = 0;

  virtual std::vector<ListenRequest> listeners() const = 0;
  virtual std::vector<RegionRequest> regions() const { return {}; }
  // Services returning the same non-empty group may list the exact same listen address: the
  // protocol then multiplexes them on one socket (HTTP virtual servers). Others conflict.
  virtual std::string listenShareGroup() const { return {}; }
  virtual std::vector<CounterSpec> counters() const = 0;
  // Called by the master (never by `manifold -t`) before it forks a generation, while it still
  // has its privileges: open what workers cannot after dropping them (raw ICMP sockets).
  // Failures should be logged and degrade the service, not throw.
  virtual void acquirePrivileged() {}
  // Files the workers append to (access logs). The master creates each one and gives it to the
  // worker user before workers start and again before they reopen logs (USR1), as nginx does,
  // so logs may live in a directory only root can write.
  virtual std::vector<std::string> logFiles() const { return {}; }
  // Directories the workers write to (a cache's disk tier): the master creates them and gives
  // them to the worker user, as for logFiles().
  virtual std::vector<std::string> workerDirectories() const { return {}; }
  virtual std::unique_ptr<Service> createService(ServiceContext& ctx) const = 0;
};

// The requests for `addresses` from a `listen` key: per address, UDP (if udp) then TCP (if tcp),
// at the address's own line (`line` for one without). Services index ServiceContext::fds in this
// order.
std::vector<ListenRequest> listenRequests(const std::vector<config::ListenAddress>& addresses,
                                          int line, bool udp, bool tcp);

// Parses and validates one section; throws config::ConfigError.
using ProtocolParser = std::unique_ptr<ServiceConfig> (*)(config::SectionReader&);

struct ProtocolRegistrar {
  ProtocolRegistrar(const char* name, ProtocolParser parse);
};
ProtocolParser findProtocol(std::string_view name);
std::vector<std::string> protocolNames();

#define MANIFOLD_PROTOCOL_CAT2(a, b) a##b
#define MANIFOLD_PROTOCOL_CAT(a, b) MANIFOLD_PROTOCOL_CAT2(a, b)
#define MANIFOLD_PROTOCOL(NAME, PARSE)                                                           \
  static ::manifold::ProtocolRegistrar MANIFOLD_PROTOCOL_CAT(protocolRegistrar_, __LINE__)(NAME, \
                                                                                           PARSE)

}  // namespace manifold
