// The server side of the WebSocket opening handshake (RFC 6455 4.2), as pure functions over a
// parsed request: which requests ask for an upgrade, every check 4.2.1 requires, and the
// Sec-WebSocket-Accept value (base64 of SHA-1 of the key and the RFC's GUID). No extension and
// no subprotocol is ever selected. Reused by any service that accepts WebSocket clients.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/request.hpp"

namespace manifold::http::ws {

// The request carries "Upgrade: websocket" (the caller then owes it a WebSocket answer or an
// error, never a normal page).
bool wantsWebSocket(const Request& req);

struct HandshakeCheck {
  int status = 0;        // 0: accept; else the HTTP error to answer (400, 403, 426)
  const char* why = "";  // for logs and the error page
  // On 426 the answer must carry this header (4.4: the versions we speak).
  static constexpr std::string_view kVersionHeader = "Sec-WebSocket-Version: 13\r\n";
};

// 4.2.1: GET, HTTP/1.1 or later, Host, no body, Upgrade naming websocket, Connection naming
// Upgrade, a Sec-WebSocket-Key that is base64 of 16 bytes, Sec-WebSocket-Version 13 (else 426).
// `origins`: when not empty, the Origin header must equal one of them (case-insensitive),
// else 403; a request without Origin (not a browser) passes only if `origins` holds "none".
HandshakeCheck checkHandshake(const Request& req, const std::vector<std::string>& origins);

// Sec-WebSocket-Accept for `key` (28 base64 characters).
std::string acceptValue(std::string_view key);

// Lines for Exchange::switchProtocols: "Sec-WebSocket-Accept: ...\r\n".
std::string acceptHeaders(const Request& req);

// SHA-1 (FIPS 180-4) of `data` into `digest` (the handshake's only use; not for security).
void sha1(std::string_view data, unsigned char digest[20]);

}  // namespace manifold::http::ws
