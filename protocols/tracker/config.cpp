#include "protocols/tracker/config.hpp"

#include <fstream>
#include <sstream>

#include "protocols/http/limits_config.hpp"

namespace manifold::tracker {

namespace {

using config::Millis;

uint32_t secondsOf(Millis m) { return static_cast<uint32_t>(m.count() / 1000); }

std::unique_ptr<ServiceConfig> parseTrackerSection(config::SectionReader& in) {
  auto c = std::make_unique<TrackerConfig>();
  c->listen = in.listen("listen");
  c->listenLine = in.lineOf("listen");
  c->udp = in.flag("udp", true);
  c->http = in.flag("http", true);
  if (!c->udp && !c->http) in.fail("http", "udp and http are both off");

  auto families = in.list("families", "ipv4 ipv6");
  c->ipv4 = c->ipv6 = false;
  for (auto& f : families) {
    if (f == "ipv4")
      c->ipv4 = true;
    else if (f == "ipv6")
      c->ipv6 = true;
    else
      in.fail("families", "\"" + f + "\" is not ipv4 or ipv6");
  }
  if (families.empty()) in.fail("families", "names no family");

  const Millis hour(3600000);
  c->interval = secondsOf(in.duration("interval", Millis(1800000), Millis(1000), 24 * hour));
  c->minInterval =
      secondsOf(in.duration("min_interval", Millis(std::min<int64_t>(300000, c->interval * 1000LL)),
                            Millis(1000), 24 * hour));
  if (c->minInterval > c->interval) in.fail("min_interval", "is longer than interval");
  c->maxNumWant = static_cast<uint32_t>(in.integer("max_numwant", 200, 0, 200));
  c->defaultNumWant = static_cast<uint32_t>(
      in.integer("default_numwant", std::min<int64_t>(50, c->maxNumWant), 0, 200));
  if (c->defaultNumWant > c->maxNumWant) in.fail("default_numwant", "is larger than max_numwant");
  c->peerTimeout = secondsOf(in.duration("peer_timeout", Millis((2LL * c->interval + 120) * 1000),
                                         Millis(1000), 72 * hour));
  c->torrentTimeout =
      secondsOf(in.duration("torrent_timeout", Millis(86400000), Millis(0), 30 * 24 * hour));
  c->cleanInterval = in.seconds("clean_interval", Millis(60000), Millis(100), hour);
  c->connectionIdLifetime =
      secondsOf(in.duration("connection_id_lifetime", Millis(120000), Millis(1000), hour));
  c->maxScrapeHashes = static_cast<uint32_t>(in.integer("max_scrape_hashes", 74, 1, 300));
  c->fullScrape = in.flag("full_scrape", false);
  c->fullScrapeInterval = in.seconds("full_scrape_interval", Millis(30000), Millis(0), hour);

  // Peer-list offsets are stored in 16-byte units in 32 bits: the arena stays below 64 GiB.
  const uint64_t memory = in.size("memory", 64ull << 20, 1ull << 20, 32ull << 30);
  const uint64_t maxTorrents = static_cast<uint64_t>(
      in.integer("max_torrents", static_cast<int64_t>(memory / 512), 16, 1LL << 28));
  const uint32_t shards = static_cast<uint32_t>(in.integer("shards", 256, 1, 65536));
  c->geometry = StoreGeometry::forBudget(memory, maxTorrents, shards);
  if (c->geometry.arenaBytes() < memory / 8)
    in.fail("max_torrents", "leaves less than an eighth of memory for peers");

  std::string mode = in.choice("access_list", "off", {"off", "allow", "deny"});
  c->accessList.mode = mode == "allow"  ? AccessMode::Allow
                       : mode == "deny" ? AccessMode::Deny
                                        : AccessMode::Off;
  c->accessListFile = in.path("access_list_file", "");
  if (c->accessList.mode != AccessMode::Off) {
    if (c->accessListFile.empty())
      in.fail("access_list_file", "required when access_list is " + mode);
    std::ifstream file(c->accessListFile);
    if (!file) in.fail("access_list_file", "cannot read \"" + c->accessListFile + "\"");
    std::stringstream text;
    text << file.rdbuf();
    std::string why;
    if (!c->accessList.parse(text.str(), why))
      in.fail("access_list_file", c->accessListFile + ": " + why);
  }
  c->trustIpParam = in.flag("trust_ip_param", false);
  c->limits = http::readConnectionLimits(in);
  return c;
}

}  // namespace

MANIFOLD_PROTOCOL("tracker", parseTrackerSection);

std::vector<ListenRequest> TrackerConfig::listeners() const {
  return listenRequests(listen, listenLine, udp, http);
}

std::vector<RegionRequest> TrackerConfig::regions() const {
  StoreGeometry g = geometry;
  return {RegionRequest{regionName(), g.layout(), g.bytes,
                        [g](void* base, size_t bytes, bool adopted) {
                          if (!adopted) SwarmStore::format(base, bytes, g);
                        },
                        "memory"}};
}

std::vector<CounterSpec> TrackerConfig::counters() const {
  auto out = http::httpCounters();
  appendCounters(out, kTrackerCounterDefs);
  return out;
}

}  // namespace manifold::tracker
