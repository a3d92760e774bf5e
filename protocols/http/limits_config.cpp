#include "protocols/http/limits_config.hpp"

#include <cctype>
#include <chrono>
#include <cmath>

namespace manifold::http {
namespace {

using config::Millis;

constexpr Millis kHour{3600000};

Millis millis(double seconds) { return Millis(std::llround(seconds * 1000)); }

}  // namespace

ServerLimits readConnectionLimits(config::SectionReader& in, const ServerLimits& defaults) {
  ServerLimits limits = defaults;
  limits.keepaliveTimeout =
      in.seconds("keepalive_timeout", millis(defaults.keepaliveTimeout), Millis(0), kHour);
  limits.headerTimeout =
      in.seconds("client_header_timeout", millis(defaults.headerTimeout), Millis(100), kHour);
  limits.bodyTimeout =
      in.seconds("client_body_timeout", millis(defaults.bodyTimeout), Millis(100), kHour);
  limits.bodyMinRate = in.size("client_body_min_rate", defaults.bodyMinRate, 0, 1ull << 30);
  limits.sendTimeout = in.seconds("send_timeout", millis(defaults.sendTimeout), Millis(100), kHour);
  limits.keepaliveRequests = static_cast<unsigned>(
      in.integer("keepalive_requests", defaults.keepaliveRequests, 1, 100000000));
  limits.parse.maxRequestLine =
      in.size("max_request_line", defaults.parse.maxRequestLine, 256, 1 << 20);
  limits.parse.maxHeaderBytes =
      in.size("max_header_size", defaults.parse.maxHeaderBytes, 1024, 1 << 20);
  return limits;
}

void VirtualServerKeys::read(config::SectionReader& in) {
  listen = in.listen("listen", true);
  listenLine = in.lineOf("listen");
  tls.read(in, listen);
  serverNames = in.list("server_name", "");
  for (auto& name : serverNames)
    for (auto& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  defaultServer = in.flag("default_server", false);
  serverHeader = in.text("server_tokens", "manifold");
}

void VirtualServerKeys::describe(Site& site, const std::string& title, RequestHandler* handler,
                                 shm::CounterSlot counters, const ServerLimits* limits,
                                 std::span<void* const> tlsRegions) const {
  tls.describe(site, tlsRegions.size() > 0 ? tlsRegions[0] : nullptr,
               tlsRegions.size() > 1 ? tlsRegions[1] : nullptr);
  site.title = title;
  site.names = serverNames;
  site.isDefault = defaultServer;
  site.handler = handler;
  site.counters = counters;
  site.limits = limits;
  site.serverHeader = serverHeader;
}

}  // namespace manifold::http
