// [status:NAME] section: listen (TCP only) and keepalive_timeout. Its own HTTP requests are
// counted with the HTTP layer's counters.
#include "protocols/status/config.hpp"

#include <chrono>

namespace manifold::status {

std::vector<ListenRequest> StatusConfig::listeners() const {
  return listenRequests(listen, line, false, true);
}

std::vector<CounterSpec> StatusConfig::counters() const { return http::httpCounters(); }

namespace {

std::unique_ptr<ServiceConfig> parseStatusSection(config::SectionReader& in) {
  auto status = std::make_unique<StatusConfig>();
  status->listen = in.listen("listen");
  status->line = in.lineOf("listen");
  auto seconds = [](config::Millis m) { return std::chrono::duration<double>(m).count(); };
  status->limits.keepaliveTimeout = seconds(in.duration(
      "keepalive_timeout", config::Millis(75000), config::Millis(0), config::Millis(3600000)));
  return status;
}

}  // namespace

MANIFOLD_PROTOCOL("status", parseStatusSection);

}  // namespace manifold::status
