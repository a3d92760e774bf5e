#include "protocols/proxy/relay.hpp"

#include <cerrno>

#include "protocols/http/conditional.hpp"
#include "protocols/http/date.hpp"
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
    : service_(service),
      readTimer_(service.runtime().loop(),
                 [this] {
                   Entry e(*this);
                   if (stage_ == Stage::Waiting) {
                     tryFailed(true, true);
                   } else if (stage_ == Stage::Streaming) {
                     cutClient();
                   }
                 }),
      splice_(service.runtime().loop(), service.splicePipes(), [this](SpliceBody::Event ev) {
        Entry e(*this);
        spliceEvent(ev);
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
  if (cache_.locked) service_.cache()->releaseLock(cache_, false);
  if (fill_) fill_->abort();
  cache_.clear();
  clientHeadOnly_ = unsafeMethod_ = false;
  key_.clear();
  head_.clear();
  pending_.clear();
  bodyBytes_ = 0;
  body_ = BodyReader();
  splice_.stop();
  spliceWanted_ = false;
  splicedCounted_ = 0;
}

void Relay::start(http::Exchange& ex, Link* link, CacheRequest& cache) {
  Entry e(*this);
  std::swap(cache_, cache);
  const http::Request& r = ex.request();
  using http::Method;
  hasBody_ = r.chunked || r.contentLength > 0;
  if (hasBody_ && cache_.mode != CacheRequest::Mode::None && !cache_.background) {
    service_.cache()->releaseLock(cache_, false);  // a GET with a body is not cached
    cache_.mode = CacheRequest::Mode::None;
  }
  const bool fill = cache_.mode != CacheRequest::Mode::None;
  if (!cache_.background) {
    ex_ = &ex;
    link_ = link;
    client_ = &ex.connection();
  }
  idempotent_ = r.method == Method::Get || r.method == Method::Head || r.method == Method::Put ||
                r.method == Method::Delete || r.method == Method::Options;
  headRequest_ = r.method == Method::Head && !fill;  // a fill fetches HEAD as GET
  clientHeadOnly_ = r.method == Method::Head && fill;
  unsafeMethod_ = cache_.invalidate;
  bodyChunkedUp_ = r.chunked;
  bodyDone_ = !hasBody_;
  const ProxyConfig& config = service_.config();
  if (config.balance == Balance::IpHash) {
    net::PeerAddress a = net::peerAddress(ex.connection().peerAddress());
    key_.assign(reinterpret_cast<const char*>(a.raw()), a.rawLength());
  } else if (config.balance == Balance::Hash) {
    key_.assign(config.hashPathOnly ? r.path : r.target);
  }
  appendUpstreamHead(head_, r, net::peerAddress(ex.connection().peerAddress()), fill);
  head_.append(cache_.validators);
  hostMissing_ = r.host.empty();
  requestTime_ = service_.runtime().now();
  // A fill strips the client's conditionals (the cache wants the whole object); they are
  // evaluated against the response instead (RFC 9110 13.2.1).
  clientIfNoneMatch_.assign(fill && !cache_.background ? r.ifNoneMatch : std::string_view());
  clientIfModifiedSince_.assign(fill && !cache_.background ? r.ifModifiedSince
                                                           : std::string_view());
  if (fill) {
    if (!fill_) fill_ = std::make_unique<CacheFill>(service_.cache()->store(), config.cache.limits);
    fill_->prepare(cache_.primary, head_, requestTime_);
  }
  if (bodyChunkedUp_) {
    head_.append("Transfer-Encoding: chunked\r\n");
  } else if (r.contentLength >= 0) {
    http::appendHeader(head_, "Content-Length", static_cast<uint64_t>(r.contentLength));
  }
  service_.counters().inc(kProxied);
  if (ex_) {
    ex.defer();
    if (hasBody_) ex.acceptBody();
  }
  firstTry_ = service_.runtime().loopTime();
  tryNext();
}

void Relay::tryNext() {
  if (!ex_ && cache_.mode == CacheRequest::Mode::None) return done();
  const ProxyConfig& config = service_.config();
  if (tries_ > 0) {
    if (tries_ > config.retries || !idempotent_ || bodySent_ ||
        service_.runtime().loopTime() - firstTry_ > config.retryTimeout)
      return failClient(lastStatus_);
  }
  int b = service_.balancer().pick(key_, tried_, clock::monotonicMs(), service_.candidates(key_));
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
  options.tls = service_.upstreamTls(backend);
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
    if (outcome.error == EKEYREJECTED) service_.tlsRefused(backend_, outcome.detail);
    LOG_DEBUG("[%s] backend %s: %s", service_.config().title().c_str(),
              service_.config().backends[backend_].address.text.c_str(), strerror(outcome.error));
    tryFailed(outcome.error == ETIMEDOUT, true);
    return nullptr;
  }
  if (!ex_ && cache_.mode == CacheRequest::Mode::None) {
    stage_ = Stage::Done;
    return nullptr;
  }
  up_ = outcome.connection;
  sentAt_ = service_.runtime().loopTime();
  reused_ = outcome.reused;
  c.inc(reused_ ? kReused : kConnects);
  service_.countTlsHandshake(outcome);
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
  splice_.stop();  // the client's socket is going
  ex_ = nullptr;
  client_ = nullptr;
  if (link_) link_->relay = nullptr;
  link_ = nullptr;
}

void Relay::failClient(int status) {
  finishUpstream(false);
  shm::CounterSlot c = service_.counters();
  c.inc(status == 503 ? kUnavailable : status == 504 ? kGatewayTimeout : kBadGateway);
  endFill(false);
  if (!ex_) return;
  http::Exchange* ex = ex_;
  if (staleOnError()) {
    detachClient();
    ex->complete();  // may destroy the client connection
    return;
  }
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
  body_.begin(response_);
  upstreamKeepAlive_ = response_.keepAlive;
  shm::CounterSlot b = service_.backendCounters(backend_);
  b.inc(kBackendResponses);
  b.add(kBackendLatencyMs,
        static_cast<uint64_t>((service_.runtime().loopTime() - sentAt_) * 1000 + 0.5));
  if (response_.status == 404 && service_.config().retryNotFound && idempotent_ && !bodySent_ &&
      tries_ < service_.candidates(key_).size()) {
    // Another copy may hold it (a replica that was down when the file was written).
    readTimer_.stop();
    releaseUpstream(false);
    lastStatus_ = 404;
    return tryNext();
  }
  if (unsafeMethod_ && response_.status < 400) {
    std::string_view location, contentLocation;
    for (size_t i = 0; i < response_.headerCount; ++i) {
      const http::Header& h = response_.headers[i];
      if (http::equalsIgnoreCase(h.name, "location")) location = h.value;
      if (http::equalsIgnoreCase(h.name, "content-location")) contentLocation = h.value;
    }
    service_.cache()->invalidate(cache_.primary, location, contentLocation);
  }
  if (cache_.mode != CacheRequest::Mode::None) {
    if (cache_.mode == CacheRequest::Mode::Revalidate && response_.status == 304)
      return notModified(conn);
    if (response_.status >= 500 && ex_ && staleOnError()) {
      finishUpstream(false);
      endFill(false);
      http::Exchange* ex = ex_;
      detachClient();
      ex->complete();  // may destroy the client connection
      return;
    }
    // A body that ends with the close cannot be told from one cut short: never stored.
    if (body_.framing == Framing::Close || !fill_->begin(response_, service_.runtime().now())) {
      LOG_DEBUG("[%s] not cached: %s", service_.config().title().c_str(),
                body_.framing == Framing::Close ? "close-delimited" : fill_->reason());
      service_.counters().inc(kCacheNotStored);
      endFill(false);
    }
  }
  if (!ex_) {
    if (!filling()) {  // nobody wants the body any more
      finishUpstream(false);
    }
    return;
  }
  if (response_.status == 200 && (!clientIfNoneMatch_.empty() || !clientIfModifiedSince_.empty()) &&
      clientNotModified()) {
    response_.status = 304;  // the client's copy is current: its answer has no body
    response_.reason = {};
    clientHeadOnly_ = true;
  }
  writeDownstreamHead();
  spliceWanted_ = spliceable();
  if (clientHeadOnly_) {  // HEAD answered with the head of the GET the cache is filling
    ex_->finish(response_.status, 0);
    http::Exchange* ex = ex_;
    detachClient();
    ex->complete();  // may destroy the client connection
    if (!filling()) {
      finishUpstream(false);
    }
  }
}

void Relay::writeDownstreamHead() {
  std::string& out = ex_->out();
  appendDownstreamHead(out, response_, ex_->versionMinor());
  bool dated = false;
  for (size_t i = 0; i < response_.headerCount && !dated; ++i)
    dated = http::equalsIgnoreCase(response_.headers[i].name, "date");
  if (!dated) http::appendHeader(out, "Date", ex_->date());  // RFC 9110 6.6.1
  if (!cache_.label.empty()) http::appendHeader(out, "X-Cache", cache_.label);
  switch (clientHeadOnly_ ? Framing::None : body_.framing) {
    case Framing::None:  // HEAD and 304 keep the length the body would have had
      if (response_.contentLength >= 0 && response_.status != 204)
        http::appendHeader(out, "Content-Length", static_cast<uint64_t>(response_.contentLength));
      break;
    case Framing::Length:
      http::appendHeader(out, "Content-Length", body_.remaining);
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

// A revalidation confirmed: the stored object is refreshed and answers the client.
void Relay::notModified(Connection& conn) {
  finishUpstream(upstreamKeepAlive_ && bodyDone_ && &conn == up_ && conn.pendingInput().empty() &&
                 !conn.outputPending());
  bool refreshed = fill_->refresh(cache_.key, response_, service_.runtime().now());
  endFill(refreshed);
  if (!ex_) return;
  http::Exchange* ex = ex_;
  detachClient();
  if (!refreshed ||
      !service_.cache()->replyStored(*ex, cache_.key, service_.cache()->label("REVALIDATED"), -1))
    ex->sendError(502);
  ex->complete();  // may destroy the client connection
}

bool Relay::clientNotModified() const {
  http::Request conditions;
  conditions.method = http::Method::Get;
  conditions.ifNoneMatch = clientIfNoneMatch_;
  conditions.ifModifiedSince = clientIfModifiedSince_;
  std::string_view etag;
  time_t lastModified = -1;
  for (size_t i = 0; i < response_.headerCount; ++i) {
    const http::Header& h = response_.headers[i];
    if (http::equalsIgnoreCase(h.name, "etag") && etag.empty()) etag = h.value;
    if (http::equalsIgnoreCase(h.name, "last-modified")) {
      time_t t;
      if (http::parseHttpDate(h.value, t)) lastModified = t;
    }
  }
  return http::evaluatePreconditions(conditions, etag, lastModified, service_.runtime().now()) ==
         http::Precondition::NotModified;
}

bool Relay::staleOnError() {
  if (!ex_ || cache_.mode != CacheRequest::Mode::Revalidate) return false;
  return service_.cache()->replyStored(*ex_, cache_.key, service_.cache()->label("STALE"),
                                       CacheFront::kStaleIfError);
}

void Relay::endFill(bool stored) {
  if (fill_) {
    if (fill_->diskFailed()) service_.cache()->diskFailed();
    fill_->abort();  // nothing left to publish (commit already ran when it was stored)
  }
  if (cache_.locked) service_.cache()->releaseLock(cache_, stored);
}

void Relay::pumpBody(Connection& conn) {
  service_.counters().add(kBytesFromUpstream, conn.pendingInput().size());
  BodyReader::Step step = body_.read(conn, [this](std::string_view data) { deliver(data); });
  if (step == BodyReader::Error) return cutClient();
  if (step == BodyReader::Done) return finishResponse(conn);
  if (!ex_) {
    if (!filling()) {  // the client left and the cache gave up: stop reading
      finishUpstream(false);
    }
    return;
  }
  pumping_ = true;
  client_->send();  // may destroy the client connection (then clientGone ran)
  pumping_ = false;
  flowControl();
  // The rest by splice once what is buffered reached the client (else from clientDrained).
  // Here, outside the client's callbacks, it starts at once.
  if (spliceWanted_ && client_ && !client_->outputPending()) startSplice(true);
}

bool Relay::spliceable() const {
  return service_.config().splice && !filling() && !clientHeadOnly_ && !chunkedDown_ &&
         !closeDown_ && body_.framing == Framing::Length && body_.remaining >= kSpliceMin && up_ &&
         client_ && !up_->tls() && !up_->internal() && !client_->tls() && !client_->internal();
}

void Relay::startSplice(bool now) {
  if (!up_ || !client_ || splice_.active() || body_.remaining == 0) return;
  if (!splice_.start(up_->fd(), client_->fd(), body_.remaining, now)) {  // no pipe: buffers
    spliceWanted_ = false;
    flowControl();
    return;
  }
  service_.counters().inc(kSpliced);
}

void Relay::spliceEvent(SpliceBody::Event ev) {
  uint64_t moved = splice_.read() - splicedCounted_;
  splicedCounted_ = splice_.read();
  bodyBytes_ += moved;
  service_.counters().add(kBytesFromUpstream, moved);
  const ProxyConfig& config = service_.config();
  switch (ev) {
    case SpliceBody::Event::Progress:
      // A client that does not take the body is dropped after send_timeout, as on the buffer
      // path; a backend that falls silent after read_timeout.
      readTimer_.once(splice_.waitingForClient() ? config.limits.sendTimeout : config.readTimeout);
      break;
    case SpliceBody::Event::Done:
      body_.remaining = 0;
      spliceWanted_ = false;
      if (up_) finishResponse(*up_);
      break;
    case SpliceBody::Event::UpstreamClosed:
      service_.backendCounters(backend_).inc(kBackendFailures);
      cutClient();
      break;
    case SpliceBody::Event::Failed:
      cutClient();
      break;
  }
}

void Relay::deliver(std::string_view data) {
  bodyBytes_ += data.size();
  if (filling() && !fill_->append(data)) {
    service_.counters().inc(kCacheNotStored);
    endFill(false);
  }
  if (!ex_ || data.empty()) return;
  if (chunkedDown_) {
    http::appendChunk(ex_->out(), data);
  } else {
    ex_->out().append(data);
  }
}

void Relay::flowControl() {
  // The client has not taken what was relayed: stop reading the upstream until it drains.
  // A body going by splice is not read by the connection at all.
  if (up_ && client_) up_->pauseReading(spliceWanted_ || client_->outputPending());
}

void Relay::finishResponse(Connection& conn) {
  endResponse(upstreamKeepAlive_ && bodyDone_ && &conn == up_ && conn.pendingInput().empty() &&
              !conn.outputPending());
}

void Relay::endResponse(bool reusable) {
  finishUpstream(reusable);
  if (filling()) {
    bool stored = fill_->commit();
    service_.counters().inc(stored ? kCacheStores : kCacheNotStored);
    if (!stored)
      LOG_DEBUG("[%s] not cached: %s", service_.config().title().c_str(), fill_->reason());
    endFill(stored);
  }
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
  endFill(false);  // a partial object is never stored
  if (!client_) return;
  Connection* client = client_;
  detachClient();
  client->closeAfterFlush();  // the session sees the close; no last chunk, no full length
  client->send();
}

void Relay::releaseUpstream(bool reusable) {
  splice_.stop();
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
    if (body_.framing == Framing::Close) return endResponse(false);  // the close ends the body
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
  if (spliceWanted_) {
    // Inside the client's callback: the splice starts from its own watcher (see SpliceBody).
    if (stage_ == Stage::Streaming && !pumping_) startSplice(false);
    return;
  }
  if (up_ && stage_ == Stage::Streaming) up_->pauseReading(false);
}

void Relay::clientGone() {
  Entry e(*this);
  detachClient();
  // A fetch for the cache goes on without its client: others wait for the object.
  if (cache_.mode != CacheRequest::Mode::None && stage_ != Stage::Done &&
      (stage_ != Stage::Streaming || filling())) {
    if (up_) up_->pauseReading(false);
    return;
  }
  endFill(false);
  if (connecting_) {
    service_.connector().cancel(connecting_);
    connecting_ = 0;
  }
  readTimer_.stop();
  releaseUpstream(false);
  stage_ = Stage::Done;
}

void Relay::done() { stage_ = Stage::Done; }

void Relay::finishUpstream(bool reusable) {
  stage_ = Stage::Done;
  readTimer_.stop();
  releaseUpstream(reusable);
}

}  // namespace manifold::proxy
