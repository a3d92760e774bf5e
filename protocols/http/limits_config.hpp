// The HTTP connection keys every service on the HTTP engine takes ([http:NAME], [tracker:NAME],
// [status:NAME]): keepalive_timeout, keepalive_requests, client_header_timeout,
// client_body_timeout, client_body_min_rate, send_timeout, max_request_line, max_header_size.
// Parsed here once, with one set of names, ranges and messages.
#pragma once

#include "master/section_reader.hpp"
#include "protocols/http/server.hpp"

namespace manifold::http {

// `defaults` with every connection key the section sets; maxBodySize is left as it is (only the
// static site takes bodies: client_max_body_size is its own key).
ServerLimits readConnectionLimits(config::SectionReader& in, const ServerLimits& defaults = {});

}  // namespace manifold::http
