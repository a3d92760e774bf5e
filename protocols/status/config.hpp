// [status:NAME]: the master half (section keys in README.md). The worker half, which serves
// the shm counters as Prometheus text and JSON, is in service.cpp.
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

  std::vector<ListenRequest> listeners() const override;
  std::vector<CounterSpec> counters() const override;
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;  // service.cpp
};

}  // namespace manifold::status
