// [tunnel:NAME]: an encrypted IP tunnel between sites (README.md in this folder has every key;
// PROTOCOL.md the wire protocol).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocols/service.hpp"
#include "protocols/tunnel/noise.hpp"
#include "protocols/tunnel/tun_device.hpp"
#include "worker/peer_address.hpp"

namespace manifold::tunnel {

enum class Mode : uint8_t { Datagram, Warp };
enum class Compress : uint8_t { Off, Lzo, Zlib };

struct PeerConfig {
  std::string name;  // label in metrics; default: the first 8 characters of its key
  PeerKeys keys;
  std::vector<config::ListenAddress> endpoints;  // paths; empty: learnt from its handshakes
  std::vector<net::Cidr> allowed;                // inner sources it may use, destinations routed
  double keepalive = 0;                          // seconds; 0 = off
  int line = 0;
};

// A site this instance relays for: sessions to its key are forwarded to its endpoint.
struct RelayTarget {
  std::string name;
  Key publicKey{};
  Hash mac1Key{};
  config::ListenAddress endpoint;
  int line = 0;
};

struct TunnelSettings {
  Mode mode = Mode::Datagram;
  Compress compress = Compress::Off;
  unsigned warpFec = 0;        // mode = warp: DATA frames per parity frame; 0 = no FEC
  bool warpFecAuto = false;    // mode = warp: warp_fec = auto (16, while the link has room)
  unsigned warpWindow = 4096;  // mode = warp: packets in the send and in the reorder buffer
  double rekeyAfterTime = 120;
  double rejectAfterTime = 180;
  uint64_t rekeyAfterMessages = 1ull << 60;
  double rekeyTimeout = 5;
  double rekeyAttemptTime = 90;
  double keepaliveTimeout = 10;
  unsigned handshakesPerSecond = 500;  // per worker, before cookies are required
  double probeInterval = 1;            // path probes, when a peer has several endpoints
  double switchMargin = 0.2;           // a path must beat the chosen one by this much ...
  unsigned switchAfter = 3;            // ... for this many probe rounds in a row
  size_t relayTableBytes = 1 << 20;
};

// The counters of a [tunnel:NAME] service, in shm order.
#define MANIFOLD_TUNNEL_COUNTERS(X)                                                             \
  X(kPeersUp, "peers_up", Gauge, "peers with a live session (summed over workers)")             \
  X(kRxPackets, "rx_packets", Counter, "data packets decrypted and accepted")                   \
  X(kRxBytes, "rx_bytes", Counter, "inner bytes received")                                      \
  X(kTxPackets, "tx_packets", Counter, "data packets sent")                                     \
  X(kTxBytes, "tx_bytes", Counter, "inner bytes sent")                                          \
  X(kHandshakesInitiated, "handshakes_initiated", Counter, "initiations sent")                  \
  X(kHandshakesCompleted, "handshakes_completed", Counter, "sessions established")              \
  X(kHandshakesRefused, "handshakes_refused", Counter,                                          \
    "initiations that failed authentication or were replays")                                   \
  X(kCookiesSent, "cookies_sent", Counter, "cookie replies sent under load")                    \
  X(kDropMalformed, "drop_malformed", Counter, "datagrams of no valid shape (size, type)")      \
  X(kDropOversized, "drop_oversized", Counter, "datagrams larger than the receive buffer")      \
  X(kDropMac, "drop_mac", Counter, "handshake messages with a bad mac1 (silently dropped)")     \
  X(kDropUnknownIndex, "drop_unknown_index", Counter, "messages for no session of ours")        \
  X(kDropDecrypt, "drop_decrypt", Counter, "data that failed authentication")                   \
  X(kDropReplay, "drop_replay", Counter, "data replayed or too old for the window")             \
  X(kDropInnerSource, "drop_inner_source", Counter, "inner sources outside the peer's allowed") \
  X(kDropNoRoute, "drop_no_route", Counter, "tun packets to no peer's allowed prefixes")        \
  X(kDropNoSession, "drop_no_session", Counter, "tun packets dropped waiting for a handshake")  \
  X(kDropUnderLoad, "drop_under_load", Counter, "initiations dropped by the handshake limit")   \
  X(kRoamed, "roamed", Counter, "peer endpoints moved to a new source address")                 \
  X(kRelayed, "relayed", Counter, "datagrams forwarded for other sites")                        \
  X(kPathSwitches, "path_switches", Counter, "chosen path changes")                             \
  X(kRekeys, "rekeys", Counter, "handshakes started to replace an ageing session")              \
  X(kTunCoalesced, "tun_coalesced", Counter,                                                    \
    "received TCP segments written to the tun inside a coalesced super-packet")
enum Counter : unsigned { MANIFOLD_TUNNEL_COUNTERS(MANIFOLD_COUNTER_ENUM) kCounterCount };
inline constexpr shm::CounterDef kCounterDefs[] = {MANIFOLD_TUNNEL_COUNTERS(MANIFOLD_COUNTER_DEF)};

// The per-peer board (values per row; one row per peer and worker slot) and the per-path board.
inline constexpr const char* kPeerValues[] = {"rx_bytes",      "tx_bytes",       "rx_packets",
                                              "tx_packets",    "last_handshake", "rtt_us",
                                              "loss_permille", "retransmits"};
inline constexpr const char* kPathValues[] = {"rtt_us", "loss_permille", "probes_sent",
                                              "probes_answered", "chosen"};

struct TunnelConfig : ServiceConfig {
  std::vector<config::ListenAddress> listen;
  int listenLine = 0;
  Identity identity;
  bool hasIdentity = false;
  TunSettings tun;
  bool hasDevice = false;
  std::vector<PeerConfig> peers;
  std::vector<RelayTarget> relays;
  TunnelSettings settings;

  // Set by acquirePrivileged in the master: the device and one queue per worker.
  std::shared_ptr<TunDevice> device;
  std::vector<int> queues;
  unsigned workers() const;
  unsigned pathRows() const;

  ~TunnelConfig() override;
  std::vector<ListenRequest> listeners() const override;
  // [0] the peer board, [1] the path board, [2] the relay table (when relaying).
  std::vector<RegionRequest> regions() const override;
  std::vector<CounterSpec> counters() const override;
  void acquirePrivileged() override;
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

std::unique_ptr<ServiceConfig> parseTunnelSection(config::SectionReader& in);

}  // namespace manifold::tunnel
