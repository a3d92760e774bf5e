// [status:NAME] section: listen (TCP only), allow (client networks, loopback by default) and
// the HTTP connection limits every HTTP service
// shares (http::readConnectionLimits). Its own HTTP requests are counted with the HTTP layer's
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
  return status;
}

}  // namespace

MANIFOLD_PROTOCOL("status", parseStatusSection);

}  // namespace manifold::status
