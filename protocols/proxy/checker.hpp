// Active health checks (health_check = GET /path interval=2s rise=2 fall=3 timeout=1s), run in
// one worker per instance (WorkerRuntime::runsInstanceTasks): every interval each backend not
// configured `down` gets one request on a fresh connection; a 2xx or 3xx status within timeout
// is a success. The verdict (down after `fall` failures in a row, up after `rise` successes)
// is kept in the shared HealthRegion, so every worker's balancer follows it. The same worker
// also publishes each backend's state as the backend_N_down gauge.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/proxy/config.hpp"
#include "protocols/proxy/health.hpp"
#include "shm/counters.hpp"
#include "worker/connector.hpp"
#include "worker/timer.hpp"

namespace manifold::proxy {

class ProxyService;

class HealthChecker {
 public:
  explicit HealthChecker(ProxyService& service);
  ~HealthChecker();
  void start();

 private:
  struct Probe;
  class Reader;
  void tick();
  void begin(Probe& p);
  void finish(Probe& p, bool ok);
  void publish();

  ProxyService& service_;
  Connector connector_;  // its own: probes never take pooled connections nor leave any
  Timer timer_;
  std::vector<std::unique_ptr<Probe>> probes_;
};

}  // namespace manifold::proxy
