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

class HttpHandler : public http::RequestHandler {
 public:
  explicit HttpHandler(Tracker& t);
  void onRequest(http::Exchange& ex) override;

 private:
  void fail(std::string_view why);
  void announce(http::Exchange& ex);
  void scrape(http::Exchange& ex);
  void fullScrape();
  void swarm(http::Exchange& ex);

  Tracker& t_;
  std::string body_, fullScrapeBody_;
  uint32_t fullScrapeBuilt_ = 0;
  std::vector<SwarmStore::TorrentCounts> scraped_;
  std::vector<uint8_t> peers_, hashes_;
};

}  // namespace manifold::tracker
