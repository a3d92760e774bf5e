#include "protocols/tracker/config.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "protocols/http/limits_config.hpp"
#include "shm/ring.hpp"

namespace manifold::tracker {

namespace {

using config::Millis;

uint32_t secondsOf(Millis m) { return static_cast<uint32_t>(m.count() / 1000); }

void readWebSocketKeys(config::SectionReader& in, TrackerConfig& c) {
  const Millis hour(3600000);
  c.ws = in.flag("ws", false);
  c.wsOrigins = in.list("ws_origins", "");
  c.wsLimits.maxMessage = in.size("ws_max_message", 64 << 10, 1 << 10, 16 << 20);
  // A frame waits whole in the connection's input buffer (256 KiB at most).
  c.wsLimits.maxFrame = in.size("ws_max_frame", 16 << 10, 125, 128 << 10);
  if (c.wsLimits.maxFrame > c.wsLimits.maxMessage)
    in.fail("ws_max_frame", "is larger than ws_max_message");
  c.wsIdleTimeout = in.seconds("ws_idle_timeout", Millis(300000), Millis(1000), 24 * hour);
  c.wsInterval = secondsOf(in.duration("ws_interval", Millis(120000), Millis(1000), hour));
  c.wsPeerTimeout = secondsOf(in.duration(
      "ws_peer_timeout", Millis((2LL * c.wsInterval + 60) * 1000), Millis(1000), 24 * hour));
  c.maxOffers = static_cast<uint32_t>(in.integer("max_offers", 10, 0, 64));
  c.maxOfferAge = in.seconds("max_offer_age", Millis(60000), Millis(100), hour);
  c.wsSendBuffer = in.size("ws_send_buffer", 256 << 10, 16 << 10, 64 << 20);
  const uint64_t peers = in.integer("ws_swarm_peers", 128, 2, 4096);
  const uint64_t memory = in.size("ws_memory", 16 << 20, 1 << 20, 4ull << 30);
  c.wsGeometry = WsGeometry::forBudget(memory, static_cast<uint32_t>(peers), 64);
  if (c.wsGeometry.slotsPerShard < 4)
    in.fail("ws_memory", "too small for 64 shards of ws_swarm_peers-sized swarms");
  const uint64_t ring = in.size("ws_relay_ring", 1 << 20, 64 << 10, 64 << 20);
  if (ring & (ring - 1)) in.fail("ws_relay_ring", "must be a power of two");
  // A ring takes records up to a quarter of its size: any relayed message must fit.
  if (ring / 4 < c.wsLimits.maxMessage + 512)
    in.fail("ws_relay_ring", "must be at least 4 x (ws_max_message + 512)");
  c.wsRelayRing = static_cast<uint32_t>(ring);
}

std::unique_ptr<ServiceConfig> parseTrackerSection(config::SectionReader& in) {
  auto c = std::make_unique<TrackerConfig>();
  c->listen = in.listen("listen", true);
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
  c->tls.read(in, c->listen);
  if (c->tls.enabled() && !c->http) in.fail("listen", "tls needs http = on (TLS is the TCP side)");
  readWebSocketKeys(in, *c);
  return c;
}

}  // namespace

MANIFOLD_PROTOCOL("tracker", parseTrackerSection);

std::vector<ListenRequest> TrackerConfig::listeners() const {
  return listenRequests(listen, listenLine, udp, http);
}

std::vector<RegionRequest> TrackerConfig::regions() const {
  StoreGeometry g = geometry;
  std::vector<RegionRequest> out = {RegionRequest{regionName(), g.layout(), g.bytes,
                                                  [g](void* base, size_t bytes, bool adopted) {
                                                    if (!adopted)
                                                      SwarmStore::format(base, bytes, g);
                                                  },
                                                  "memory"}};
  if (!ws) return withTlsRegions(std::move(out));
  WsGeometry w = wsGeometry;
  out.push_back({title() + "/ws", w.layout(), w.bytes,
                 [w](void* base, size_t bytes, bool adopted) {
                   if (!adopted) WsSwarmStore::format(base, bytes, w);
                 },
                 "ws_memory"});
  const uint32_t rings = std::max(1u, workerSlots), capacity = wsRelayRing;
  out.push_back(
      {title() + "/relay",
       "tracker-relay-v1 rings=" + std::to_string(rings) + " capacity=" + std::to_string(capacity),
       shm::RingArray::bytesFor(rings, capacity),
       [rings, capacity](void* base, size_t, bool adopted) {
         if (!adopted || !shm::RingArray::at(base)) shm::RingArray::format(base, rings, capacity);
       },
       "ws_relay_ring"});
  return withTlsRegions(std::move(out));
}

std::vector<RegionRequest> TrackerConfig::withTlsRegions(std::vector<RegionRequest> out) const {
  if (tls.enabled())
    for (RegionRequest& r : tls.regions(title())) out.push_back(std::move(r));
  return out;
}

void TrackerConfig::acquirePrivileged() {
  if (!ws) return;
  // Shared by every generation of this instance, so a worker of a draining generation still
  // wakes the new owner of a slot: made once per title and slot, kept for the master's life.
  static std::map<std::string, std::vector<int>> made;
  std::vector<int>& fds = made[title()];
  while (fds.size() < std::max(1u, workerSlots)) fds.push_back(shm::makeWakeFd());
  wakeFds = fds;
}

std::vector<CounterSpec> TrackerConfig::counters() const {
  auto out = http::httpCounters();
  appendCounters(out, kTrackerCounterDefs);
  return out;
}

}  // namespace manifold::tracker
