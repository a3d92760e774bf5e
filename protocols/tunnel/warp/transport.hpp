// mode = warp: the tunnel's Transport (protocols/tunnel/transport.hpp) backed by a
// warp::Endpoint, one per peer per worker. It turns the session's calls into the state
// machine's and back: inner packets from the tun go in through send(), decrypted warp frames
// through receive(); frames come out to the session's sendPayload (encrypted and batched
// there), inner packets to its deliverInner once their source is checked against the peer's
// `allowed` prefixes (datagram mode checks on receipt; warp frames carry no addresses).
// One Timer on the worker's loop follows the endpoint's nextDeadline (pacing, delayed ACKs,
// loss timers); after it fires, the worker's send batch is flushed through `flush`.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "protocols/tunnel/transport.hpp"
#include "protocols/tunnel/warp/endpoint.hpp"
#include "worker/peer_address.hpp"
#include "worker/timer.hpp"

namespace manifold::tunnel {
struct TunnelConfig;
}

namespace manifold::tunnel::warp {

class WarpTransport : public Transport, private Sink {
 public:
  WarpTransport(TransportSink& sink, struct ev_loop* loop, const Config& config,
                std::function<void()> flush);

  void sendInner(std::span<const uint8_t> packet, double now) override;
  void receiveOuter(std::span<const uint8_t> payload, double now) override;
  void onTick(double now) override;
  uint64_t retransmissions() const override { return endpoint_.stats().retransmits; }

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  void sendFrame(std::span<const uint8_t> frame) override;
  void deliver(std::span<const uint8_t> inner) override;
  void rearm(double now);
  static Micros micros(double now) { return Micros(now * 1e6); }

  TransportSink& sink_;
  Endpoint endpoint_;
  std::function<void()> flush_;
  Timer timer_;
  double now_ = 0;
};

// The transport of a peer of a `mode = warp` tunnel: its settings (tun mtu, compress,
// warp_fec, warp_window) mapped onto a warp::Config.
std::unique_ptr<Transport> makeTransport(TransportSink& sink, struct ev_loop* loop,
                                         const TunnelConfig& config, std::function<void()> flush);

}  // namespace manifold::tunnel::warp
