#include "protocols/proxy/relay.hpp"

#include <cerrno>

#include "protocols/http/response.hpp"
#include "protocols/proxy/forward.hpp"
#include "protocols/proxy/service.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::proxy {

// Every call from outside holds one; the last to return recycles a finished relay.
class Relay::Entry {
 public:
  explicit Entry(Relay& r) : r_(r) { ++r_.depth_; }
  ~Entry() {
    if (--r_.depth_ == 0 && r_.stage_ == Stage::Done) {
      r_.reset();
      r_.service_.recycle(&r_);
    }
  }

 private:
  Relay& r_;
};

class Relay::UpstreamHandler : public ConnectionHandler {
 public:
  explicit UpstreamHandler(Relay& r) : relay(&r) {}
  void onReadable(Connection& conn) override {
    if (relay) relay->upstreamReadable(conn);
  }
  void onDrained(Connection& conn) override {
    if (relay) relay->upstreamDrained(conn);
  }
  void onClose(Connection& conn) override {
    if (relay) relay->upstreamClosed(conn);
  }
  bool busy() const override { return relay != nullptr; }
  Relay* relay;
};

Relay::Relay(ProxyService& service)
    : service_(service), readTimer_(service.runtime().loop(), [this] {
        Entry e(*this);
        if (stage_ == Stage::Waiting) {
          tryFailed(true, true);
        } else if (stage_ == Stage::Streaming) {
          cutClient();
        }
      }) {}

Relay::~Relay() {
  detachClient();  // a client connection that outlives the service finds no relay
  if (connecting_) service_.connector().cancel(connecting_);
  releaseUpstream(false);
}

void Relay::reset() {
  ex_ = nullptr;
  client_ = nullptr;
  link_ = nullptr;
  stage_ = Stage::Idle;
  backend_ = -1;
  tried_.reset();
  tries_ = 0;
  reused_ = staleRetried_ = idempotent_ = headRequest_ = hasBody_ = false;
  bodyChunkedUp_ = bodyDone_ = bodySent_ = chunkedDown_ = closeDown_ = false;
  upstreamKeepAlive_ = false;
  hostMissing_ = false;
  lastStatus_ = 502;
  key_.clear();
  head_.clear();
  pending_.clear();
  remaining_ = bodyBytes_ = 0;
  chunked_.reset();
}

void Relay::start(http::Exchange& ex, Link* link) {
  Entry e(*this);
  ex_ = &ex;
  link_ = link;
  client_ = &ex.connection();
  const http::Request& r = ex.request();
  using http::Method;
  idempotent_ = r.method == Method::Get || r.method == Method::Head || r.method == Method::Put ||
                r.method == Method::Delete || r.method == Method::Options;
  headRequest_ = r.method == Method::Head;
  hasBody_ = r.chunked || r.contentLength > 0;
  bodyChunkedUp_ = r.chunked;
  bodyDone_ = !hasBody_;
  const ProxyConfig& config = service_.config();
  if (config.balance == Balance::IpHash) {
    net::PeerAddress a = net::peerAddress(client_->peerAddress());
    key_.assign(reinterpret_cast<const char*>(a.raw()), a.rawLength());
  } else if (config.balance == Balance::Hash) {
    key_.assign(r.target);
  }
  appendUpstreamHead(head_, r, net::peerAddress(client_->peerAddress()));
  hostMissing_ = r.host.empty();
  if (bodyChunkedUp_) {
    head_.append("Transfer-Encoding: chunked\r\n");
  } else if (r.contentLength >= 0) {
    http::appendHeader(head_, "Content-Length", static_cast<uint64_t>(r.contentLength));
  }
  service_.counters().inc(kProxied);
  ex.defer();
  if (hasBody_) ex.acceptBody();
  firstTry_ = service_.runtime().loopTime();
  tryNext();
}

void Relay::tryNext() {
  if (!ex_) return done();
  const ProxyConfig& config = service_.config();
  if (tries_ > 0) {
    if (tries_ > config.retries || !idempotent_ || bodySent_ ||
        service_.runtime().loopTime() - firstTry_ > config.retryTimeout)
      return failClient(lastStatus_);
  }
  int b = service_.balancer().pick(key_, tried_, clock::monotonicMs());
  if (b < 0) return failClient(tries_ == 0 ? 503 : lastStatus_);
  tried_.set(static_cast<size_t>(b));
  if (tries_++ > 0) service_.counters().inc(kRetries);
  staleRetried_ = false;
  connectTo(b, false);
}

void Relay::connectTo(int backend, bool fresh) {
  backend_ = backend;
  stage_ = Stage::Connecting;
  const ProxyConfig& config = service_.config();
  const config::ListenAddress& a = config.backends[backend].address;
  ConnectOptions options;
  options.connectTimeout = config.connectTimeout;
  options.readTimeout = 0;  // read_timeout is this relay's own timer (a timeout is a 504)
  options.sendTimeout = config.upstreamSendTimeout;
  options.fresh = fresh || config.keepaliveIdle == 0;
  Connector::Id id = service_.connector().connect(
      reinterpret_cast<const sockaddr*>(&a.addr), a.len, options,
      [this](const ConnectOutcome& outcome) -> std::unique_ptr<ConnectionHandler> {
        Entry e(*this);
        connecting_ = 0;
        return connected(outcome);
      });
  if (id != 0) connecting_ = id;  // 0: the callback already ran (and may have connected again)
}

std::unique_ptr<ConnectionHandler> Relay::connected(const ConnectOutcome& outcome) {
  shm::CounterSlot c = service_.counters();
  if (!outcome.connection) {
    c.inc(kConnectFailures);
    LOG_DEBUG("[%s] backend %s: %s", service_.config().title().c_str(),
              service_.config().backends[backend_].address.text.c_str(), strerror(outcome.error));
    tryFailed(outcome.error == ETIMEDOUT, true);
    return nullptr;
  }
  if (!ex_) {
    stage_ = Stage::Done;
    return nullptr;
  }
  up_ = outcome.connection;
  reused_ = outcome.reused;
  c.inc(reused_ ? kReused : kConnects);
  c.inc(kActive);
  service_.backendCounters(backend_).inc(kBackendRequests);
  if (service_.health()) service_.health()->begin(backend_);
  active_ = true;
  stage_ = Stage::Waiting;
  std::string& out = up_->output();
  out.append(head_);
  if (hostMissing_)
    http::appendHeader(out, "Host", service_.config().backends[backend_].address.text);
  out.append("\r\n");
  c.add(kBytesToUpstream, head_.size());
  if (!pending_.empty()) {
    out.append(pending_);
    c.add(kBytesToUpstream, pending_.size());
    pending_.clear();
    bodySent_ = true;
  }
  if (client_) client_->pauseReading(false);
  readTimer_.once(service_.config().readTimeout);
  auto handler = std::make_unique<UpstreamHandler>(*this);
  handler_ = handler.get();
  return handler;
}

void Relay::tryFailed(bool timedOut, bool backendFault) {
  lastStatus_ = timedOut ? 504 : 502;
  readTimer_.stop();
  releaseUpstream(false);
  if (backendFault && backend_ >= 0) {
    const BackendConfig& b = service_.config().backends[backend_];
    service_.backendCounters(backend_).inc(kBackendFailures);
    if (service_.health() && service_.health()->recordFailure(
                                 backend_, b.maxFails, static_cast<uint64_t>(b.failTimeout * 1000),
                                 clock::monotonicMs()))
      LOG_WARN("[%s] backend %s failed %u time(s) within %.0fs: not chosen for %.0fs",
               service_.config().title().c_str(), b.address.text.c_str(), b.maxFails, b.failTimeout,
               b.failTimeout);
  }
  tryNext();
}

void Relay::detachClient() {
  ex_ = nullptr;
  client_ = nullptr;
  if (link_) link_->relay = nullptr;
  link_ = nullptr;
}

void Relay::failClient(int status) {
  stage_ = Stage::Done;
  readTimer_.stop();
  releaseUpstream(false);
  shm::CounterSlot c = service_.counters();
  c.inc(status == 503 ? kUnavailable : status == 504 ? kGatewayTimeout : kBadGateway);
  if (!ex_) return;
  http::Exchange* ex = ex_;
  detachClient();
  ex->sendError(status);
  ex->complete();  // may destroy the client connection
}

void Relay::upstreamReadable(Connection& conn) {
  Entry e(*this);
  if (stage_ == Stage::Waiting) {
    readTimer_.once(service_.config().readTimeout);
    std::string_view input = conn.pendingInput();
    ResponseParse p = parseResponse(input, response_, headRequest_);
    if (p.status == ResponseStatus::Incomplete) return;
    service_.counters().add(kBytesFromUpstream, p.consumed);
    if (p.status == ResponseStatus::Error) {
      LOG_WARN("[%s] backend %s: malformed response head", service_.config().title().c_str(),
               service_.config().backends[backend_].address.text.c_str());
      // Not retried: the backend may have acted on the request.
      service_.backendCounters(backend_).inc(kBackendFailures);
      return failClient(502);
    }
    headArrived(conn, p.consumed);
    if (stage_ != Stage::Streaming) return;
  }
  if (stage_ == Stage::Streaming) {
    readTimer_.once(service_.config().readTimeout);
    pumpBody(conn);
  }
}

void Relay::headArrived(Connection& conn, size_t consumed) {
  conn.consume(consumed);
  stage_ = Stage::Streaming;
  framing_ = response_.framing;
  upstreamKeepAlive_ = response_.keepAlive;
  std::string& out = ex_->out();
  appendDownstreamHead(out, response_, ex_->versionMinor());
  switch (framing_) {
    case Framing::None:  // HEAD and 304 keep the length the body would have had
      if (response_.contentLength >= 0 && response_.status != 204)
        http::appendHeader(out, "Content-Length", static_cast<uint64_t>(response_.contentLength));
      break;
    case Framing::Length:
      remaining_ = static_cast<uint64_t>(response_.contentLength);
      http::appendHeader(out, "Content-Length", remaining_);
      break;
    case Framing::Chunked:
    case Framing::Close:
      if (ex_->versionMinor() == 1) {
        chunkedDown_ = true;
        out.append("Transfer-Encoding: chunked\r\n");
      } else {
        closeDown_ = true;  // an HTTP/1.0 client learns the end from the close
        ex_->disableKeepAlive();
      }
      break;
  }
  ex_->endHeaders();
}

void Relay::pumpBody(Connection& conn) {
  std::string& out = ex_->out();
  std::string_view input = conn.pendingInput();
  shm::CounterSlot c = service_.counters();
  c.add(kBytesFromUpstream, input.size());
  bool end = false;
  switch (framing_) {
    case Framing::None:
      end = true;
      break;
    case Framing::Length: {
      size_t n = std::min<uint64_t>(input.size(), remaining_);
      out.append(input.substr(0, n));
      conn.consume(n);
      remaining_ -= n;
      bodyBytes_ += n;
      end = remaining_ == 0;
      if (input.size() > n) upstreamKeepAlive_ = false;  // bytes past the body: not reusable
      break;
    }
    case Framing::Chunked:
      while (!input.empty()) {
        size_t used = 0;
        std::string_view data;
        auto st = chunked_.feed(input, used, data);
        input.remove_prefix(used);
        conn.consume(used);
        bodyBytes_ += data.size();
        if (chunkedDown_) {
          http::appendChunk(out, data);
        } else {
          out.append(data);
        }
        if (st == http::ChunkedDecoder::Status::Error) return cutClient();
        if (st == http::ChunkedDecoder::Status::Done) {
          end = true;
          if (!input.empty()) upstreamKeepAlive_ = false;
          break;
        }
        if (data.empty()) break;
      }
      break;
    case Framing::Close:
      bodyBytes_ += input.size();
      if (chunkedDown_) {
        http::appendChunk(out, input);
      } else {
        out.append(input);
      }
      conn.consume(input.size());
      break;
  }
  if (end) return finishResponse(conn);
  client_->send();  // may destroy the client connection (then clientGone ran)
  flowControl();
}

void Relay::flowControl() {
  // The client has not taken what was relayed: stop reading the upstream until it drains.
  if (up_ && client_) up_->pauseReading(client_->outputPending());
}

void Relay::finishResponse(Connection& conn) {
  endResponse(upstreamKeepAlive_ && bodyDone_ && &conn == up_ && conn.pendingInput().empty() &&
              !conn.outputPending());
}

void Relay::endResponse(bool reusable) {
  stage_ = Stage::Done;
  readTimer_.stop();
  releaseUpstream(reusable);
  if (!ex_) return;
  if (chunkedDown_) http::appendLastChunk(ex_->out());
  service_.counters().inc(kResponses);
  ex_->finish(response_.status, bodyBytes_);
  http::Exchange* ex = ex_;
  detachClient();
  ex->complete();  // may destroy the client connection
}

void Relay::cutClient() {
  stage_ = Stage::Done;
  readTimer_.stop();
  service_.counters().inc(kCut);
  releaseUpstream(false);
  if (!client_) return;
  Connection* client = client_;
  detachClient();
  client->closeAfterFlush();  // the session sees the close; no last chunk, no full length
  client->send();
}

void Relay::releaseUpstream(bool reusable) {
  if (active_) {
    active_ = false;
    service_.counters().dec(kActive);
    if (service_.health()) service_.health()->end(backend_);
  }
  if (!up_) return;
  if (handler_) handler_->relay = nullptr;
  handler_ = nullptr;
  Connection* conn = up_;
  up_ = nullptr;
  if (reusable) {
    conn->pauseReading(false);
    service_.connector().release(*conn);  // closes it when the pool is full
  } else {
    conn->close();
  }
}

void Relay::upstreamDrained(Connection&) {
  Entry e(*this);
  if (client_) client_->pauseReading(false);
}

void Relay::upstreamClosed(Connection&) {
  Entry e(*this);
  handler_ = nullptr;  // the connection and its handler are going
  up_ = nullptr;
  if (stage_ == Stage::Waiting) {
    if (reused_ && !staleRetried_ && !bodySent_) {
      // A pooled connection the backend had closed: once more on a fresh one, same backend.
      if (active_) {
        active_ = false;
        service_.counters().dec(kActive);
        if (service_.health()) service_.health()->end(backend_);
      }
      staleRetried_ = true;
      service_.counters().inc(kStaleRetries);
      readTimer_.stop();
      connectTo(backend_, true);
      return;
    }
    tryFailed(false, true);
  } else if (stage_ == Stage::Streaming) {
    if (framing_ == Framing::Close) return endResponse(false);  // the close ends the body
    service_.backendCounters(backend_).inc(kBackendFailures);
    cutClient();
  }
}

void Relay::clientBody(std::string_view data) {
  Entry e(*this);
  if (!client_) return;
  std::string& out = up_ && stage_ != Stage::Connecting ? up_->output() : pending_;
  if (bodyChunkedUp_) {
    http::appendChunk(out, data);
  } else {
    out.append(data);
  }
  if (&out == &pending_) {
    if (pending_.size() > kHighWater) client_->pauseReading(true);
    return;
  }
  bodySent_ = true;
  service_.counters().add(kBytesToUpstream, data.size());
  up_->send();  // may close it (then upstreamClosed ran)
  if (up_ && up_->outputPending() && client_) client_->pauseReading(true);
}

void Relay::clientBodyEnd() {
  Entry e(*this);
  bodyDone_ = true;
  if (!bodyChunkedUp_ || !client_) return;
  if (up_ && stage_ != Stage::Connecting) {
    http::appendLastChunk(up_->output());
    up_->send();
  } else {
    http::appendLastChunk(pending_);
  }
}

void Relay::clientDrained() {
  Entry e(*this);
  if (up_ && stage_ == Stage::Streaming) up_->pauseReading(false);
}

void Relay::clientGone() {
  Entry e(*this);
  detachClient();
  if (connecting_) {
    service_.connector().cancel(connecting_);
    connecting_ = 0;
  }
  readTimer_.stop();
  releaseUpstream(false);
  stage_ = Stage::Done;
}

void Relay::done() { stage_ = Stage::Done; }

}  // namespace manifold::proxy
