// [status:NAME]: the master half (section keys in README.md). The worker half, which serves
// the shm counters as Prometheus text and JSON and the dashboard, is in service.cpp.
#pragma once

#include <memory>
#include <vector>

#include "protocols/http/server.hpp"
#include "protocols/service.hpp"
#include "worker/peer_address.hpp"

namespace manifold::status {

struct StatusConfig : ServiceConfig {
  std::vector<config::ListenAddress> listen;
  int line = 0;
  http::ServerLimits limits;
  // Clients that may read the counters (worker pids, every service's figures): loopback unless
  // configured; others get 403.
  std::vector<net::Cidr> allow;
  // The operator's page at / (dashboard.json, CSV tables): off unless asked for; its own allow
  // list (the `allow` networks unless set), so Prometheus may scrape from where people may not
  // look; the page polls every dashboardIntervalMs.
  bool dashboard = false;
  std::vector<net::Cidr> dashboardAllow;
  unsigned dashboardIntervalMs = 2000;

  std::vector<ListenRequest> listeners() const override;
  std::vector<CounterSpec> counters() const override;
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;  // service.cpp
};

}  // namespace manifold::status
