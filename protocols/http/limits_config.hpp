// The HTTP connection keys every service on the HTTP engine takes ([http:NAME], [tracker:NAME],
// [status:NAME]): keepalive_timeout, keepalive_requests, client_header_timeout,
// client_body_timeout, client_body_min_rate, send_timeout, max_request_line, max_header_size.
// Parsed here once, with one set of names, ranges and messages. Also the keys of a virtual
// server on the engine's shared listeners ([http:NAME], [proxy:NAME]).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "master/section_reader.hpp"
#include "protocols/http/server.hpp"
#include "protocols/http/tls_keys.hpp"

namespace manifold::http {

// `defaults` with every connection key the section sets; maxBodySize is left as it is (only the
// static site takes bodies: client_max_body_size is its own key).
ServerLimits readConnectionLimits(config::SectionReader& in, const ServerLimits& defaults = {});

// A virtual server's keys: listen, server_name (lowercased), default_server, server_tokens.
// Sections whose config holds these share listeners by Host (listenShareGroup "http").
struct VirtualServerKeys {
  std::vector<config::ListenAddress> listen;
  int listenLine = 0;
  std::vector<std::string> serverNames;
  bool defaultServer = false;
  std::string serverHeader = "manifold";
  TlsKeys tls;  // listen = ADDR:PORT tls, tls_* keys

  void read(config::SectionReader& in);
  // Fills the engine's Site for these keys. `tlsRegions`: the mapped tls.regions(), if the
  // service asked for them (without them, TLS works but without session resumption).
  void describe(Site& site, const std::string& title, RequestHandler* handler,
                shm::CounterSlot counters, const ServerLimits* limits,
                std::span<void* const> tlsRegions = {}) const;
};

}  // namespace manifold::http
