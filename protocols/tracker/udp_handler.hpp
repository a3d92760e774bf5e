// BEP 15 over UDP: one datagram in, at most one reply built straight into the send buffer.
// Connect issues a stateless connection id for the client's address; announce and scrape must
// carry a valid one. Malformed datagrams are dropped (counted as errors), wrong but parseable
// ones get an error packet.
#pragma once

#include "protocols/tracker/tracker.hpp"
#include "worker/udp_endpoint.hpp"

namespace manifold::tracker {

struct UdpRequest;

class UdpHandler : public DatagramHandler {
 public:
  explicit UdpHandler(Tracker& t) : t_(t) {}

  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t, uint8_t* out,
                    size_t cap) override;
  void prefetch(const uint8_t* in, size_t len, const sockaddr* peer, unsigned stage) override;
  // Receive buffers are reused by the next batch: what was drawn for this one must not match.
  void onBatchEnd() override {
    for (Drawn& d : drawn_) d.in = nullptr;
  }

 private:
  size_t error(uint8_t* out, size_t cap, uint32_t tid, std::string_view why);
  size_t announce(const UdpRequest& req, const net::PeerAddress& client, const sockaddr* peer,
                  uint8_t* out, size_t cap);
  size_t scrape(const UdpRequest& req, uint8_t* out, size_t cap);

  Tracker& t_;
  // The info hash's keyed hash computed at prefetch stage 0 and the random number drawn at
  // stage 1 (to load the slot an answer starts at), for the later stage and the announce of
  // that datagram to use; looked up by datagram address, so a miss only costs computing again.
  struct Drawn {
    const uint8_t* in = nullptr;
    uint64_t hash = 0;
    uint64_t random = 0;
  };
  Drawn* drawnFor(const uint8_t* in);
  static constexpr unsigned kDrawn = 8;  // > the prefetch distance (4) of UdpEndpoint
  Drawn drawn_[kDrawn];
  unsigned drawnNext_ = 0;
};

}  // namespace manifold::tracker
