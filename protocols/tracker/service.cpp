// [tracker:NAME] worker half: the BEP 15 datagram handler on every UDP socket, the BEP 3 HTTP
// handler on every TCP socket (through the shared HTTP server layer), and in worker 0 the
// sweep that expires peers, reclaims empty torrents and publishes the gauges.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "protocols/http/response.hpp"
#include "protocols/http/server.hpp"
#include "protocols/tracker/bencode.hpp"
#include "protocols/tracker/connection_id.hpp"
#include "protocols/tracker/query.hpp"
#include "protocols/tracker/config.hpp"
#include "protocols/tracker/udp_packet.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/udp_endpoint.hpp"

namespace manifold::tracker {

namespace {

// A client address reduced to what the tracker needs: family, 16-byte form (IPv4 mapped)
// for the connection-id MAC, and the 4/16 raw address bytes for peer records.
struct ClientAddress {
  Family family = kV4;
  uint8_t ip16[16] = {};
  const uint8_t* raw() const { return family == kV4 ? ip16 + 12 : ip16; }
};

bool clientAddress(const sockaddr* sa, ClientAddress& out) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memset(out.ip16, 0, 10);
    out.ip16[10] = out.ip16[11] = 0xff;
    std::memcpy(out.ip16 + 12, &in->sin_addr, 4);
    out.family = kV4;
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(out.ip16, &in6->sin6_addr, 16);
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d: they are IPv4 peers.
    out.family = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) ? kV4 : kV6;
    return true;
  }
  return false;
}

uint16_t sourcePort(const sockaddr* sa) {
  return ntohs(sa->sa_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(sa)->sin_port
                                        : reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
}

std::string hex(const uint8_t* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

// The state and logic shared by the UDP and HTTP front ends of one worker.
class Tracker {
 public:
  Tracker(const TrackerConfig& config, ServiceContext& ctx)
      : config_(config),
        ctx_(ctx),
        store_(ctx.regions.at(0)),
        rng_(0x6d616e69666f6c64ull ^ (uint64_t{ctx.workerIndex} << 32) ^
             static_cast<uint64_t>(::getpid())) {
    if (!store_.ok())
      LOG_ERROR("%s: swarm region is not formatted; answering with errors", config.title().c_str());
    else
      ids_ = ConnectionIds(store_.secret(), config.connectionIdLifetime);
  }

  const TrackerConfig& config() const { return config_; }
  SwarmStore& store() { return store_; }
  bool ready() const { return store_.ok(); }
  uint32_t now() const { return static_cast<uint32_t>(ctx_.runtime->now()); }
  void count(unsigned counter, uint64_t n = 1) { ctx_.counters.add(counter, n); }
  bool serves(Family f) const { return f == kV4 ? config_.ipv4 : config_.ipv6; }
  const ConnectionIds& ids() const { return ids_; }

  uint64_t random() {
    // xorshift64*: per-worker, no syscall.
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545f4914f6cdd1dull;
  }
  // Interval with +/-5% jitter, so clients started together drift apart.
  uint32_t interval() {
    const uint32_t j = config_.interval / 20;
    return j ? config_.interval - j + static_cast<uint32_t>(random() % (2 * j + 1))
             : config_.interval;
  }
  uint32_t numWant(int64_t asked) const {
    if (asked < 0) return config_.defaultNumWant;
    return static_cast<uint32_t>(std::min<int64_t>(asked, config_.maxNumWant));
  }

 private:
  const TrackerConfig& config_;
  ServiceContext& ctx_;
  SwarmStore store_;
  ConnectionIds ids_;
  uint64_t rng_;
};

// ---- UDP (BEP 15) ---------------------------------------------------------------------------

class UdpHandler : public DatagramHandler {
 public:
  explicit UdpHandler(Tracker& t) : t_(t) {}

  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t, uint8_t* out,
                    size_t cap) override {
    t_.count(kUdpRequests);
    ClientAddress client;
    if (!clientAddress(peer, client)) return 0;
    UdpRequest req = parseUdpRequest({in, len}, t_.config().maxScrapeHashes);
    switch (req.kind) {
      case UdpParse::Drop:
        t_.count(kErrors);
        return 0;
      case UdpParse::Error:
        return error(out, cap, req.transactionId, req.error);
      default:
        break;
    }
    if (!t_.serves(client.family))
      return error(out, cap, req.transactionId, "address family not served");
    if (!t_.ready()) return error(out, cap, req.transactionId, "tracker unavailable");
    const uint32_t now = t_.now();
    if (req.kind == UdpParse::Connect) {
      t_.count(kConnects);
      return writeConnectResponse(out, cap, req.transactionId, t_.ids().make(client.ip16, now));
    }
    const uint64_t cid =
        req.kind == UdpParse::Announce ? req.announce.connectionId : req.scrape.connectionId;
    if (!t_.ids().valid(cid, client.ip16, now)) {
      t_.count(kBadConnectionIds);
      return error(out, cap, req.transactionId, "invalid connection id");
    }
    return req.kind == UdpParse::Announce ? announce(req, client, peer, now, out, cap)
                                          : scrape(req, out, cap);
  }

 private:
  size_t error(uint8_t* out, size_t cap, uint32_t tid, std::string_view why) {
    t_.count(kErrors);
    return writeErrorResponse(out, cap, tid, why);
  }

  size_t announce(const UdpRequest& req, const ClientAddress& client, const sockaddr* peer,
                  uint32_t now, uint8_t* out, size_t cap) {
    const UdpAnnounce& a = req.announce;
    if (!t_.config().accessList.permits(a.infoHash)) {
      t_.count(kDenied);
      return error(out, cap, req.transactionId, "torrent not allowed");
    }
    const Family f = client.family;
    uint8_t key[18];
    const size_t addrBytes = f == kV4 ? 4 : 16;
    std::memcpy(key, client.raw(), addrBytes);
    const uint16_t port = a.port ? a.port : sourcePort(peer);
    key[addrBytes] = static_cast<uint8_t>(port >> 8);
    key[addrBytes + 1] = static_cast<uint8_t>(port);
    AnnounceInput in;
    in.infoHash = a.infoHash;
    in.family = f;
    in.peerKey = key;
    in.event = a.event;
    in.seeder = a.left == 0;
    in.numWant =
        std::min<uint32_t>(t_.numWant(a.numWant), static_cast<uint32_t>((cap - 20) / kKeyBytes[f]));
    in.now = now;
    in.peerTimeout = t_.config().peerTimeout;
    AnnounceOutput res = t_.store().announce(in, out + 20, t_.random());
    if (res.status == AnnounceStatus::Full) {
      t_.count(kRefusedFull);
      return error(out, cap, req.transactionId, "tracker is full");
    }
    t_.count(kAnnounces);
    writeAnnounceHeader(out, cap, req.transactionId, t_.interval(), res.leechers, res.seeders);
    return 20 + size_t{res.peers} * kKeyBytes[f];
  }

  size_t scrape(const UdpRequest& req, uint8_t* out, size_t cap) {
    t_.count(kScrapes);
    size_t n = writeScrapeHeader(out, cap, req.transactionId);
    for (size_t i = 0; i < req.scrape.count; ++i) {
      ScrapeCounts c = t_.store().scrape(req.scrape.hashes + i * kInfoHashBytes);
      const size_t w = writeScrapeEntry(out + n, cap - n, c.seeders, c.downloaded, c.leechers);
      if (!w) break;
      n += w;
    }
    return n;
  }

  Tracker& t_;
};

// ---- HTTP (BEP 3 / 23 / 7 / 48) -------------------------------------------------------------

class HttpHandler : public http::RequestHandler {
 public:
  explicit HttpHandler(Tracker& t) : t_(t) {
    peers_.resize(size_t{t.config().maxNumWant} * 18 + 18);
    hashes_.resize(size_t{t.config().maxScrapeHashes} * 20);
  }

  void onRequest(http::Exchange& ex) override {
    const auto& req = ex.request();
    if (!req.isHeadOrGet()) return ex.sendError(405, "Allow: GET, HEAD\r\n");
    body_.clear();
    if (req.path == "/announce")
      announce(ex);
    else if (req.path == "/scrape")
      scrape(ex);
    else if (req.path == "/swarm")
      swarm(ex);
    else
      return ex.sendError(404);
    ex.beginResponse(200);
    http::appendHeader(ex.out(), "Content-Type", "text/plain");
    http::appendHeader(ex.out(), "Content-Length", body_.size());
    ex.out().append("Cache-Control: no-store\r\n");
    ex.endHeaders();
    if (!ex.head()) ex.out().append(body_);
    ex.finish(200, ex.head() ? 0 : body_.size());
  }

 private:
  void fail(std::string_view why) {
    t_.count(kErrors);
    body_ = bencode::failure(why);
  }

  void announce(http::Exchange& ex) {
    AnnounceQuery q;
    if (auto why = parseAnnounceQuery(ex.request().query, q); !why.empty()) return fail(why);
    ClientAddress client;
    if (!clientAddress(reinterpret_cast<const sockaddr*>(&ex.connection().peer()), client))
      return fail("unsupported address family");
    if (t_.config().trustIpParam && !q.ip.empty()) overrideAddress(q.ip, client);
    if (!t_.serves(client.family)) return fail("address family not served");
    if (!t_.ready()) return fail("tracker unavailable");
    if (!t_.config().accessList.permits(q.infoHash)) {
      t_.count(kDenied);
      return fail("torrent not allowed");
    }
    const Family f = client.family;
    uint8_t key[18];
    const size_t addrBytes = f == kV4 ? 4 : 16;
    std::memcpy(key, client.raw(), addrBytes);
    key[addrBytes] = static_cast<uint8_t>(q.port >> 8);
    key[addrBytes + 1] = static_cast<uint8_t>(q.port);
    AnnounceInput in;
    in.infoHash = q.infoHash;
    in.family = f;
    in.peerKey = key;
    in.event = q.event;
    in.seeder = q.haveLeft && q.left == 0;
    in.numWant = t_.numWant(q.numWant);
    in.now = t_.now();
    in.peerTimeout = t_.config().peerTimeout;
    AnnounceOutput res = t_.store().announce(in, peers_.data(), t_.random());
    if (res.status == AnnounceStatus::Full) {
      t_.count(kRefusedFull);
      return fail("tracker is full");
    }
    t_.count(kAnnounces);
    // Keys in sorted order, as bencoding requires.
    body_.push_back('d');
    bencode::appendKeyInt(body_, "complete", res.seeders);
    bencode::appendKeyInt(body_, "downloaded", res.downloaded);
    bencode::appendKeyInt(body_, "incomplete", res.leechers);
    bencode::appendKeyInt(body_, "interval", t_.interval());
    bencode::appendKeyInt(body_, "min interval", t_.config().minInterval);
    const size_t kb = kKeyBytes[f];
    const std::string_view packed(reinterpret_cast<const char*>(peers_.data()), res.peers * kb);
    if (q.compact) {
      if (f == kV4) {
        bencode::appendKeyString(body_, "peers", packed);
      } else {
        bencode::appendKeyString(body_, "peers", "");
        bencode::appendKeyString(body_, "peers6", packed);
      }
    } else {
      // BEP 3 dictionaries. Peer ids are not stored (as opentracker), so "peer id" is absent.
      bencode::appendString(body_, "peers");
      body_.push_back('l');
      char text[INET6_ADDRSTRLEN];
      for (uint32_t i = 0; i < res.peers; ++i) {
        const uint8_t* p = peers_.data() + i * kb;
        inet_ntop(f == kV4 ? AF_INET : AF_INET6, p, text, sizeof text);
        body_.push_back('d');
        bencode::appendKeyString(body_, "ip", text);
        bencode::appendKeyInt(body_, "port", p[kb - 2] << 8 | p[kb - 1]);
        body_.push_back('e');
      }
      body_.push_back('e');
    }
    body_.push_back('e');
  }

  static void overrideAddress(std::string_view encoded, ClientAddress& client) {
    char text[INET6_ADDRSTRLEN + 1];
    const int n = percentDecode(encoded, reinterpret_cast<uint8_t*>(text), sizeof text - 1);
    if (n <= 0) return;
    text[n] = 0;
    in_addr a4;
    in6_addr a6;
    if (inet_pton(AF_INET, text, &a4) == 1) {
      std::memset(client.ip16, 0, 10);
      client.ip16[10] = client.ip16[11] = 0xff;
      std::memcpy(client.ip16 + 12, &a4, 4);
      client.family = kV4;
    } else if (inet_pton(AF_INET6, text, &a6) == 1) {
      std::memcpy(client.ip16, &a6, 16);
      client.family = IN6_IS_ADDR_V4MAPPED(&a6) ? kV4 : kV6;
    }
  }

  void scrape(http::Exchange& ex) {
    const int n = parseScrapeQuery(ex.request().query, hashes_.data(), t_.config().maxScrapeHashes);
    if (n < 0) return fail("invalid info_hash");
    if (n == 0 && !t_.config().fullScrape) return fail("full scrape is not supported");
    if (!t_.ready()) return fail("tracker unavailable");
    t_.count(kScrapes);
    if (n == 0) return fullScrape();
    // d5:filesd<hash>d8:completei.e10:downloadedi.e10:incompletei.ee...ee, hashes sorted.
    scraped_.clear();
    for (int i = 0; i < n; ++i) {
      SwarmStore::TorrentCounts c;
      std::memcpy(c.infoHash.data(), hashes_.data() + i * 20, 20);
      scraped_.push_back(c);
    }
    sortUnique(scraped_);
    for (auto& c : scraped_) c.counts = t_.store().scrape(c.infoHash.data());
    appendFiles(body_, scraped_);
  }

  // Every torrent the access list still permits, rebuilt at most once per
  // full_scrape_interval (a full scrape walks every shard; a busy tracker gets many).
  void fullScrape() {
    const uint32_t now = t_.now();
    if (fullScrapeBody_.empty() || now - fullScrapeBuilt_ >= t_.config().fullScrapeInterval) {
      scraped_.clear();
      t_.store().collect(scraped_);
      std::erase_if(scraped_, [&](const SwarmStore::TorrentCounts& c) {
        return !t_.config().accessList.permits(c.infoHash.data());
      });
      sortUnique(scraped_);
      fullScrapeBody_.clear();
      appendFiles(fullScrapeBody_, scraped_);
      fullScrapeBuilt_ = now;
    }
    body_ = fullScrapeBody_;
  }

  static void sortUnique(std::vector<SwarmStore::TorrentCounts>& v) {
    auto byHash = [](const auto& a, const auto& b) { return a.infoHash < b.infoHash; };
    std::sort(v.begin(), v.end(), byHash);
    v.erase(std::unique(v.begin(), v.end(),
                        [](const auto& a, const auto& b) { return a.infoHash == b.infoHash; }),
            v.end());
  }

  // Bencoded dictionaries need their keys sorted: `torrents` is.
  static void appendFiles(std::string& out, const std::vector<SwarmStore::TorrentCounts>& torrents) {
    out += "d5:filesd";
    for (auto& t : torrents) {
      bencode::appendString(out, std::string_view(reinterpret_cast<const char*>(t.infoHash.data()), 20));
      out.push_back('d');
      bencode::appendKeyInt(out, "complete", t.counts.seeders);
      bencode::appendKeyInt(out, "downloaded", t.counts.downloaded);
      bencode::appendKeyInt(out, "incomplete", t.counts.leechers);
      out.push_back('e');
    }
    out += "ee";
  }

  // GET /swarm?info_hash=<40 hex> (loopback clients only): one line per peer, for operators.
  void swarm(http::Exchange& ex) {
    ClientAddress client;
    const bool local =
        clientAddress(reinterpret_cast<const sockaddr*>(&ex.connection().peer()), client) &&
        ((client.family == kV4 && client.ip16[12] == 127) ||
         (client.family == kV6 &&
          IN6_IS_ADDR_LOOPBACK(reinterpret_cast<const in6_addr*>(client.ip16))));
    std::string_view q = ex.request().query;
    uint8_t hash[20];
    if (!local) {
      body_ = "forbidden\n";
      return;
    }
    if (!q.starts_with("info_hash=") || !parseHexHash(q.substr(10), hash) || !t_.ready()) {
      body_ = "usage: /swarm?info_hash=<40 hex digits>\n";
      return;
    }
    ScrapeCounts c = t_.store().scrape(hash);
    auto peers = t_.store().list(hash, t_.now());
    body_ = "info_hash " + hex(hash, 20) + "\nseeders " + std::to_string(c.seeders) +
            "\nleechers " + std::to_string(c.leechers) + "\ndownloaded " +
            std::to_string(c.downloaded) + "\n";
    char text[INET6_ADDRSTRLEN];
    for (auto& p : peers) {
      const size_t kb = kKeyBytes[p.family];
      inet_ntop(p.family == kV4 ? AF_INET : AF_INET6, p.key, text, sizeof text);
      body_ += std::string(p.family == kV4 ? "peer " : "peer [") + text +
               (p.family == kV4 ? ":" : "]:") + std::to_string(p.key[kb - 2] << 8 | p.key[kb - 1]) +
               (p.seeder ? " seeder" : " leecher") + " last_seen " + std::to_string(p.age) + "s\n";
    }
  }

  Tracker& t_;
  std::string body_, fullScrapeBody_;
  uint32_t fullScrapeBuilt_ = 0;
  std::vector<SwarmStore::TorrentCounts> scraped_;
  std::vector<uint8_t> peers_, hashes_;
};

// ---- service ---------------------------------------------------------------------------------

class TrackerService : public Service {
 public:
  TrackerService(const TrackerConfig& config, ServiceContext& ctx)
      : config_(config), ctx_(ctx), tracker_(config, ctx_), udp_(tracker_), http_(tracker_) {
    site_.title = config.title();
    site_.handler = &http_;
    site_.counters = ctx_.counters;
    site_.limits = &config.limits;
    site_.isDefault = true;
    site_.names = {"*"};
    ev_timer_init(&cleanTimer_, onClean, config.cleanInterval, config.cleanInterval);
    cleanTimer_.data = this;
  }
  ~TrackerService() override { ev_timer_stop(ctx_.loop, &cleanTimer_); }

  void start() override {
    size_t i = 0;
    for (auto& address : config_.listen) {
      (void)address;
      if (config_.udp) {
        endpoints_.push_back(std::make_unique<UdpEndpoint>(*ctx_.runtime, ctx_.fds.at(i++), udp_));
        endpoints_.back()->start();
      }
      if (config_.http) {
        auto& listener = http::Listener::forFd(*ctx_.runtime, ctx_.fds.at(i++));
        listener.addSite(&site_);
        listener.start();
        listeners_.push_back(&listener);
      }
    }
    if (ctx_.workerIndex == 0 && tracker_.ready()) ev_timer_start(ctx_.loop, &cleanTimer_);
  }
  void stopAccepting() override {
    for (auto& e : endpoints_) e->stop();
    for (auto* l : listeners_) l->stop();
    ev_timer_stop(ctx_.loop, &cleanTimer_);
  }
  size_t inFlight() const override { return 0; }

 private:
  static void onClean(struct ev_loop*, ev_timer* w, int) {
    auto* self = static_cast<TrackerService*>(w->data);
    auto& store = self->tracker_.store();
    CleanTotals t = store.clean(self->tracker_.now(), self->config_.peerTimeout,
                                self->config_.torrentTimeout);
    shm::CounterSlot c = self->ctx_.counters;
    c.set(kTorrents, t.torrents);
    c.set(kPeers, t.peers);
    c.set(kSeeders, t.seeders);
    c.set(kLeechers, t.leechers);
    c.set(kSwarmBytes, store.arenaUsed());
  }

  const TrackerConfig& config_;
  ServiceContext ctx_;
  Tracker tracker_;
  UdpHandler udp_;
  HttpHandler http_;
  http::Site site_;
  std::vector<std::unique_ptr<UdpEndpoint>> endpoints_;
  std::vector<http::Listener*> listeners_;
  ev_timer cleanTimer_;
};

}  // namespace

std::unique_ptr<Service> TrackerConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<TrackerService>(*this, ctx);
}

}  // namespace manifold::tracker
