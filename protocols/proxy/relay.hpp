// One proxied request in flight: picks a backend, sends the request head and streams the body
// up, parses the response head and streams the body down, retries while nothing has reached
// the client, and ends with the client's exchange completed (or its connection cut).
//
// States: Idle -> Connecting -> Waiting (request sent, response head awaited) -> Streaming
// (response body) -> Done. A failure in Connecting/Waiting retries on the next backend when
// the request is idempotent, no request body byte left for a backend, tries remain and
// retry_timeout has not passed; a stale pooled connection (the connector says `reused`) is
// retried once on a fresh connection to the same backend without counting as a try. Otherwise
// the client gets 502 (no valid response), 503 (no backend available) or 504 (read_timeout).
// A failure while Streaming cuts the client connection: a short body must not look complete.
//
// Flow control (bounded buffers both ways): while the client's output holds more than
// kHighWater the upstream is not read; while the upstream's output (request body) holds more
// than kHighWater the client is not read. Both resume when the other side drains.
//
// The cache (cache_front.hpp): a relay may fill the cache while it relays (CacheFill tees the
// body), revalidate a stale object (a 304 is answered from the updated object), answer stale
// when the backend fails within stale-if-error, or run with no client at all (a background
// refresh, or a fill whose client left: the object is still completed for the others).
//
// Lifetime: relays belong to the service (a free list: no allocation per request once warm).
// Every entry from the outside (connector, upstream connection, timer, client exchange)
// holds an Entry guard; a finished relay goes back to the pool only when the last one returns.
#pragma once

#include <cstdint>
#include <string>

#include "protocols/http/server.hpp"
#include "protocols/proxy/balancer.hpp"
#include "protocols/proxy/body_reader.hpp"
#include "protocols/proxy/cache_fill.hpp"
#include "protocols/proxy/cache_front.hpp"
#include "protocols/proxy/response.hpp"
#include "protocols/proxy/splice_body.hpp"
#include "worker/connector.hpp"
#include "worker/timer.hpp"

namespace manifold::proxy {

class ProxyService;
class Relay;

// The exchange's hold on its relay (Exchange::state): cleared by the relay when it lets go of
// the exchange, so a later onBody or onAbort for that exchange finds nothing.
struct Link : http::ExchangeState {
  Relay* relay = nullptr;
};

class Relay {
 public:
  static constexpr size_t kHighWater = 256 * 1024;
  // Content-Length bodies from this size on go by splice(2) when nothing needs their bytes
  // (no cache fill, plain TCP both ways, HTTP/1.x client, not re-chunked): splice_body.hpp.
  static constexpr uint64_t kSpliceMin = 64 * 1024;

  explicit Relay(ProxyService& service);
  ~Relay();

  // From onRequest (views of the request are valid only now). `cache` is swapped in (the
  // caller gets back this relay's old buffers). A background request answers no client: `ex`
  // only supplies the request.
  void start(http::Exchange& ex, Link* link, CacheRequest& cache);
  // The client side: body bytes, body end, drained output, connection gone.
  void clientBody(std::string_view data);
  void clientBodyEnd();
  void clientDrained();
  void clientGone();

  // The upstream connection's handler.
  void upstreamReadable(Connection& conn);
  void upstreamDrained(Connection& conn);
  void upstreamClosed(Connection& conn);

 private:
  enum class Stage : uint8_t { Idle, Connecting, Waiting, Streaming, Done };
  class Entry;
  class UpstreamHandler;

  void tryNext();
  void connectTo(int backend, bool fresh);
  std::unique_ptr<ConnectionHandler> connected(const ConnectOutcome& outcome);
  // A try failed before the response head arrived; `timedOut` for read_timeout.
  void tryFailed(bool timedOut, bool backendFault);
  void failClient(int status);
  void headArrived(Connection& conn, size_t consumed);
  void pumpBody(Connection& conn);
  void finishResponse(Connection& conn);
  void endResponse(bool reusable);
  void detachClient();
  void cutClient();
  void releaseUpstream(bool reusable);
  void sendToUpstream(std::string_view data);
  void flowControl();
  void done();
  // The relay is done with the backend: no more reading, the connection pooled or closed.
  void finishUpstream(bool reusable);
  void reset();
  bool filling() const { return fill_ && fill_->active(); }
  void endFill(bool stored);
  void notModified(Connection& conn);
  bool staleOnError();
  bool clientNotModified() const;
  void writeDownstreamHead();
  void deliver(std::string_view data);  // body bytes: to the fill and the client
  bool spliceable() const;
  void startSplice(bool now);
  void spliceEvent(SpliceBody::Event e);

  ProxyService& service_;
  http::Exchange* ex_ = nullptr;  // null once the client connection is gone or completed
  Connection* client_ = nullptr;
  Link* link_ = nullptr;
  Connection* up_ = nullptr;
  UpstreamHandler* handler_ = nullptr;  // up_'s handler, told when the relay lets go
  Connector::Id connecting_ = 0;
  Timer readTimer_;
  Stage stage_ = Stage::Idle;
  int backend_ = -1;
  Tried tried_;
  unsigned tries_ = 0;
  double firstTry_ = 0;
  bool reused_ = false;
  bool staleRetried_ = false;
  bool idempotent_ = false;
  bool headRequest_ = false;
  bool hasBody_ = false;
  bool bodyChunkedUp_ = false;  // the request body goes up chunked (it came chunked)
  bool bodyDone_ = false;       // the client's body has arrived whole
  bool bodySent_ = false;       // a body byte was handed to an upstream connection
  bool chunkedDown_ = false;    // the response goes down re-chunked
  bool closeDown_ = false;      // the response ends with the client connection's close
  bool upstreamKeepAlive_ = false;
  bool active_ = false;
  bool hostMissing_ = false;  // no Host from the client: the backend's address is sent
  int lastStatus_ = 502;      // counted in the backend's in-flight count
  unsigned depth_ = 0;
  std::string key_;      // the balancing key (client address bytes or URI)
  std::string head_;     // the request head sent upstream (kept for retries)
  std::string pending_;  // request body bytes waiting for an upstream connection
  ResponseHead response_;
  BodyReader body_;  // the response body's framing and progress
  SpliceBody splice_;
  bool spliceWanted_ = false;  // the rest of the body goes by splice once the client drained
  bool pumping_ = false;       // inside pumpBody: it starts the splice itself
  uint64_t splicedCounted_ = 0;
  uint64_t bodyBytes_ = 0;  // response body bytes relayed
  CacheRequest cache_;
  std::unique_ptr<CacheFill> fill_;  // created on the first cached request
  bool clientHeadOnly_ = false;      // a HEAD client on a GET fill: the body is not relayed
  bool unsafeMethod_ = false;
  double sentAt_ = 0;  // when the request went to the backend (latency counter)
  time_t requestTime_ = 0;
  std::string clientIfNoneMatch_, clientIfModifiedSince_;  // a fill's client conditionals
};

}  // namespace manifold::proxy
