// Per-worker session state of a tunnel: each worker runs its own sessions with every peer (its
// lane), like an independent WireGuard instance sharing the static key, so nothing on the data
// path crosses workers. A peer's state here: up to three key pairs (WireGuard's previous /
// current / next), the handshake this worker initiated, the paths and the Transport.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "protocols/tunnel/config.hpp"
#include "protocols/tunnel/paths.hpp"
#include "protocols/tunnel/replay.hpp"
#include "protocols/tunnel/transport.hpp"

namespace manifold::tunnel {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  bool valid() const { return len > 0; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&addr); }
  bool sameAs(const sockaddr* other, socklen_t otherLen) const;
  void set(const sockaddr* other, socklen_t otherLen);
};

struct Keypair {
  SessionKeys keys;
  uint64_t sendCounter = 0;
  ReplayWindow replay;
  uint32_t localIndex = 0, remoteIndex = 0;
  double created = 0;
  bool initiator = false;
};

class TunnelWorker;

struct PeerState : TransportSink {
  PeerState(TunnelWorker& worker, const PeerConfig& config, unsigned id);
  bool sendPayload(std::span<const uint8_t> payload, double now) override;
  void deliverInner(std::span<const uint8_t> packet) override;

  TunnelWorker& worker;
  const PeerConfig& config;
  unsigned id;
  std::unique_ptr<Keypair> previous, current, next;
  // The handshake this worker initiated (at most one).
  struct Pending {
    bool active = false;
    HandshakeState state;
    double firstSent = 0, lastSent = 0;
    Mac sentMac1{};
  } pending;
  std::optional<Mac> cookie;  // from the peer's cookie reply, valid 120 s
  double cookieTime = 0;
  // Greatest initiation timestamp seen per initiator lane (their replay defence).
  std::vector<Timestamp> greatest = std::vector<Timestamp>(256);
  Endpoint endpoint;                       // where data goes (the chosen path, or the roamed one)
  std::vector<Endpoint> paths;             // from config
  std::unique_ptr<PathSelector> selector;  // when there are several paths
  std::unique_ptr<Transport> transport;
  std::vector<std::vector<uint8_t>> staged;                  // inner packets waiting for a session
  double lastSent = 0, lastReceived = 0, lastHandshake = 0;  // loop time; wall for handshake
  bool keepaliveOwed = false;
  uint64_t rxBytes = 0, txBytes = 0, rxPackets = 0, txPackets = 0;

  // The key pair to send with, or nullptr.
  Keypair* sendable() const { return current.get(); }
};

}  // namespace manifold::tunnel
