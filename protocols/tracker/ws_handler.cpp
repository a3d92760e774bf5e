#include "protocols/tracker/ws_handler.hpp"

#include <algorithm>
#include <cstring>

#include "protocols/http/websocket_handshake.hpp"
#include "protocols/tracker/tracker.hpp"
#include "worker/connection.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::tracker {

namespace {
using namespace http::ws;

bool sameId(const uint8_t* a, const uint8_t* b) { return std::memcmp(a, b, 20) == 0; }
}  // namespace

// --- WsHub -----------------------------------------------------------------------------------

WsHub::WsHub(Tracker& tracker, ServiceContext& ctx)
    : t_(tracker),
      ctx_(ctx),
      store_(ctx.regions.size() > TrackerConfig::kWsSwarmRegion
                 ? ctx.regions[TrackerConfig::kWsSwarmRegion]
                 : nullptr),
      wakeWatcher_(ctx.loop, [this](int) { onWake(); }),
      flushTimer_(ctx.loop, [this] { flushDirty(); }),
      nextToken_((tracker.random() & 0xFFFFFFFF00000000ull) | 1) {
  if (ctx.regions.size() > TrackerConfig::kRelayRegion)
    rings_ = shm::RingArray::at(ctx.regions[TrackerConfig::kRelayRegion]);
  if (!ready())
    LOG_ERROR("%s: WebSocket regions are not formatted; refusing upgrades",
              t_.config().title().c_str());
  targets_.resize(std::max<uint32_t>(1, t_.config().maxOffers));
  if (store_.ok()) t_.attachWs(&store_);
}

WsHub::~WsHub() { t_.attachWs(nullptr); }

void WsHub::start() {
  if (!ready()) return;
  mine_ = rings_->ring(slot());
  if (!mine_) {
    LOG_ERROR("%s: no relay ring for worker slot %u", t_.config().title().c_str(), ctx_.slot);
    return;
  }
  // Whatever a previous owner of this slot left (in the ring and in the swarms) is stale.
  mine_->discard();
  store_.clean(t_.now(), t_.config().wsPeerTimeout, slot());
  const auto& fds = t_.config().wakeFds;
  wakeFd_ = slot() < fds.size() ? fds[slot()] : -1;
  if (wakeFd_ >= 0) wakeWatcher_.start(wakeFd_, IoWatcher::kRead);
}

void WsHub::stop() { wakeWatcher_.stop(); }

void WsHub::markDirty(uint64_t token) {
  dirty_.push_back(token);
  if (!flushTimer_.active()) flushTimer_.once(0);
}

void WsHub::flushDirty() {
  const auto& fds = t_.config().wakeFds;
  for (uint16_t slot : wakes_)
    if (slot < fds.size()) shm::wake(fds[slot]);
  wakes_.clear();
  flushing_.swap(dirty_);
  for (uint64_t token : flushing_) {
    auto it = connections_.find(token);
    if (it != connections_.end()) it->second->flushQueued();  // may close it
  }
  flushing_.clear();
}

void WsHub::closeAll() {
  std::vector<uint64_t> tokens;
  tokens.reserve(connections_.size());
  for (auto& [token, c] : connections_) tokens.push_back(token);
  for (uint64_t token : tokens) {
    auto it = connections_.find(token);
    if (it != connections_.end()) it->second->closeWith(kCloseGoingAway, "server stopping");
  }
}

uint64_t WsHub::add(WsConnection* c) {
  const uint64_t token = nextToken_++;
  connections_.emplace(token, c);
  t_.count(kWsConnections);
  return token;
}

void WsHub::remove(uint64_t token) {
  if (connections_.erase(token)) ctx_.counters.dec(kWsConnections);
}

void WsHub::upgrade(http::Exchange& ex) {
  const auto& req = ex.request();
  const TrackerConfig& c = t_.config();
  HandshakeCheck check = checkHandshake(req, c.wsOrigins);
  if (check.status == 0 && !ready()) check = {503, "WebSocket swarms unavailable"};
  if (check.status != 0) {
    t_.count(kWsHandshakesRefused);
    return ex.sendError(check.status,
                        check.status == 426 ? HandshakeCheck::kVersionHeader : std::string_view{});
  }
  auto handler = std::make_unique<WsConnection>(*this, ex.connection());
  if (!ex.switchProtocols("websocket", std::move(handler), acceptHeaders(req))) ex.sendError(400);
}

void WsHub::relay(const WsOwner& to, const RelayHeader& header, std::string_view json) {
  const bool offer = header.kind == RelayKind::Offer;
  if (to.slot == slot()) {
    t_.count(offer ? kWsOffersLocal : kWsAnswersLocal);
    return deliverLocal(header, json);
  }
  shm::Ring* ring = rings_->ring(to.slot);
  bool wake = false;
  if (!ring) {
    t_.count(kWsDropsGone);
  } else if (!ring->push(
                 {std::string_view(reinterpret_cast<const char*>(&header), sizeof header), json},
                 wake)) {
    t_.count(kWsDropsFull);
  } else {
    t_.count(offer ? kWsOffersRemote : kWsAnswersRemote);
    // The wake-up leaves with this turn's sends: one eventfd write per target worker however
    // many records this turn queued for it.
    if (wake && std::find(wakes_.begin(), wakes_.end(), to.slot) == wakes_.end()) {
      wakes_.push_back(to.slot);
      if (!flushTimer_.active()) flushTimer_.once(0);
    }
  }
}

void WsHub::deliverLocal(const RelayHeader& header, std::string_view json) {
  auto it = connections_.find(header.token);
  if (it == connections_.end()) return t_.count(kWsDropsGone);
  it->second->deliver(header, json);
}

void WsHub::onWake() {
  shm::clearWake(wakeFd_);
  if (!mine_) return;
  mine_->drain([this](std::string_view record) {
    if (record.size() < sizeof(RelayHeader)) return;
    RelayHeader h;
    std::memcpy(&h, record.data(), sizeof h);
    deliverLocal(h, record.substr(sizeof h));
  });
  ctx_.counters.set(kWsRingHighWater, mine_->highWater());
}

// --- WsConnection ------------------------------------------------------------------------------

WsConnection::WsConnection(WsHub& hub, Connection& conn)
    : hub_(hub), conn_(conn), token_(hub.add(this)), reader_(&hub.tracker().config().wsLimits) {
  // The HTTP session sets its keep-alive timeout when it hands over, after this: ours is set on
  // the first read or the next loop turn, whichever comes first.
  dirty_ = true;
  hub.markDirty(token_);
}

void WsConnection::takeOver() {
  if (started_) return;
  started_ = true;
  conn_.setIdleTimeout(hub_.tracker().config().wsIdleTimeout);
}

WsConnection::~WsConnection() { leaveAll(); }

void WsConnection::onClose(Connection&) { leaveAll(); }

// A closed connection's peers leave their swarms at once.
void WsConnection::leaveAll() {
  if (!token_) return;
  const WsOwner me{token_, hub_.slot()};
  for (const Joined& j : joined_) hub_.store().remove(j.infoHash, j.peerId, me);
  joined_.clear();
  hub_.remove(token_);
  token_ = 0;
}

void WsConnection::sendText(std::string_view json) {
  std::string& out = conn_.output();
  if (out.size() + json.size() > hub_.tracker().config().wsSendBuffer) {
    // The client does not read: cut it off rather than buffer without bound.
    if (!conn_.closing()) hub_.tracker().count(kWsSlowClosed);
    closing_ = true;
    conn_.abort();
    return;
  }
  appendFrame(out, kText, json);
}

void WsConnection::closeWith(uint16_t code, std::string_view reason) {
  if (!closing_) appendClose(conn_.output(), code, reason);
  closing_ = true;
  conn_.closeAfterFlush();
  conn_.send();  // outside our callbacks this flushes (and may destroy us); inside, a no-op
}

void WsConnection::deliver(const RelayHeader& header, std::string_view json) {
  if (closing_) return hub_.tracker().count(kWsDropsGone);
  if (header.kind == RelayKind::Offer) {
    const double now = conn_.runtime().loopTime();
    const double oldest = now - hub_.tracker().config().maxOfferAge;
    std::erase_if(pending_, [&](const Pending& p) { return p.at < oldest; });
    if (pending_.size() == kMaxPending) pending_.erase(pending_.begin());
    Pending p;
    std::memcpy(p.infoHash, header.infoHash, 20);
    std::memcpy(p.fromPeerId, header.fromPeerId, 20);
    std::memcpy(p.offerId, header.offerId, 20);
    p.at = now;
    pending_.push_back(p);
  }
  sendText(json);
  if (!dirty_) {
    dirty_ = true;
    hub_.markDirty(token_);
  }
}

void WsConnection::flushQueued() {
  dirty_ = false;
  takeOver();
  conn_.send();  // may destroy this connection: nothing after
}

void WsConnection::onReadable(Connection& conn) {
  takeOver();
  std::string& scratch = hub_.scratch();
  while (!closing_) {
    http::ws::Event e = reader_.next(conn.pendingInput(), scratch);
    conn.consume(e.consumed);
    switch (e.kind) {
      case http::ws::Event::None:
        return;
      case http::ws::Event::Fragment:
      case http::ws::Event::Pong:
        break;
      case http::ws::Event::Ping:
        appendFrame(conn.output(), kPong, e.payload);
        break;
      case http::ws::Event::Close:
        // Echo the peer's code (1000 when it gave none); an invalid close frame gets 1002.
        if (e.code == 0) hub_.tracker().count(kWsProtocolErrors);
        closeWith(e.code == 0                ? uint16_t{kCloseProtocolError}
                  : e.code == kCloseNoStatus ? uint16_t{kCloseNormal}
                                             : e.code,
                  {});
        break;
      case http::ws::Event::Error:
        hub_.tracker().count(kWsProtocolErrors);
        closeWith(e.code, e.why);
        break;
      case http::ws::Event::Message:
        if (e.opcode != kText) {
          hub_.tracker().count(kWsProtocolErrors);
          closeWith(kCloseUnsupportedData, "binary messages are not understood");
        } else {
          onMessage(e.payload);
        }
        break;
    }
  }
  conn.consume(conn.pendingInput().size());  // closing: the rest is not read
}

void WsConnection::onMessage(std::string_view text) {
  ws::Request& req = hub_.request();
  req = ws::Request{};
  std::string& out = hub_.json();
  out.clear();
  if (const char* why = ws::parseRequest(text, req)) {
    hub_.tracker().count(kErrors);
    ws::appendFailure(out, req.action, req.hasInfoHash ? req.infoHash : nullptr, why);
    return sendText(out);
  }
  if (req.action == ws::Action::Scrape) return scrape(req);
  if (!hub_.tracker().admits(req.infoHash)) {
    ws::appendFailure(out, req.action, req.infoHash, "info_hash not allowed");
    return sendText(out);
  }
  if (!req.answer.empty()) return answer(req);
  announce(req);
}

void WsConnection::announce(const ws::Request& req) {
  Tracker& t = hub_.tracker();
  const TrackerConfig& c = t.config();
  uint32_t want = std::min<uint32_t>(req.offerCount, c.maxOffers);
  if (req.numWant >= 0) want = std::min<uint32_t>(want, static_cast<uint32_t>(req.numWant));
  WsAnnounceInput in;
  in.infoHash = req.infoHash;
  in.peerId = req.peerId;
  in.owner = {token_, hub_.slot()};
  in.event = req.event;
  in.seeder = req.left == 0;
  in.now = t.now();
  in.peerTimeout = c.wsPeerTimeout;
  in.want = want;
  std::string& out = hub_.json();
  out.clear();
  auto mine = std::find_if(joined_.begin(), joined_.end(), [&](const Joined& j) {
    return sameId(j.infoHash, req.infoHash) && sameId(j.peerId, req.peerId);
  });
  if (mine == joined_.end() && joined_.size() >= kMaxJoined && req.event != Event::Stopped) {
    t.count(kErrors);
    ws::appendFailure(out, ws::Action::Announce, req.infoHash,
                      "too many torrents on one connection");
    return sendText(out);
  }
  std::vector<WsTarget>& targets = hub_.targets();
  WsAnnounceOutput res = hub_.store().announce(in, targets.data(), t.random());
  if (res.status != WsAnnounceStatus::Ok) {
    const bool full = res.status == WsAnnounceStatus::Full;
    t.count(full ? kRefusedFull : kWsPeerIdRefused);
    ws::appendFailure(out, ws::Action::Announce, req.infoHash,
                      full ? "tracker is full" : "peer_id is used by another connection");
    return sendText(out);
  }
  if (res.joined && mine == joined_.end()) {
    Joined j;
    std::memcpy(j.infoHash, req.infoHash, 20);
    std::memcpy(j.peerId, req.peerId, 20);
    joined_.push_back(j);
  } else if (!res.joined && mine != joined_.end()) {
    joined_.erase(mine);
  }
  t.count(kWsAnnounces);
  ws::appendAnnounceAnswer(out, req.infoHash, c.wsInterval, res.complete, res.incomplete);
  sendText(out);

  RelayHeader h{};
  h.kind = RelayKind::Offer;
  std::memcpy(h.infoHash, req.infoHash, 20);
  std::memcpy(h.fromPeerId, req.peerId, 20);
  for (uint32_t i = 0; i < res.targets; ++i) {
    const ws::Offer& o = req.offers[i];
    h.token = targets[i].owner.token;
    std::memcpy(h.offerId, o.offerId, 20);
    out.clear();
    ws::appendRelay(out, req.infoHash, req.peerId, o.offerId, "offer", o.offer);
    hub_.relay(targets[i].owner, h, out);
  }
}

bool WsConnection::consumePending(const ws::Request& req) {
  const double oldest = conn_.runtime().loopTime() - hub_.tracker().config().maxOfferAge;
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (sameId(it->offerId, req.offerId) && sameId(it->fromPeerId, req.toPeerId) &&
        sameId(it->infoHash, req.infoHash)) {
      const bool fresh = it->at >= oldest;
      pending_.erase(it);
      return fresh;
    }
  }
  return false;
}

void WsConnection::answer(const ws::Request& req) {
  Tracker& t = hub_.tracker();
  if (!consumePending(req)) return t.count(kWsAnswersUnmatched);
  WsOwner to;
  if (!hub_.store().find(req.infoHash, req.toPeerId, to)) return t.count(kWsDropsGone);
  RelayHeader h{};
  h.kind = RelayKind::Answer;
  h.token = to.token;
  std::memcpy(h.infoHash, req.infoHash, 20);
  std::memcpy(h.fromPeerId, req.peerId, 20);
  std::memcpy(h.offerId, req.offerId, 20);
  std::string& out = hub_.json();
  out.clear();
  ws::appendRelay(out, req.infoHash, req.peerId, req.offerId, "answer", req.answer);
  hub_.relay(to, h, out);
}

void WsConnection::scrape(const ws::Request& req) {
  Tracker& t = hub_.tracker();
  std::string& out = hub_.json();
  out.clear();
  if (req.scrapeCount == 0) {
    t.count(kErrors);
    ws::appendFailure(out, ws::Action::Scrape, nullptr, "full scrape is not supported");
    return sendText(out);
  }
  ws::appendScrapeBegin(out);
  for (uint32_t i = 0; i < req.scrapeCount; ++i) {
    ScrapeCounts c = t.scrape(req.scrapeHashes[i]);
    ws::appendScrapeFile(out, i == 0, req.scrapeHashes[i], c.seeders, c.leechers, c.downloaded);
  }
  ws::appendScrapeEnd(out);
  t.count(kWsScrapes);
  sendText(out);
}

}  // namespace manifold::tracker
