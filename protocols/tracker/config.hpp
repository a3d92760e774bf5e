// [tracker:NAME] — the validated config of one tracker instance (master half).
//
//   listen            addresses; each is served over UDP (BEP 15) and HTTP (BEP 3) on one port
//   udp, http         on|off (default on): which of the two transports to open
//   families          ipv4 ipv6 (default both): client address families answered
//   interval          announce interval (default 30m), +/-5% jitter per response
//   min_interval      "min interval" for HTTP (default 5m, at most interval)
//   default_numwant   peers when the client names none (default 50)
//   max_numwant       cap on numwant (default 200, at most 200)
//   peer_timeout      a peer not seen for this long is dropped (default 2 x interval + 2m)
//   clean_interval    how often one worker sweeps expired peers and empty torrents (default 60s)
//   torrent_timeout   an empty torrent with completed downloads keeps its count this long after
//                     its last announce (default 24h, as opentracker)
//   connection_id_lifetime  validity of a UDP connection id (default 2m)
//   max_scrape_hashes hashes answered per scrape (default 74, the BEP 15 packet limit)
//   full_scrape       on|off (default off): HTTP /scrape without info_hash lists every torrent;
//                     each worker rebuilds that answer at most once per full_scrape_interval
//   full_scrape_interval  (default 30s)
//   memory            shm region for swarms (default 64M): the memory budget
//   max_torrents      torrent slots (default memory / 512)
//   shards            lock stripes (default 256)
//   access_list       off|allow|deny (default off), access_list_file: hex hashes, one a line
//   trust_ip_param    on|off (default off): take HTTP ip= as the peer's address
//   keepalive_timeout HTTP keep-alive (default 75s)
// TLS on the TCP side (HTTP announces and WebSocket), as for [http:NAME] (http/tls_keys.hpp):
//   listen = ADDR:PORT tls   that address's TCP socket speaks TLS (https://, wss://); its UDP
//                            socket stays BEP 15; tls_certificate, tls_key and the other tls_*
//                            keys, http2 (default on: ALPN offers h2 to announces)
// WebTorrent (WebSocket) signalling on the same TCP port (ws_handler.hpp):
//   ws                on|off (default off): accept WebSocket upgrades on / and /announce
//   ws_origins        Origin values allowed (default: any; "none" admits clients sending none)
//   ws_max_message    message size limit (default 64k), ws_max_frame frame limit (default 16k)
//   ws_idle_timeout   a connection silent this long is closed (default 300s)
//   ws_interval       "interval" sent to WebSocket peers (default 120s, as aquatic_ws)
//   ws_peer_timeout   a WebSocket peer not seen for this long is dropped (default 2 x ws_interval
//                     + 60s; closed connections leave at once)
//   max_offers        offers relayed per announce (default 10, as aquatic_ws)
//   max_offer_age     an answer is relayed only this long after its offer (default 60s)
//   ws_send_buffer    output queued for one connection before it is cut off (default 256k)
//   ws_swarm_peers    peers one WebSocket swarm holds (default 128)
//   ws_memory         shm region for WebSocket swarms (default 16M)
//   ws_relay_ring     cross-worker relay ring per worker slot, a power of two of at least
//                     4 x (ws_max_message + 512) (default 1M)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/http/server.hpp"
#include "protocols/http/tls_keys.hpp"
#include "protocols/http/websocket_frame.hpp"
#include "protocols/service.hpp"
#include "protocols/tracker/access_list.hpp"
#include "protocols/tracker/swarm_store.hpp"
#include "protocols/tracker/ws_swarm.hpp"

namespace manifold::tracker {

// Tracker counters follow the HTTP layer's (which the HTTP side writes by index).
#define MANIFOLD_TRACKER_COUNTERS(X)                                                            \
  X(kConnects, "connects", Counter, "UDP connect requests answered")                            \
  X(kAnnounces, "announces", Counter, "announces answered (UDP and HTTP)")                      \
  X(kScrapes, "scrapes", Counter, "scrapes answered (UDP and HTTP)")                            \
  X(kErrors, "errors", Counter, "requests answered with an error")                              \
  X(kBadConnectionIds, "bad_connection_ids", Counter,                                           \
    "UDP requests with an unknown connection id")                                               \
  X(kDenied, "denied", Counter, "announces refused by the access list")                         \
  X(kRefusedFull, "refused_full", Counter, "announces refused because the swarm store is full") \
  X(kUdpRequests, "udp_requests", Counter, "UDP datagrams received")                            \
  X(kTorrents, "torrents", Gauge, "torrents tracked (after the last sweep)")                    \
  X(kPeers, "peers", Gauge, "peers tracked (after the last sweep)")                             \
  X(kSeeders, "seeders", Gauge, "seeders tracked (after the last sweep)")                       \
  X(kLeechers, "leechers", Gauge, "leechers tracked (after the last sweep)")                    \
  X(kSwarmBytes, "swarm_bytes", Gauge, "bytes of the swarm store in use")                       \
  X(kSwarmHugeBytes, "swarm_huge_bytes", Gauge,                                                 \
    "bytes of the swarm region the sweeping worker maps with huge pages")                       \
  X(kWsConnections, "ws_connections", Gauge, "WebSocket connections open")                      \
  X(kWsHandshakesRefused, "ws_handshakes_refused", Counter,                                     \
    "WebSocket upgrade requests refused (version, key, origin)")                                \
  X(kWsAnnounces, "ws_announces", Counter, "WebSocket announces answered")                      \
  X(kWsScrapes, "ws_scrapes", Counter, "WebSocket scrapes answered")                            \
  X(kWsOffersLocal, "ws_offers_same_worker", Counter, "offers relayed within a worker")         \
  X(kWsOffersRemote, "ws_offers_other_worker", Counter, "offers relayed to another worker")     \
  X(kWsAnswersLocal, "ws_answers_same_worker", Counter, "answers relayed within a worker")      \
  X(kWsAnswersRemote, "ws_answers_other_worker", Counter, "answers relayed to another worker")  \
  X(kWsAnswersUnmatched, "ws_answers_unmatched", Counter,                                       \
    "answers dropped: no pending offer (unknown, expired or answered)")                         \
  X(kWsDropsFull, "ws_relay_drops_full", Counter, "relayed messages dropped: target ring full") \
  X(kWsDropsGone, "ws_relay_drops_gone", Counter,                                               \
    "relayed messages dropped: target connection closed")                                       \
  X(kWsPeerIdRefused, "ws_peer_id_refused", Counter,                                            \
    "announces refused: peer_id held by another connection")                                    \
  X(kWsProtocolErrors, "ws_protocol_errors", Counter,                                           \
    "connections closed for malformed frames or messages")                                      \
  X(kWsSlowClosed, "ws_slow_closed", Counter, "connections cut off at a full send buffer")      \
  X(kWsRingHighWater, "ws_ring_high_water", Gauge,                                              \
    "most bytes ever queued in this worker's relay ring")                                       \
  X(kWsPeers, "ws_peers", Gauge, "WebSocket peers tracked (after the last sweep)")
enum TrackerCounter : unsigned {
  kTrackerBeforeFirst = http::kHttpCounterCount - 1,  // so the first row gets kHttpCounterCount
  MANIFOLD_TRACKER_COUNTERS(MANIFOLD_COUNTER_ENUM) kTrackerCounterEnd
};
inline constexpr shm::CounterDef kTrackerCounterDefs[] = {
    MANIFOLD_TRACKER_COUNTERS(MANIFOLD_COUNTER_DEF)};

struct TrackerConfig : ServiceConfig {
  std::vector<config::ListenAddress> listen;
  int listenLine = 0;
  bool udp = true, http = true;
  bool ipv4 = true, ipv6 = true;
  uint32_t interval = 1800, minInterval = 300;
  uint32_t defaultNumWant = 50, maxNumWant = 200;
  uint32_t peerTimeout = 0;
  uint32_t torrentTimeout = 86400;
  double cleanInterval = 60;
  uint32_t connectionIdLifetime = 120;
  uint32_t maxScrapeHashes = 74;
  bool fullScrape = false;
  double fullScrapeInterval = 30;
  StoreGeometry geometry;
  AccessList accessList;
  std::string accessListFile;
  bool trustIpParam = false;
  http::ServerLimits limits;
  http::TlsKeys tls;  // listen = ADDR:PORT tls: the TCP side of that address

  bool ws = false;
  std::vector<std::string> wsOrigins;
  http::ws::FrameLimits wsLimits;
  double wsIdleTimeout = 300;
  uint32_t wsInterval = 120, wsPeerTimeout = 300;
  uint32_t maxOffers = 10;
  double maxOfferAge = 60;
  uint64_t wsSendBuffer = 256 << 10;
  WsGeometry wsGeometry;
  uint32_t wsRelayRing = 1 << 20;
  // Relay wake-ups, one eventfd per worker slot, made by the master (acquirePrivileged) so every
  // worker inherits them.
  std::vector<int> wakeFds;

  std::string regionName() const { return title() + "/swarms"; }
  // Region order: swarms, then (ws) WebSocket swarms and relay rings, then (tls) the TLS ticket
  // keys and session cache (tls.regions(), from tlsRegionFirst()).
  enum RegionIndex { kSwarmRegion = 0, kWsSwarmRegion = 1, kRelayRegion = 2 };
  size_t tlsRegionFirst() const { return ws ? 3 : 1; }
  std::vector<ListenRequest> listeners() const override;
  std::vector<RegionRequest> regions() const override;
  std::vector<RegionRequest> withTlsRegions(std::vector<RegionRequest> out) const;
  void acquirePrivileged() override;
  std::vector<CounterSpec> counters() const override;
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

}  // namespace manifold::tracker
