#include "protocols/tracker/http_handler.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "protocols/http/response.hpp"
#include "protocols/http/websocket_handshake.hpp"
#include "protocols/tracker/bencode.hpp"
#include "protocols/tracker/query.hpp"
#include "protocols/tracker/ws_handler.hpp"

namespace manifold::tracker {

namespace {

std::string hex(const uint8_t* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

net::PeerAddress clientOf(http::Exchange& ex) {
  return net::peerAddress(reinterpret_cast<const sockaddr*>(&ex.connection().peer()));
}

// The `ip=` value (still percent-encoded) as an address; `client` stays as it was when the
// value is not a numeric IPv4 or IPv6 address.
void overrideAddress(std::string_view encoded, net::PeerAddress& client) {
  char text[INET6_ADDRSTRLEN];
  const int n = percentDecode(encoded, reinterpret_cast<uint8_t*>(text), sizeof text);
  net::PeerAddress given;
  if (n > 0 && net::parseAddress({text, static_cast<size_t>(n)}, given)) client = given;
}

void sortUnique(std::vector<SwarmStore::TorrentCounts>& v) {
  auto byHash = [](const auto& a, const auto& b) { return a.infoHash < b.infoHash; };
  std::sort(v.begin(), v.end(), byHash);
  v.erase(std::unique(v.begin(), v.end(),
                      [](const auto& a, const auto& b) { return a.infoHash == b.infoHash; }),
          v.end());
}

// Bencoded dictionaries need their keys sorted: `torrents` is.
void appendFiles(std::string& out, const std::vector<SwarmStore::TorrentCounts>& torrents) {
  out += "d5:filesd";
  for (auto& t : torrents) {
    bencode::appendString(out,
                          std::string_view(reinterpret_cast<const char*>(t.infoHash.data()), 20));
    out.push_back('d');
    bencode::appendKeyInt(out, "complete", t.counts.seeders);
    bencode::appendKeyInt(out, "downloaded", t.counts.downloaded);
    bencode::appendKeyInt(out, "incomplete", t.counts.leechers);
    out.push_back('e');
  }
  out += "ee";
}

}  // namespace

HttpHandler::HttpHandler(Tracker& t, WsHub* ws) : t_(t), ws_(ws) {
  peers_.resize(size_t{t.config().maxNumWant} * 18 + 18);
  hashes_.resize(size_t{t.config().maxScrapeHashes} * 20);
}

void HttpHandler::onRequest(http::Exchange& ex) {
  const auto& req = ex.request();
  if (ws_ && http::ws::wantsWebSocket(req) && (req.path == "/" || req.path == "/announce"))
    return ws_->upgrade(ex);
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

void HttpHandler::fail(std::string_view why) {
  t_.count(kErrors);
  body_ = bencode::failure(why);
}

void HttpHandler::announce(http::Exchange& ex) {
  AnnounceQuery q;
  if (auto why = parseAnnounceQuery(ex.request().query, q); !why.empty()) return fail(why);
  net::PeerAddress client = clientOf(ex);
  if (!client.family) return fail("unsupported address family");
  if (t_.config().trustIpParam && !q.ip.empty()) overrideAddress(q.ip, client);
  const Family f = familyOf(client);
  if (!t_.serves(f)) return fail("address family not served");
  if (!t_.ready()) return fail("tracker unavailable");
  if (!t_.admits(q.infoHash)) return fail("torrent not allowed");
  AnnounceInput in;
  in.infoHash = q.infoHash;
  in.event = q.event;
  in.seeder = q.haveLeft && q.left == 0;
  in.numWant = t_.numWant(q.numWant);
  AnnounceOutput res = t_.announce(in, client, q.port, peers_.data());
  if (res.status == AnnounceStatus::Full) return fail("tracker is full");
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

void HttpHandler::scrape(http::Exchange& ex) {
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
  for (auto& c : scraped_) c.counts = t_.scrape(c.infoHash.data());
  appendFiles(body_, scraped_);
}

// Every torrent the access list still permits, rebuilt at most once per
// full_scrape_interval (a full scrape walks every shard; a busy tracker gets many).
void HttpHandler::fullScrape() {
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

// GET /swarm?info_hash=<40 hex> (loopback clients only): one line per peer, for operators.
void HttpHandler::swarm(http::Exchange& ex) {
  const net::PeerAddress client = clientOf(ex);
  const bool local = (client.isV4() && client.bytes[12] == 127) ||
                     (client.family == AF_INET6 &&
                      IN6_IS_ADDR_LOOPBACK(reinterpret_cast<const in6_addr*>(client.bytes)));
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
  body_ = "info_hash " + hex(hash, 20) + "\nseeders " + std::to_string(c.seeders) + "\nleechers " +
          std::to_string(c.leechers) + "\ndownloaded " + std::to_string(c.downloaded) + "\n";
  char text[INET6_ADDRSTRLEN];
  for (auto& p : peers) {
    const size_t kb = kKeyBytes[p.family];
    inet_ntop(p.family == kV4 ? AF_INET : AF_INET6, p.key, text, sizeof text);
    body_ += std::string(p.family == kV4 ? "peer " : "peer [") + text +
             (p.family == kV4 ? ":" : "]:") + std::to_string(p.key[kb - 2] << 8 | p.key[kb - 1]) +
             (p.seeder ? " seeder" : " leecher") + " last_seen " + std::to_string(p.age) + "s\n";
  }
}

}  // namespace manifold::tracker
