// The reusable HTTP/1.x server layer: a per-connection Session that parses requests in place,
// handles keep-alive, pipelining (every response produced from one read leaves in one send),
// request bodies (Content-Length or chunked, with 100-continue), limits and timeouts, and hands
// each request to the RequestHandler of the virtual server chosen by Host. The static file
// server, the status endpoint, and later the proxy cache and the file store sit on top of it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/chunked.hpp"
#include "protocols/http/request.hpp"
#include "protocols/service.hpp"
#include "shm/counters.hpp"
#include "worker/connection.hpp"
#include "worker/tls.hpp"

namespace manifold {
class Acceptor;
class WorkerRuntime;
class TicketKeys;
class TlsContext;
class TlsSessionCache;
struct TlsEndpoint;
}  // namespace manifold

namespace manifold::http {

class AccessLog;
class Exchange;
class Session;

// Counters every HTTP-speaking service keeps, in this order (shm stats slots).
#define MANIFOLD_HTTP_COUNTERS(X)                                                            \
  X(kRequests, "requests", Counter, "HTTP requests received")                                \
  X(kStatus1xx, "responses_1xx", Counter, "responses with a 1xx status")                     \
  X(kStatus2xx, "responses_2xx", Counter, "responses with a 2xx status")                     \
  X(kStatus3xx, "responses_3xx", Counter, "responses with a 3xx status")                     \
  X(kStatus4xx, "responses_4xx", Counter, "responses with a 4xx status")                     \
  X(kStatus5xx, "responses_5xx", Counter, "responses with a 5xx status")                     \
  X(kBytesIn, "bytes_in", Counter, "request bytes received (heads and bodies)")              \
  X(kBytesOut, "bytes_out", Counter, "response body bytes sent")                             \
  X(kConnectionsOpen, "connections_open", Gauge, "connections open now")                     \
  X(kConnectionsTotal, "connections_total", Counter, "connections accepted")                 \
  X(kCacheHits, "cache_hits", Counter, "responses served from the shared file cache")        \
  X(kCacheMisses, "cache_misses", Counter, "files not found in the shared file cache")       \
  X(kGzipResponses, "gzip_responses", Counter, "responses sent gzip-encoded")                \
  X(kSendfileResponses, "sendfile_responses", Counter, "response bodies sent with sendfile") \
  X(kRequestsIncomplete, "requests_incomplete", Counter,                                     \
    "connections closed with a request half received")                                       \
  X(kH2Streams, "h2_streams", Counter, "HTTP/2 streams opened by clients")                   \
  X(kH2ResetsReceived, "h2_resets_received", Counter, "HTTP/2 streams reset by clients")     \
  MANIFOLD_TLS_COUNTERS(X)
enum HttpCounter : unsigned { MANIFOLD_HTTP_COUNTERS(MANIFOLD_COUNTER_ENUM) kHttpCounterCount };
inline constexpr shm::CounterDef kHttpCounterDefs[] = {
    MANIFOLD_HTTP_COUNTERS(MANIFOLD_COUNTER_DEF)};
inline std::vector<CounterSpec> httpCounters() { return counterSpecs(kHttpCounterDefs); }

struct ServerLimits {
  ParseLimits parse;
  double keepaliveTimeout = 75;
  double headerTimeout = 10;
  double bodyTimeout = 60;
  uint64_t bodyMinRate = 1024;  // bytes/s a body must average after bodyTimeout; 0: no minimum
  double sendTimeout = 60;
  unsigned keepaliveRequests = 10000;
  uint64_t maxBodySize = 16 << 20;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Headers complete. Either write a whole response (ex.beginResponse ... ex.finish) or call
  // ex.acceptBody() to receive the body through onBody/onBodyEnd. Views in ex.request() are
  // valid only during this call.
  virtual void onRequest(Exchange& ex) = 0;
  virtual void onBody(Exchange&, std::string_view) {}
  virtual void onBodyEnd(Exchange&) {}
  // The body did not arrive whole (closed, timed out, malformed): undo partial work.
  virtual void onAbort(Exchange&) {}
  // The connection of an exchange parked by this handler closed: forget the exchange.
  virtual void onParkedClose(Exchange&) {}
  // A deferred exchange's output has been sent (flow control: produce more).
  virtual void onDrained(Exchange&) {}
};

// One virtual server on a listener.
struct Site {
  std::string title;               // "http:www"
  std::vector<std::string> names;  // server_name patterns: "example.com", "*.example.com", "*"
  bool isDefault = false;
  RequestHandler* handler = nullptr;
  shm::CounterSlot counters;
  const ServerLimits* limits = nullptr;
  AccessLog* accessLog = nullptr;
  std::string serverHeader = "manifold";
  // TLS (protocols/http/tls_keys.hpp): this server's certificates (null: none), which of its
  // listen addresses speak TLS (in the order of its fds), and the shm session ticket keys.
  std::shared_ptr<TlsContext> tls;
  std::vector<bool> listenTls;
  std::shared_ptr<TicketKeys> tickets;
  std::shared_ptr<TlsSessionCache> sessions;  // TLS 1.2 session IDs in shm
  double ticketRotation = 3600;
  bool http2 = true;  // ALPN offers h2 on its TLS addresses (h2_session.hpp)
  bool h2c = false;   // HTTP/2 by prior knowledge on its cleartext addresses
  bool matches(std::string_view host) const;  // host without port, lowercase
};

// Per-handler state carried across onRequest/onBody/onBodyEnd.
struct ExchangeState {
  virtual ~ExchangeState() = default;
};

class Exchange {
 public:
  const Request& request() const { return *request_; }
  Connection& connection() { return *conn_; }
  const Site& site() const { return *site_; }
  shm::CounterSlot counters() const { return site_->counters; }
  std::string& out() { return conn_->output(); }
  bool head() const { return head_; }
  int versionMinor() const { return versionMinor_; }
  // Whether this response keeps the connection: decided before any head is written (a cached
  // head chooses its Connection line from it), so a body the handler will leave unread counts.
  bool keepAlive() const { return keepAlive_ && !(bodyUnreadCloses_ && !bodyAccepted_); }
  void disableKeepAlive() { keepAlive_ = false; }
  std::string_view date() const;  // current IMF-fixdate, 29 chars, refreshed once a second

  // Status line, Server and Date. Add headers with appendHeader, then endHeaders().
  void beginResponse(int status);
  // Connection header as needed and the blank line.
  void endHeaders();
  // A complete error page (HTML body unless HEAD). Closes the connection for 4xx/5xx framing
  // errors when `close` is set.
  void sendError(int status, std::string_view extraHeaders = {}, bool close = false);
  // Records the finished response: counters, access log. `bodyBytes` as sent.
  void finish(int status, uint64_t bodyBytes);
  void acceptBody();
  // Accepts a protocol upgrade (RFC 9110 7.8: WebSocket, h2c) from onRequest: writes
  // "101 Switching Protocols" with "Connection: Upgrade", "Upgrade: <protocol>" and
  // `extraHeaders` (whole lines, each ending in CRLF), and hands the connection to `next` once
  // onRequest returns (Connection::upgrade): the socket, the bytes the client sent right after
  // this request's head, and the queued 101. The HTTP session ends there; `next` owns the
  // connection (it starts with keepalive_timeout as its idle timeout: set its own). Only for an
  // HTTP/1.1 request without a body: otherwise returns false and writes nothing (answer as usual).
  bool switchProtocols(std::string_view protocol, std::unique_ptr<ConnectionHandler> next,
                       std::string_view extraHeaders = {});
  // Instead of answering in onRequest: the answer waits for work off the loop (a gzip store
  // build). The request stays unconsumed and uncounted, later input waits behind it, and
  // resume() hands the same request to onRequest again (which may answer or park again). Call
  // resume() from the loop, outside this exchange's own callbacks; the exchange (and its
  // connection) may be gone when it returns. Graceful stop waits for parked exchanges.
  void park() { parked_ = true; }
  bool parked() const { return parked_; }
  void resume();
  // Answered later from the loop (a proxied request relayed as the upstream sends it): from
  // onRequest, after acceptBody() if a body is wanted. The request is consumed as usual (its
  // body still arrives through onBody/onBodyEnd), but the session handles no further request
  // and keeps `state` until complete(). Meanwhile the handler appends the response to out() and
  // sends it with connection().send(). complete() ends the response (keep-alive as decided by
  // keepAlive(), and the next pipelined request follows); to cut the response short instead,
  // abort the connection. If the client connection closes first, onAbort runs. complete() may
  // destroy the connection before it returns (and with it this exchange and `state`).
  void defer() { deferred_ = true; }
  bool deferred() const { return deferred_; }
  void complete();
  std::unique_ptr<ExchangeState> state;

 private:
  friend class Session;
  Session* session_ = nullptr;
  const Request* request_ = nullptr;
  Connection* conn_ = nullptr;
  const Site* site_ = nullptr;
  bool head_ = false;
  bool keepAlive_ = true;
  bool bodyAccepted_ = false;
  bool finished_ = false;
  bool bodyUnreadCloses_ = false;  // a body the handler leaves unread forces Connection: close
  bool parked_ = false;
  bool deferred_ = false;
  int versionMinor_ = 1;
  int status_ = 0;
  // Copies for the access log (a request body read after the head overwrites the input the
  // request's views point into); allocated only on sites that log, so idle connections
  // elsewhere do not carry them.
  struct LogFields {
    std::string requestLine, userAgent, referer;
  };
  std::unique_ptr<LogFields> log_;
  std::unique_ptr<ConnectionHandler> upgradeTo_;  // set by switchProtocols
};

// The sites sharing one listening socket in this worker, and its acceptor.
class Listener {
 public:
  // The listener for `fd` in this worker, created on first use.
  static Listener& forFd(WorkerRuntime& runtime, int fd);
  // `tls`: the site's address for this socket speaks TLS (every site on it agrees: the master
  // refuses a mix).
  void addSite(Site* site, bool tls = false);
  void start();
  void stop();
  const Site& route(std::string_view hostHeader) const;
  const Site& defaultSite() const { return *default_; }
  // An HTTP/1.1 session for a connection made inside the worker (the HTTP/2 gateway's, see
  // h2_session.hpp): served like any other, but not counted as a client connection.
  std::unique_ptr<ConnectionHandler> internalSession(Connection& conn);

 private:
  Listener(WorkerRuntime& runtime, int fd);
  void startTls();
  WorkerRuntime& runtime_;
  int fd_;
  std::vector<Site*> sites_;
  Site* default_ = nullptr;
  bool tls_ = false;
  std::unique_ptr<TlsEndpoint> tlsEndpoint_;  // built at start() when tls_
  std::unique_ptr<Acceptor> acceptor_;
  bool started_ = false;
};

}  // namespace manifold::http
