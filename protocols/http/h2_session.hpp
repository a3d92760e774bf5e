// HTTP/2 (RFC 9113) on a client connection, through nghttp2 (framing, HPACK, flow control,
// priorities), feeding the engine's own HTTP/1.1 request handling so every site behaves the
// same over both: files, xcache, gzip, ranges, conditionals, WebDAV, the proxy, access logs.
//
// How: each HTTP/2 connection has up to 4 internal HTTP/1.1 connections to its Listener: socketless
// Connections (worker/connection.hpp "Internal") with the client's address, served by ordinary
// Sessions, made as needed. No socket, no syscall, no loop turn between a stream and its
// answer: a stream's request is rewritten as HTTP/1.1 (h2_message.hpp) and delivered into an
// internal connection with nothing queued (else a new one, else the shortest queue), so a slow
// answer does not hold up the next stream; the Session answers inside that call, and its output
// comes straight back (ConnectionPeer::take) to be parsed (proxy/response.hpp) and submitted as
// HEADERS and DATA. On one internal connection requests are pipelined in order (a request body
// follows its head, chunk-encoded when it has no length) and answered in that order. A file body
// the handler queued (Connection::queueFile) is not read there: its range is kept and the DATA
// source preads it straight into nghttp2's frame buffer, a frame at a time, so nothing is read
// whole into memory; a stream's unsent body bytes are bounded (take() refuses more, and the
// internal connection waits, as a socket would).
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
