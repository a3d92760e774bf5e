// HTTP/2 (RFC 9113) on a client connection, through nghttp2 (framing, HPACK, flow control,
// priorities), feeding the engine's own HTTP/1.1 request handling so every site behaves the
// same over both: files, xcache, gzip, ranges, conditionals, WebDAV, the proxy, access logs.
//
// How: each HTTP/2 connection has up to 4 internal HTTP/1.1 connections to its Listener, over
// socketpairs (Connections with the client's address, served by ordinary Sessions), made as
// needed. A stream's request is rewritten as HTTP/1.1 (h2_message.hpp) and goes to an internal
// connection with nothing queued (else a new one, else the shortest queue), so a slow answer
// does not hold up the next stream; on one internal connection requests are pipelined in order
// (a request body follows its head, chunk-encoded when it has no length), and the responses
// come back in that order, are parsed (proxy/response.hpp) and submitted as HEADERS and DATA. File
// bodies cross the socketpair by sendfile; nothing is read whole into memory, and a stream's unsent
// body is bounded (reading the socketpair pauses).
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
