// [status:NAME] section: listen (TCP only), allow (client networks, loopback by default), the
// dashboard keys and the HTTP connection limits every HTTP service shares
// (http::readConnectionLimits). Its own HTTP requests are counted with the HTTP layer's
// counters.
#include "protocols/status/config.hpp"

#include "protocols/http/limits_config.hpp"

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
  status->limits = http::readConnectionLimits(in);
  status->allow = in.networks("allow", "127.0.0.0/8 ::1");
  status->dashboard = in.flag("dashboard", false);
  status->dashboardAllow =
      in.has("dashboard_allow") ? in.networks("dashboard_allow", "") : status->allow;
  status->dashboardIntervalMs =
      static_cast<unsigned>(in.duration("dashboard_interval", config::Millis(2000),
                                        config::Millis(500), config::Millis(60000))
                                .count());
  return status;
}

}  // namespace

MANIFOLD_PROTOCOL("status", parseStatusSection);

}  // namespace manifold::status
