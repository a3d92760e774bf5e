// HTTP/2 (RFC 9113) on a client connection, through nghttp2 (framing, HPACK, flow control,
// priorities), feeding the engine's own HTTP/1.1 request handling so every site behaves the
// same over both: files, xcache, gzip, ranges, conditionals, WebDAV, the proxy, access logs.
//
// How: each HTTP/2 connection has one internal HTTP/1.1 connection to its Listener, over a
// socketpair (a Connection with the client's address, served by an ordinary Session). A
// stream's request is rewritten as HTTP/1.1 (h2_message.hpp) and written to it in stream order
// (pipelining; a request body follows its head, chunk-encoded when it has no length); the
// responses come back in the same order, are parsed (proxy/response.hpp) and submitted as
// HEADERS and DATA on their streams. File bodies cross the socketpair by sendfile; nothing is
// read whole into memory, and a stream's unsent body is bounded (reading the socketpair pauses).
//
// Defences (bounded cost per connection): at most kMaxConcurrentStreams open streams and
// kMaxQueued requests queued on the internal connection (more are refused with REFUSED_STREAM);
// request header fields bounded by max_header_size (decoded bytes, so HPACK bombs and
// CONTINUATION floods end with the stream); request bodies through a 64 KiB window that opens
// only as the body is handed on; SETTINGS and PING floods bounded by nghttp2's own limits
// (max_settings, max_outbound_ack); streams reset faster than they complete (rapid reset,
// CVE-2023-44487) end the connection with ENHANCE_YOUR_CALM. GOAWAY is sent when the worker
// drains (reload, QUIT): streams in flight finish, new ones go elsewhere.
#pragma once

#include <memory>

#include "worker/connection.hpp"

namespace manifold::http {

class Listener;

// The handler that takes over a connection whose ALPN chose h2.
std::unique_ptr<ConnectionHandler> makeH2Session(Listener& listener, Connection& conn);

}  // namespace manifold::http
