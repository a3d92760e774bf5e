// The seam between a peer's session and how inner packets travel: the session hands every
// inner packet read from the tun to the peer's Transport, and every decrypted payload from the
// peer to it as well. DatagramTransport (mode = datagram) passes both straight through; the warp
// transport (mode = warp, protocols/tunnel/warp/) adds reliability underneath. One Transport per
// peer per worker; it runs on that worker's loop only.
//
// Payload first bytes (PROTOCOL.md): 0x4_/0x6_ an IP packet (datagram mode), 0x10/0x11 path
// probes (handled by the session, never given to a Transport), 0x20..0x2f reserved for warp.
#pragma once

#include <cstdint>
#include <span>

namespace manifold::tunnel {

// What a Transport calls back into (the peer's session).
class TransportSink {
 public:
  virtual ~TransportSink() = default;
  // Encrypts and sends one payload to the peer on the chosen path (no copy when the payload
  // already sits in the send slot the session handed out). False when it could not leave
  // (no session yet: the session stages or drops it and counts that).
  virtual bool sendPayload(std::span<const uint8_t> payload, double now) = 0;
  // Writes one inner IP packet to the tun device; a source outside the peer's `allowed`
  // prefixes is dropped and counted there.
  virtual void deliverInner(std::span<const uint8_t> packet) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // An inner packet from the tun, bound for this peer.
  virtual void sendInner(std::span<const uint8_t> packet, double now) = 0;
  // A decrypted, replay-checked payload from the peer (not a probe, not a keepalive): an IP
  // packet or a warp frame, unchecked otherwise.
  virtual void receiveOuter(std::span<const uint8_t> payload, double now) = 0;
  // Called on the session's tick (every few tens of milliseconds).
  virtual void onTick(double now) { (void)now; }
  // For the peer board.
  virtual uint64_t retransmissions() const { return 0; }
};

// mode = datagram: nothing beyond encryption.
class DatagramTransport : public Transport {
 public:
  explicit DatagramTransport(TransportSink& sink) : sink_(sink) {}
  void sendInner(std::span<const uint8_t> packet, double now) override {
    sink_.sendPayload(packet, now);
  }
  void receiveOuter(std::span<const uint8_t> payload, double) override {
    sink_.deliverInner(payload);
  }

 private:
  TransportSink& sink_;
};

}  // namespace manifold::tunnel
