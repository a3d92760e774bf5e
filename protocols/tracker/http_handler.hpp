// BEP 3 / 23 / 7 / 48 over the shared HTTP engine: GET /announce and /scrape with bencoded
// answers (compact or dictionary peers, "failure reason" on refusal), and the operator page
// GET /swarm?info_hash=<40 hex> for loopback clients. Response bodies are built in buffers kept
// across requests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/server.hpp"
#include "protocols/tracker/tracker.hpp"

namespace manifold::tracker {

class WsHub;

class HttpHandler : public http::RequestHandler {
 public:
  // `ws`: where WebSocket upgrades on / and /announce go (nullptr: ws = off).
  HttpHandler(Tracker& t, WsHub* ws);
  void onRequest(http::Exchange& ex) override;

 private:
  void fail(std::string_view why);
  void announce(http::Exchange& ex);
  void scrape(http::Exchange& ex);
  void fullScrape();
  void swarm(http::Exchange& ex);

  Tracker& t_;
  WsHub* ws_;
  std::string body_, fullScrapeBody_;
  uint32_t fullScrapeBuilt_ = 0;
  std::vector<SwarmStore::TorrentCounts> scraped_;
  std::vector<uint8_t> peers_, hashes_;
};

}  // namespace manifold::tracker
