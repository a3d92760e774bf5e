// What the proxy changes in the heads it relays (pure functions, unit-tested):
//  - hop-by-hop fields are dropped both ways (RFC 9110 7.6.1): Connection and every field it
//    names, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding (each side is re-framed),
//    Upgrade, Trailer, Proxy-Authorization, Proxy-Authenticate;
//  - upstream: the request line in origin-form as HTTP/1.1, Host passed through (the
//    authority of an absolute-form target; the caller adds one when the client sent none),
//    X-Forwarded-For appended to, X-Forwarded-Proto set, Forwarded (RFC 7239) appended to; Expect
//    is dropped (the proxy answers 100-continue itself and sends the body anyway);
//  - downstream: the upstream's status, reason and end-to-end fields; the caller adds framing
//    and Connection.
#pragma once

#include <string>
#include <string_view>

#include "protocols/http/request.hpp"
#include "protocols/proxy/response.hpp"
#include "worker/peer_address.hpp"

namespace manifold::proxy {

// True for a field that never crosses the proxy, given the message's Connection values
// (`connection[0..count)`, each a comma-separated list).
bool hopByHop(std::string_view name, const std::string_view* connection, size_t count);
// The same for a field of `response`, against every Connection line it has.
bool hopByHop(std::string_view name, const ResponseHead& response);

// The request head for the backend, without its final empty line (framing follows: the
// caller appends Content-Length or Transfer-Encoding, a Host when r.host is empty, then CRLF).
// `cacheFill`: the cache fetches the whole object for itself: GET instead of HEAD, and the
// client's conditional and range fields are left out (the cache answers them).
// `target`, when not empty, replaces the request's target (protocols/fs adds the stage);
// `date`, when not empty, replaces the client's Date field (protocols/fs stamps one Date on
// every copy of a file).
void appendUpstreamHead(std::string& out, const http::Request& r, const net::PeerAddress& client,
                        bool cacheFill = false, std::string_view target = {},
                        std::string_view date = {});

// The response head for the client without framing, Connection and the final empty line.
void appendDownstreamHead(std::string& out, const ResponseHead& h, int clientVersionMinor);

}  // namespace manifold::proxy
