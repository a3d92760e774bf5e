#include "protocols/http/server.hpp"

#include <algorithm>
#include <map>

#include "protocols/http/access_log.hpp"
#include "protocols/http/date.hpp"
#include "protocols/http/h2_session.hpp"
#include "protocols/http/response.hpp"
#include "worker/acceptor.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/tls_context.hpp"
#include "worker/tls_session_cache.hpp"

namespace manifold::http {

namespace {

// Pipelined requests are answered while the queued output stays below this; past it the
// session waits for the socket to drain before parsing the next request.
constexpr size_t kMaxQueuedOutput = 1 << 20;
// A body nobody wants is read and dropped up to this size to keep the connection; larger: close.
constexpr uint64_t kMaxDiscardBody = 1 << 20;

time_t gDateSecond = -1;
char gDate[29];

}  // namespace

bool Site::matches(std::string_view host) const {
  for (const auto& name : names) {
    if (name == "*" || name == host) return true;
    if (name.size() > 2 && name[0] == '*' && name[1] == '.') {
      std::string_view suffix = std::string_view(name).substr(1);  // ".example.com"
      if (host.size() > suffix.size() && host.ends_with(suffix)) return true;
    }
    if (name.size() > 2 && name.back() == '*' && name[name.size() - 2] == '.') {
      std::string_view prefix = std::string_view(name).substr(0, name.size() - 1);  // "www."
      if (host.size() > prefix.size() && host.starts_with(prefix)) return true;
    }
  }
  return false;
}

// ---- Exchange ----

std::string_view Exchange::date() const {
  time_t now = conn_->runtime().now();
  if (now != gDateSecond) {
    formatHttpDate(now, gDate);
    gDateSecond = now;
  }
  return std::string_view(gDate, 29);
}

void Exchange::beginResponse(int status) {
  status_ = status;
  std::string& o = out();
  appendStatusLine(o, versionMinor_, status);
  o.append("Server: ")
      .append(site_->serverHeader)
      .append("\r\nDate: ")
      .append(date())
      .append("\r\n");
}

void Exchange::endHeaders() {
  if (bodyUnreadCloses_ && !bodyAccepted_) keepAlive_ = false;
  std::string& o = out();
  if (!keepAlive_) {
    o.append("Connection: close\r\n");
  } else if (versionMinor_ == 0) {
    o.append("Connection: keep-alive\r\n");
  }
  o.append("\r\n");
}

void Exchange::sendError(int status, std::string_view extraHeaders, bool close) {
  if (close || (bodyUnreadCloses_ && !bodyAccepted_)) keepAlive_ = false;
  // appendErrorResponse writes the Connection header (close, or keep-alive for HTTP/1.0).
  appendErrorResponse(out(), versionMinor_, status, date(), site_->serverHeader, keepAlive_, head_,
                      extraHeaders);
  finish(status, head_ || statusHasNoBody(status) ? 0 : errorBodyLength(status));
}

void Exchange::acceptBody() {
  bodyAccepted_ = true;
  if (request_->expectContinue) out().append("HTTP/1.1 100 Continue\r\n\r\n");
}

bool Exchange::switchProtocols(std::string_view protocol, std::unique_ptr<ConnectionHandler> next,
                               std::string_view extraHeaders) {
  if (versionMinor_ != 1 || request_->chunked || request_->contentLength > 0 || !next) return false;
  std::string& o = out();
  appendStatusLine(o, versionMinor_, 101);
  o.append("Connection: Upgrade\r\nUpgrade: ").append(protocol).append("\r\n");
  o.append(extraHeaders).append("\r\n");
  upgradeTo_ = std::move(next);
  finish(101, 0);
  return true;
}

void Exchange::finish(int status, uint64_t bodyBytes) {
  finished_ = true;
  status_ = status;
  shm::CounterSlot c = site_->counters;
  unsigned statusClass = status / 100;
  if (statusClass >= 1 && statusClass <= 5) c.inc(kStatus1xx + statusClass - 1);
  c.add(kBytesOut, bodyBytes);
  if (site_->accessLog) {
    if (!log_) log_ = std::make_unique<LogFields>();
    site_->accessLog->write(conn_->peer(), log_->requestLine, status, bodyBytes, log_->referer,
                            log_->userAgent, conn_->runtime().now());
  }
}

// ---- Session ----

class Session : public ConnectionHandler {
 public:
  Session(Listener& listener, Connection& conn, bool counted = true)
      : listener_(listener), counted_(counted) {
    ex_.conn_ = &conn;
    ex_.session_ = this;
    ex_.site_ = &listener.defaultSite();
    const ServerLimits& limits = *listener.defaultSite().limits;
    conn.setSendTimeout(limits.sendTimeout);
    conn.setIdleTimeout(limits.keepaliveTimeout);
    shm::CounterSlot c = listener.defaultSite().counters;
    if (!counted_) return;
    c.inc(kConnectionsOpen);
    c.inc(kConnectionsTotal);
  }

  void onReadable(Connection& conn) override {
    if (!upgraded_ && requests_ == 0 && !headStarted_) {
      const H2Choice choice = choseH2(conn);
      if (choice == H2Choice::Wait) return;
      if (choice == H2Choice::Yes) {
        // The HTTP/2 session takes the connection (on TLS the first read comes only once the
        // handshake is complete, so ALPN is known).
        upgraded_ = true;
        listener_.defaultSite().counters.dec(kConnectionsOpen);  // the h2 session counts it
        conn.upgrade(makeH2Session(listener_, conn));
        return;
      }
    }
    process(conn);
  }

  // HTTP/2 by ALPN on TLS, or by prior knowledge (the client preface, RFC 9113 3.3) on a
  // cleartext address of a site with h2c = on; a partial preface waits for the rest.
  enum class H2Choice { No, Yes, Wait };
  H2Choice choseH2(Connection& conn) const {
    if (conn.tls()) return conn.tls()->alpn() == "h2" ? H2Choice::Yes : H2Choice::No;
    if (!listener_.defaultSite().h2c) return H2Choice::No;
    constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    std::string_view in = conn.pendingInput();
    if (in.starts_with(kPreface)) return H2Choice::Yes;
    return in.size() < kPreface.size() && kPreface.starts_with(in) ? H2Choice::Wait : H2Choice::No;
  }

  void onDrained(Connection& conn) override {
    if (ex_.deferred_) {
      ex_.site_->handler->onDrained(ex_);
      return;
    }
    if (!conn.pendingInput().empty()) process(conn);
  }

  // A parked exchange resumes: its request is still the first unconsumed input.
  void resume() {
    ex_.parked_ = false;
    ex_.conn_->reprocess();
  }

  // Not while its body is still being read: a client gone mid-body can never finish the
  // request, so the connection closes and the handler hears onAbort (a cut upload).
  bool awaitingAnswer() const override {
    return (ex_.parked_ || ex_.deferred_) && phase_ != Phase::Body;
  }

  bool busy() const override {
    return headStarted_ || phase_ != Phase::Head || ex_.parked_ || ex_.deferred_;
  }

  // A deferred response has ended (Exchange::complete).
  void completeDeferred() {
    ex_.deferred_ = false;
    if (dispatching_) return;  // called from onBodyEnd: endBody goes on as usual
    Connection& conn = *ex_.conn_;
    if (phase_ != Phase::Head) {  // answered before the body ended: the rest is not read
      ex_.keepAlive_ = false;
      conn.lingerOnClose();
    } else {
      ex_.state.reset();
    }
    afterResponse(conn);
    conn.reprocess();  // the next pipelined request, the flush, and the close flags
  }

  void onClose(Connection& conn) override {
    if (counted_) listener_.defaultSite().counters.dec(kConnectionsOpen);
    if (ex_.parked_) {
      ex_.parked_ = false;
      ex_.site_->handler->onParkedClose(ex_);
    }
    if (phase_ == Phase::Body || ex_.deferred_) {
      ex_.deferred_ = false;
      ex_.site_->handler->onAbort(ex_);
      ex_.state.reset();
    }
    if (busy()) listener_.defaultSite().counters.inc(kRequestsIncomplete);
    (void)conn;
  }

 private:
  enum class Phase { Head, Body, Discard };

  const ServerLimits& limits() const { return *ex_.site_->limits; }

  void process(Connection& conn) {
    dispatching_ = true;
    processInput(conn);
    dispatching_ = false;
  }

  void processInput(Connection& conn) {
    // A deferred response still takes its request's body; the next request waits for it.
    while (!conn.closing() && !upgraded_ && !ex_.parked_ &&
           !(ex_.deferred_ && phase_ == Phase::Head)) {
      if (phase_ != Phase::Head) {
        if (!feedBody(conn)) return;
        continue;
      }
      std::string_view input = conn.pendingInput();
      if (input.empty()) return;
      if (conn.output().size() > kMaxQueuedOutput) return;  // resumes from onDrained
      ParseResult result = parseRequest(input, request_, listener_.defaultSite().limits->parse);
      if (result.status == ParseStatus::Incomplete) {
        if (!headStarted_) {
          headStarted_ = true;  // slow senders cannot stretch this a byte at a time
          conn.setDeadline(listener_.defaultSite().limits->headerTimeout);
        }
        return;
      }
      headStarted_ = false;
      if (result.status == ParseStatus::Error) {
        ex_.site_ = &listener_.defaultSite();
        ex_.versionMinor_ = 1;
        ex_.head_ = false;
        if (ex_.log_) *ex_.log_ = {};
        ex_.site_->counters.inc(kRequests);
        ex_.sendError(result.errorStatus, {}, true);
        // A head cut short by a limit (431, 414): the client is probably still sending it, and
        // must read the error before the close (see "Lingering close" in connection.hpp).
        if (input.find("\r\n\r\n") == std::string_view::npos) conn.lingerOnClose();
        conn.consume(input.size());
        conn.closeAfterFlush();
        return;
      }
      handleRequest(conn, result.consumed);
    }
  }

  void handleRequest(Connection& conn, size_t headBytes) {
    const Site& site = listener_.route(request_.host);
    ex_.site_ = &site;
    ex_.request_ = &request_;
    ex_.head_ = request_.method == Method::Head;
    ex_.versionMinor_ = request_.versionMinor;
    // keepalive_timeout = 0 turns keep-alive off, as in nginx.
    ex_.keepAlive_ = request_.keepAlive && ++requests_ < site.limits->keepaliveRequests &&
                     site.limits->keepaliveTimeout > 0 &&
                     // The HTTP/2 gateway's connection drains with its client connection
                     // (GOAWAY), not one request at a time.
                     (!conn.runtime().draining() || !counted_);
    ex_.bodyAccepted_ = false;
    ex_.finished_ = false;
    ex_.state.reset();
    site.counters.inc(kRequests);
    site.counters.add(kBytesIn, headBytes);
    if (site.accessLog) {
      std::string_view line(
          request_.methodText.data(),
          request_.target.data() + request_.target.size() - request_.methodText.data());
      if (!ex_.log_) ex_.log_ = std::make_unique<Exchange::LogFields>();
      ex_.log_->requestLine.assign(line).append(request_.versionMinor ? " HTTP/1.1" : " HTTP/1.0");
      ex_.log_->userAgent.assign(request_.userAgent);
      ex_.log_->referer.assign(request_.referer);
    }
    bool hasBody = request_.chunked || request_.contentLength > 0;
    bodyLeft_ = request_.contentLength > 0 ? request_.contentLength : 0;
    chunkedBody_ = request_.chunked;
    if (chunkedBody_) {
      if (!chunked_) chunked_ = std::make_unique<ChunkedDecoder>();
      chunked_->reset();
    }
    bodySeen_ = 0;
    bodyStart_ = static_cast<uint32_t>(conn.runtime().now());
    // A body the handler will not read can only be skipped if it is small and announced;
    // decided before the handler writes its Connection header.
    ex_.bodyUnreadCloses_ =
        hasBody && (chunkedBody_ || bodyLeft_ > kMaxDiscardBody || request_.expectContinue);
    site.handler->onRequest(ex_);
    if (ex_.parked_) {  // answered later, by the same request handled again: not counted yet
      --requests_;
      site.counters.dec(kRequests);
      site.counters.sub(kBytesIn, headBytes);
      return;
    }
    conn.consume(headBytes);
    if (ex_.upgradeTo_) {
      // Handed over when this callback returns; this Session is then destroyed (no onClose).
      upgraded_ = true;
      listener_.defaultSite().counters.dec(kConnectionsOpen);
      conn.setIdleTimeout(site.limits->keepaliveTimeout);  // not the header deadline
      conn.upgrade(std::move(ex_.upgradeTo_));
      return;
    }

    if (ex_.bodyAccepted_) {
      phase_ = Phase::Body;
      conn.setIdleTimeout(site.limits->bodyTimeout);
      if (!hasBody) endBody(conn);
      return;
    }
    if (ex_.deferred_) {
      if (hasBody) {  // not accepted: the response comes, the body is not read
        ex_.keepAlive_ = false;
        conn.lingerOnClose();
      }
      conn.setIdleTimeout(0);  // the handler's own timeouts bound the wait
      return;
    }
    if (hasBody) {
      if (ex_.bodyUnreadCloses_ || !ex_.keepAlive_) {
        ex_.keepAlive_ = false;
        if (chunkedBody_ || conn.pendingInput().size() < bodyLeft_) conn.lingerOnClose();
        conn.closeAfterFlush();
        return;
      }
      phase_ = Phase::Discard;
      conn.setIdleTimeout(site.limits->bodyTimeout);
      return;
    }
    afterResponse(conn);
  }

  void afterResponse(Connection& conn) {
    if (!ex_.keepAlive_) {
      conn.closeAfterFlush();
      return;
    }
    conn.setIdleTimeout(limits().keepaliveTimeout);
  }

  // Returns false when more input is needed.
  bool feedBody(Connection& conn) {
    std::string_view input = conn.pendingInput();
    if (input.empty()) return false;
    std::string_view data;
    size_t used = 0;
    bool done = false;
    if (chunkedBody_) {
      auto status = chunked_->feed(input, used, data);
      if (status == ChunkedDecoder::Status::Error) {
        failBody(conn, 400);
        return false;
      }
      done = status == ChunkedDecoder::Status::Done;
    } else {
      used = std::min<uint64_t>(input.size(), bodyLeft_);
      data = input.substr(0, used);
      bodyLeft_ -= used;
      done = bodyLeft_ == 0;
    }
    bodySeen_ += data.size();
    ex_.site_->counters.add(kBytesIn, used);
    conn.consume(used);
    if (tooSlow(conn)) {
      failBody(conn, 408);
      return false;
    }
    if (bodySeen_ > limits().maxBodySize && phase_ == Phase::Body) {
      failBody(conn, 413);
      return false;
    }
    if (phase_ == Phase::Body && !data.empty()) ex_.site_->handler->onBody(ex_, data);
    if (conn.closing()) return false;
    if (done) {
      endBody(conn);
      return true;
    }
    return !conn.pendingInput().empty();
  }

  // A body must keep a minimum average rate after client_body_timeout's grace (as Apache's
  // mod_reqtimeout MinRate): the idle timeout alone lets a client that sends a byte every few
  // seconds hold a connection (and a PUT's reservation) for ever. Checked as bytes arrive; a
  // client that stops altogether meets the idle timeout.
  bool tooSlow(Connection& conn) const {
    const ServerLimits& l = limits();
    if (l.bodyMinRate == 0) return false;
    const double elapsed =
        static_cast<double>(static_cast<uint32_t>(conn.runtime().now()) - bodyStart_);
    return elapsed > l.bodyTimeout + static_cast<double>(bodySeen_) / l.bodyMinRate;
  }

  void endBody(Connection& conn) {
    Phase was = phase_;
    phase_ = Phase::Head;
    if (was == Phase::Body) {
      ex_.site_->handler->onBodyEnd(ex_);
      if (ex_.deferred_) {  // the response is still coming: see completeDeferred()
        conn.setIdleTimeout(0);
        return;
      }
      ex_.state.reset();
    }
    afterResponse(conn);
  }

  void failBody(Connection& conn, int status) {
    if (phase_ == Phase::Body) {
      const bool deferred = ex_.deferred_;  // a response may be under way: no error page in it
      ex_.deferred_ = false;
      ex_.site_->handler->onAbort(ex_);
      ex_.state.reset();
      if (!ex_.finished_ && !deferred) ex_.sendError(status, {}, true);
    }
    phase_ = Phase::Head;
    conn.lingerOnClose();  // the rest of the body is still coming
    conn.closeAfterFlush();
  }

  Listener& listener_;
  bool counted_;  // a client's connection (not the HTTP/2 gateway's internal one)
  Exchange ex_;
  // One parse scratch per process: its views are only valid while a request is being handled,
  // so idle connections need not carry 2 KiB each.
  static inline Request request_;
  Phase phase_ = Phase::Head;
  bool headStarted_ = false;
  bool upgraded_ = false;
  bool dispatching_ = false;  // inside process(): a completion is picked up there
  unsigned requests_ = 0;
  uint32_t bodyStart_ = 0;  // loop time (whole seconds) the body began: 4 bytes in every session
  uint64_t bodyLeft_ = 0;
  uint64_t bodySeen_ = 0;
  bool chunkedBody_ = false;
  std::unique_ptr<ChunkedDecoder> chunked_;  // only while a chunked body arrives
};

// ---- Exchange::resume, needing Session ----

void Exchange::resume() {
  if (parked_) session_->resume();
}

void Exchange::complete() {
  if (deferred_) session_->completeDeferred();
}

// ---- Listener ----

namespace {
std::map<int, std::unique_ptr<Listener>>& listeners() {
  static std::map<int, std::unique_ptr<Listener>> all;
  return all;
}
}  // namespace

Listener& Listener::forFd(WorkerRuntime& runtime, int fd) {
  auto& slot = listeners()[fd];
  if (!slot) slot.reset(new Listener(runtime, fd));
  return *slot;
}

Listener::Listener(WorkerRuntime& runtime, int fd) : runtime_(runtime), fd_(fd) {}

void Listener::addSite(Site* site, bool tls) {
  sites_.push_back(site);
  tls_ = tls_ || tls;
  if (!default_ || (site->isDefault && !default_->isDefault)) default_ = site;
  if (started_ && tls_) startTls();  // services start one by one: the default may change
}

void Listener::start() {
  if (started_) return;
  started_ = true;
  if (tls_) startTls();
  acceptor_ = std::make_unique<Acceptor>(runtime_, fd_, [this](Connection& conn) {
    auto session = std::unique_ptr<ConnectionHandler>(new Session(*this, conn));
    if (tlsEndpoint_) {
      std::unique_ptr<TlsSession> tls = TlsSession::accept(*tlsEndpoint_, conn.fd());
      if (!tls) {
        LOG_ERROR("TLS: cannot create a session for fd %d", conn.fd());
        conn.abort();
      }
      conn.startTls(std::move(tls));
      // The handshake is bounded like a request head: a client cannot hold the socket idle.
      conn.setDeadline(defaultSite().limits->headerTimeout);
    }
    return session;
  });
  acceptor_->start();
}

std::unique_ptr<ConnectionHandler> Listener::internalSession(Connection& conn) {
  return std::unique_ptr<ConnectionHandler>(new Session(*this, conn, false));
}

// The default TLS server of this socket answers clients without SNI (or with an unknown name),
// signs session tickets and keeps the TLS counters; SNI switches to the named server's
// certificates.
void Listener::startTls() {
  const Site* first = nullptr;
  for (const Site* site : sites_)
    if (site->tls && (!first || site == default_)) first = site;
  if (!first) return;        // the master refuses a tls address without certificates
  static bool told = false;  // once per worker
  if (!told) {
    told = true;
    LOG_INFO("TLS: kernel tls ULP %s", TlsContext::kernelTls()
                                           ? "present: kTLS, file bodies go out with sendfile"
                                           : "absent: file bodies are encrypted from a buffer");
  }
  // Updated in place: sessions keep a reference to the endpoint.
  if (!tlsEndpoint_) tlsEndpoint_ = std::make_unique<TlsEndpoint>();
  tlsEndpoint_->context = first->tls->get();
  tlsEndpoint_->tickets = first->tickets.get();
  tlsEndpoint_->sessions = first->sessions.get();
  tlsEndpoint_->offerH2 = first->http2;
  tlsEndpoint_->counters = defaultSite().counters.from(kTlsHandshakesFull);
  tlsEndpoint_->byName = [this](std::string_view name) -> SSL_CTX* {
    const Site& site = route(name);
    return site.tls ? site.tls->get() : nullptr;
  };
}

void Listener::stop() {
  if (acceptor_) acceptor_->stop();
}

const Site& Listener::route(std::string_view hostHeader) const {
  if (sites_.size() == 1 || hostHeader.empty()) return *default_;
  // Lowercase, without the port, into a small stack buffer: no allocation.
  char host[256];
  size_t n = 0;
  size_t end = hostHeader.size();
  if (hostHeader.front() == '[') {
    size_t close = hostHeader.find(']');
    end = close == std::string_view::npos ? end : close + 1;
  } else {
    size_t colon = hostHeader.rfind(':');
    if (colon != std::string_view::npos) end = colon;
  }
  if (end > sizeof host) return *default_;
  for (size_t i = 0; i < end; ++i) {
    char ch = hostHeader[i];
    host[n++] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
  }
  if (n && host[n - 1] == '.') --n;  // "example.com." is "example.com"
  std::string_view name(host, n);
  // Exact names first, then wildcards, like nginx.
  for (Site* site : sites_)
    for (auto& pattern : site->names)
      if (pattern == name) return *site;
  for (Site* site : sites_)
    if (site->matches(name)) return *site;
  return *default_;
}

}  // namespace manifold::http
