#include "protocols/fs/fanout.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "protocols/fs/multistatus.hpp"
#include "protocols/fs/node_client.hpp"
#include "protocols/fs/repair_plan.hpp"
#include "protocols/fs/service.hpp"
#include "protocols/http/date.hpp"
#include "protocols/http/response.hpp"
#include "protocols/proxy/counters.hpp"
#include "protocols/proxy/forward.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::fs {

class FanOut::Guard {
 public:
  explicit Guard(FanOut& f) : f_(f) { ++f_.depth_; }
  ~Guard() {
    if (--f_.depth_ == 0 && f_.finished_) f_.service_.collectSoon();
  }

 private:
  FanOut& f_;
};

struct FanOut::Replica {
  Replica(FanOut& f, struct ev_loop* loop)
      : timer(loop, [&f, this] {
          Guard g(f);
          if (status == 0) f.failed(*this, 504);
        }) {}
  int node = -1;
  Connection* conn = nullptr;
  Handler* handler = nullptr;
  Connector::Id connecting = 0;
  std::string pending;  // the head and body bytes waiting for the connection
  bool reused = false, staleRetried = false, sentAny = false, handoff = false, hinted = false;
  int status = 0;       // the node's answer; 0 while none; 502/504 for a failed try
  unsigned skip = 0;    // answers to the pipelined parent MKCOLs still to pass over
  bool inBody = false;  // the head arrived; its body is being read
  BodyReader reader;
  std::string body;  // a PROPFIND answer's
  proxy::ResponseHead response;
  Timer timer;
};

class FanOut::Handler : public ConnectionHandler {
 public:
  Handler(FanOut& f, Replica& r) : fanout(&f), replica(&r) {}
  void onReadable(Connection& conn) override {
    if (fanout) fanout->readable(*replica, conn);
  }
  void onDrained(Connection&) override {
    if (fanout) fanout->drained();
  }
  void onClose(Connection&) override {
    if (fanout) fanout->closed(*replica);
  }
  bool busy() const override { return fanout != nullptr; }
  FanOut* fanout;
  Replica* replica;
};

FanOut::FanOut(FsService& service, http::Exchange& ex, std::vector<int> nodes, unsigned copies,
               bool everyNode, std::string target, std::string location)
    : service_(service),
      ex_(&ex),
      nodes_(std::move(nodes)),
      target_(target),
      location_(std::move(location)) {
  const http::Request& r = ex.request();
  host_.assign(r.host);
  kind_ = r.method == http::Method::Put      ? Kind::Put
          : r.method == http::Method::Delete ? Kind::Delete
          : r.method == http::Method::Mkcol  ? Kind::Mkcol
                                             : Kind::Propfind;
  size_t n = everyNode ? nodes_.size() : std::min<size_t>(copies, nodes_.size());
  nextCandidate_ = n;
  for (size_t i = 0; i < n; ++i) {
    auto replica = std::make_unique<Replica>(*this, service.runtime().loop());
    replica->node = nodes_[i];
    replicas_.push_back(std::move(replica));
  }
  std::string_view now = service.date();
  std::copy(now.begin(), now.end(), date_);
  head_ = service.takeBuffer();
  replay_ = service.takeBuffer();
  proxy::appendUpstreamHead(head_, r, net::peerAddress(ex.connection().peerAddress()), false,
                            target, date());
  chunked_ = r.chunked;
  if (chunked_) {
    head_.append("Transfer-Encoding: chunked\r\n");
  } else if (r.contentLength >= 0 || kind_ == Kind::Put) {
    http::appendHeader(head_, "Content-Length",
                       static_cast<uint64_t>(std::max<int64_t>(0, r.contentLength)));
  }
  head_.append("\r\n");
  if (kind_ == Kind::Put && r.contentLength > 0 &&
      static_cast<uint64_t>(r.contentLength) <= kReplayLimit)
    replay_.reserve(static_cast<size_t>(r.contentLength));
  if (kind_ == Kind::Mkcol) {
    // Parents first, pipelined on the same connection (each answered 201, or 405 if it exists).
    std::string parents;
    std::string_view path = std::string_view(target).substr(0, target.find('?'));
    for (size_t slash = path.find('/', 1);
         slash != std::string_view::npos && slash + 1 < path.size();
         slash = path.find('/', slash + 1)) {
      parents.append("MKCOL ").append(path.substr(0, slash + 1)).append(" HTTP/1.1\r\n");
      http::appendHeader(parents, "Host", r.host.empty() ? std::string_view("localhost") : r.host);
      parents.append("Content-Length: 0\r\n\r\n");
      ++parentCount_;
    }
    head_.insert(0, parents);
  } else if (kind_ == Kind::Delete) {
    // A tombstone first (same Date), so a node that misses this DELETE (down) does not bring
    // the file back: the repairer deletes copies older than it.
    std::string tombstone;
    appendMarker(tombstone, kTombstones);
    head_.insert(0, tombstone);
    parentCount_ = 1;
  }
  bodyDone_ = !(r.chunked || r.contentLength > 0);
  ex.defer();
  if (!bodyDone_) ex.acceptBody();
}

// "PUT /.manifold-fs/{tombstones,hints}/PATH", empty, with the write's Date.
void FanOut::appendMarker(std::string& out, std::string_view folder) const {
  std::string_view path = std::string_view(target_).substr(0, target_.find('?'));
  out.append("PUT ").append(folder).append(path).append(" HTTP/1.1\r\n");
  http::appendHeader(out, "Host", host_.empty() ? std::string_view("localhost") : host_);
  http::appendHeader(out, "Date", date());
  out.append("Content-Length: 0\r\n\r\n");
}

FanOut::~FanOut() {
  for (auto& r : replicas_) {
    if (r->connecting) service_.connector().cancel(r->connecting);
    if (r->handler) r->handler->fanout = nullptr;
    if (r->conn) r->conn->close();
    service_.giveBuffer(std::move(r->pending));
  }
  service_.giveBuffer(std::move(head_));
  service_.giveBuffer(std::move(replay_));
}

void FanOut::start() {
  Guard g(*this);
  for (auto& r : replicas_) {
    r->pending = service_.takeBuffer();
    r->pending.append(head_);
    r->skip = parentCount_;
    connect(*r, false);
  }
}

void FanOut::connect(Replica& r, bool fresh) {
  const proxy::ProxyConfig& config = service_.config();
  if (service_.health() && !service_.health()->available(r.node, clock::monotonicMs()) &&
      !handOff(r))
    return failed(r, 503);
  const config::ListenAddress& a = config.backends[r.node].address;
  ConnectOptions options;
  options.connectTimeout = config.connectTimeout;
  options.readTimeout = 0;  // the replica's own timer
  options.sendTimeout = config.upstreamSendTimeout;
  options.fresh = fresh || config.keepaliveIdle == 0;
  options.tls = service_.upstreamTls(r.node);
  Replica* replica = &r;
  r.timer.once(config.connectTimeout + config.readTimeout);
  Connector::Id id = service_.connector().connect(
      reinterpret_cast<const sockaddr*>(&a.addr), a.len, options,
      [this, replica](const ConnectOutcome& outcome) -> std::unique_ptr<ConnectionHandler> {
        Guard g(*this);
        replica->connecting = 0;
        connected(*replica, outcome);
        if (!replica->conn) return nullptr;
        auto handler = std::make_unique<Handler>(*this, *replica);
        replica->handler = handler.get();
        return handler;
      });
  if (id != 0) r.connecting = id;
}

// The next node of the ranking that is not already used; false when none is left.
bool FanOut::handOff(Replica& r) {
  while (nextCandidate_ < nodes_.size()) {
    int node = nodes_[nextCandidate_++];
    if (service_.health() && !service_.health()->available(node, clock::monotonicMs())) continue;
    r.node = node;
    r.handoff = true;
    if (kind_ == Kind::Put && !r.hinted && !r.sentAny) {
      // The copy is remembered on the hand-off node, so the repairer moves it home.
      std::string hint;
      appendMarker(hint, kHints);
      r.pending.insert(0, hint);
      r.hinted = true;
      ++r.skip;
    }
    return true;
  }
  return false;
}

void FanOut::connected(Replica& r, const ConnectOutcome& outcome) {
  if (!outcome.connection) {
    if (outcome.error == EKEYREJECTED) service_.tlsRefused(r.node, outcome.detail);
    service_.backendCounters(r.node).inc(proxy::kBackendFailures);
    if (!r.sentAny && handOff(r)) return connect(r, false);  // its bytes wait in `pending`
    return failed(r, 502);
  }
  if (finished_) {  // answered meanwhile (the client left): nothing to send
    outcome.connection->close();
    return;
  }
  service_.countTlsHandshake(outcome);
  r.conn = outcome.connection;
  r.reused = outcome.reused;
  service_.backendCounters(r.node).inc(proxy::kBackendRequests);
  // A PUT's head waits for the first body bytes (usually read with the head, a moment later):
  // head and body then leave in one send.
  if (kind_ == Kind::Put && !bodySeen_ && !bodyDone_) return;
  if (!r.pending.empty()) {
    r.conn->output().append(r.pending);
    r.pending.clear();
    r.sentAny = true;
  }
  if (bodyDone_ && chunked_ && !r.sentAny) http::appendLastChunk(r.conn->output());
}

void FanOut::send(Replica& r, std::string_view data) {
  if (r.status != 0) return;  // this copy is settled
  if (!r.conn) {
    r.pending.append(data);
    return;
  }
  std::string& out = r.conn->output();
  if (!r.pending.empty()) {  // the head held for the body (connected())
    out.append(r.pending);
    r.pending.clear();
  }
  out.append(data);
  r.sentAny = true;
  r.conn->send();  // may close it (then closed() ran)
}

void FanOut::clientBody(std::string_view data) {
  Guard g(*this);
  bodySeen_ = true;
  if (replayable_) {
    if (replay_.size() + data.size() <= kReplayLimit) {
      replay_.append(data);
    } else {
      replayable_ = false;
      replay_.clear();
      replay_.shrink_to_fit();
    }
  }
  std::string chunk;
  std::string_view bytes = data;
  if (chunked_) {
    http::appendChunk(chunk, data);
    bytes = chunk;
  }
  for (auto& r : replicas_) send(*r, bytes);
  flowControl();
}

void FanOut::clientBodyEnd() {
  Guard g(*this);
  bodyDone_ = true;
  if (chunked_) {
    std::string last;
    http::appendLastChunk(last);
    for (auto& r : replicas_) send(*r, last);
  }
  maybeAnswer();
}

void FanOut::flowControl() {
  if (!ex_) return;
  bool full = false;
  for (auto& r : replicas_)
    if (r->status == 0 && ((r->conn && r->conn->outputPending()) || r->pending.size() > kHighWater))
      full = true;
  ex_->connection().pauseReading(full);
}

void FanOut::drained() {
  Guard g(*this);
  flowControl();
}

void FanOut::readable(Replica& r, Connection& conn) {
  Guard g(*this);
  if (r.status != 0) return;
  r.timer.once(service_.config().readTimeout);
  if (!r.inBody) {
    std::string_view input = conn.pendingInput();
    proxy::ResponseParse p = proxy::parseResponse(input, r.response, false);
    while (r.skip > 0 && p.status == proxy::ResponseStatus::Complete) {
      // A parent's answer: only its framing matters (a short body, read whole or not yet here).
      uint64_t body = r.response.framing == proxy::Framing::Length
                          ? static_cast<uint64_t>(r.response.contentLength)
                          : 0;
      if (r.response.framing == proxy::Framing::Chunked ||
          r.response.framing == proxy::Framing::Close)
        return failed(r, 502);
      if (input.size() < p.consumed + body) return;
      conn.consume(p.consumed + body);
      --r.skip;
      input = conn.pendingInput();
      p = proxy::parseResponse(input, r.response, false);
    }
    if (p.status == proxy::ResponseStatus::Incomplete) return;
    if (p.status == proxy::ResponseStatus::Error) return failed(r, 502);
    conn.consume(p.consumed);
    r.inBody = true;
    r.reader.begin(r.response);
    r.body.clear();
  }
  // The body: kept for a PROPFIND (merged), passed over otherwise.
  BodyReader::Step step = r.reader.read(conn, kind_ == Kind::Propfind ? &r.body : nullptr);
  if (step == BodyReader::Error) return failed(r, 502);
  const bool end = step == BodyReader::Done;
  if (r.body.size() > kMaxListing) return failed(r, 502);
  if (end)
    settle(r, conn.pendingInput().empty() && r.response.keepAlive && bodyDone_ &&
                  !conn.outputPending());
}

void FanOut::settle(Replica& r, bool reusable) {
  r.status = r.response.status;
  r.timer.stop();
  Connection* conn = r.conn;
  r.handler->fanout = nullptr;
  r.handler = nullptr;
  r.conn = nullptr;
  if (reusable) {
    service_.connector().release(*conn);
  } else {
    conn->close();
  }
  if (kind_ != Kind::Propfind && r.status >= 200 && r.status < 300) {
    service_.fsCounters().inc(kCopiesWritten);
    if (r.handoff) service_.fsCounters().inc(kHandoffs);
  }
  maybeAnswer();
}

void FanOut::closed(Replica& r) {
  Guard g(*this);
  if (r.status == 0 && r.inBody && r.response.framing == proxy::Framing::Close) {
    r.status = r.response.status;  // the close ends such a body
    r.timer.stop();
    r.handler = nullptr;
    r.conn = nullptr;
    return maybeAnswer();
  }
  r.handler = nullptr;
  r.conn = nullptr;
  if (r.status != 0) return;
  if (r.reused && !r.staleRetried && replayable_) {
    // A pooled connection the node had closed: once more on a fresh one, with the body so far.
    r.staleRetried = true;
    r.pending.clear();
    if (r.hinted) appendMarker(r.pending, kHints);
    r.pending.append(head_);
    r.skip = parentCount_ + (r.hinted ? 1 : 0);
    if (chunked_) {
      if (!replay_.empty()) http::appendChunk(r.pending, replay_);
      if (bodyDone_) http::appendLastChunk(r.pending);
    } else {
      r.pending.append(replay_);
    }
    r.sentAny = false;
    return connect(r, true);
  }
  service_.backendCounters(r.node).inc(proxy::kBackendFailures);
  failed(r, 502);
}

void FanOut::failed(Replica& r, int status) {
  r.status = status;
  r.timer.stop();
  if (r.connecting) {
    service_.connector().cancel(r.connecting);
    r.connecting = 0;
  }
  if (r.handler) r.handler->fanout = nullptr;
  r.handler = nullptr;
  if (r.conn) {
    Connection* conn = r.conn;
    r.conn = nullptr;
    conn->close();
  }
  maybeAnswer();
}

void FanOut::maybeAnswer() {
  if (finished_) return;
  unsigned good = 0;
  bool open = false;
  for (auto& r : replicas_) {
    open = open || r->status == 0;
    good += r->status >= 200 && r->status < 300;
  }
  if (!open) {
    finished_ = true;
    if (!answered_) answer();
    return;
  }
  // A PUT is answered once write_quorum copies are written; the others finish meanwhile.
  if (!answered_ && kind_ == Kind::Put && bodyDone_ && good >= service_.fsConfig().writeQuorum)
    return answer();
  flowControl();
}

void FanOut::answerListing() {
  std::vector<std::string_view> bodies;
  int other = 0;
  for (auto& r : replicas_) {
    LOG_DEBUG("[%s] PROPFIND: node %d answered %d (%zu bytes)", service_.config().title().c_str(),
              r->node, r->status, r->body.size());
    if (r->status == 207) bodies.push_back(r->body);
    if (r->status >= 400 && r->status < 500 && !other) other = r->status;
  }
  http::Exchange* ex = ex_;
  ex_ = nullptr;
  std::string merged, root;
  std::string_view path = std::string_view(target_).substr(0, target_.find('?'));
  if (bodies.empty() && other == 404 && stageOf(path) != 0 &&
      path.find('/', 1) >= path.size() - 1) {
    // A stage's root before anything was written to it: an empty collection, so a client
    // (cadaver, davfs2) can open it.
    root.assign("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<D:multistatus xmlns:D=\"DAV:\">\n");
    root.append("<D:response><D:href>").append(path);
    if (path.back() != '/') root.push_back('/');
    root.append(
        "</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype>"
        "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\n"
        "</D:multistatus>\n");
    bodies.push_back(root);
  }
  if (!mergeMultistatus(bodies, merged)) {
    ex->sendError(other ? other : 502);
  } else {
    ex->beginResponse(207);
    http::appendHeader(ex->out(), "Content-Type", "application/xml; charset=utf-8");
    http::appendHeader(ex->out(), "Content-Length", static_cast<uint64_t>(merged.size()));
    ex->endHeaders();
    if (!ex->head()) ex->out().append(merged);
    ex->finish(207, merged.size());
  }
  ex->state.reset();
  ex->complete();  // may destroy the client connection
}

void FanOut::answer() {
  answered_ = true;
  if (kind_ == Kind::Propfind) {
    if (ex_) answerListing();
    return;
  }
  const FsConfig& config = service_.fsConfig();
  unsigned good = 0, absent = 0;
  int success = 0, clientError = 0;
  for (auto& r : replicas_) {
    bool ok = r->status >= 200 && r->status < 300;
    if (ok && !success) success = r->status;
    if (ok) ++good;
    if ((kind_ == Kind::Delete && r->status == 404) || (kind_ == Kind::Mkcol && r->status == 405))
      ++absent;
    if (!ok && r->status >= 400 && r->status < 500 && !clientError) clientError = r->status;
  }
  shm::CounterSlot c = service_.fsCounters();
  bool quorate = good + absent >= config.writeQuorum && (good > 0 || kind_ != Kind::Put);
  c.inc(quorate ? kWritesQuorate : kWritesFailed);
  if (good > 0) {
    service_.invalidate(host_, target_);  // the cache (cache = on) drops the old copy
    if (DeletedPaths* d = service_.deletedPaths()) {
      std::string_view path = std::string_view(target_).substr(0, target_.find('?'));
      if (kind_ == Kind::Put || kind_ == Kind::Mkcol) d->written(path);  // made again
      if (kind_ == Kind::Delete) d->deleted(path, service_.runtime().now());
    }
  }
  if (!ex_) return;
  http::Exchange* ex = ex_;
  ex_ = nullptr;
  if (!bodyDone_) ex->disableKeepAlive();  // answered before the body ended: not read further
  char header[40];
  std::string_view extra(header, static_cast<size_t>(std::snprintf(
                                     header, sizeof header, "X-Copies-Written: %u\r\n", good)));
  if (!quorate) {
    int status = clientError && good == 0 ? clientError : 503;
    if (status == 503)
      LOG_WARN("[%s] %s: %u of %u copies (write_quorum %u)", config.title().c_str(),
               location_.c_str(), good, static_cast<unsigned>(replicas_.size()),
               config.writeQuorum);
    ex->sendError(status, extra);
  } else {
    // MKCOL where some node holds the name already (a collection, or a file) is 405, though
    // other nodes made it: it existed in the store.
    int status = success && !(kind_ == Kind::Mkcol && absent > 0)
                     ? success
                     : (kind_ == Kind::Delete ? 404 : 405);
    if (status >= 400) {
      ex->sendError(status, extra);
    } else {
      ex->beginResponse(status);
      ex->out().append(extra);
      if (!location_.empty()) http::appendHeader(ex->out(), "Location", location_);
      http::appendHeader(ex->out(), "Content-Length", uint64_t{0});
      ex->endHeaders();
      ex->finish(status, 0);
    }
  }
  ex->state.reset();  // the link to this fan-out
  ex->complete();     // may destroy the client connection
}

void FanOut::clientGone() {
  Guard g(*this);
  ex_ = nullptr;
  for (auto& r : replicas_)
    if (r->status == 0) failed(*r, 499);  // a cut upload: every node drops its partial file
  finished_ = true;
}

}  // namespace manifold::fs
