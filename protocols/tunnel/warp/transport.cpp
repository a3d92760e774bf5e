#include "protocols/tunnel/warp/transport.hpp"

#include "protocols/tunnel/config.hpp"

namespace manifold::tunnel::warp {

WarpTransport::WarpTransport(TransportSink& sink, struct ev_loop* loop, const Config& config,
                             std::function<void()> flush)
    : sink_(sink), endpoint_(config), flush_(std::move(flush)), timer_(loop, [this] {
        double now = timer_.now();
        now_ = now;
        endpoint_.poll(micros(now), *this);
        if (flush_) flush_();
        rearm(now);
      }) {}

void WarpTransport::sendInner(std::span<const uint8_t> packet, double now) {
  now_ = now;
  // The session stages payloads while it has no keys and hands them back here once it does;
  // a staged warp frame goes out as it is.
  if (!packet.empty() && (packet[0] >> 4) == 2) {
    sink_.sendPayload(packet, now);
    return;
  }
  endpoint_.send(packet, micros(now));  // refused when the queue is full: the tun drop
  endpoint_.poll(micros(now), *this);
  rearm(now);
}

void WarpTransport::receiveOuter(std::span<const uint8_t> payload, double now) {
  now_ = now;
  endpoint_.receive(payload, micros(now), *this);
  rearm(now);
}

void WarpTransport::onTick(double now) {
  now_ = now;
  endpoint_.poll(micros(now), *this);
  rearm(now);
}

void WarpTransport::sendFrame(std::span<const uint8_t> frame) { sink_.sendPayload(frame, now_); }

// The session checks the inner source against the peer's `allowed` prefixes on delivery.
void WarpTransport::deliver(std::span<const uint8_t> inner) { sink_.deliverInner(inner); }

void WarpTransport::rearm(double now) {
  Micros at = endpoint_.nextDeadline();
  if (at == kNever) {
    timer_.stop();
    return;
  }
  Micros t = micros(now);
  timer_.once(at > t ? double(at - t) / 1e6 : 0);
}

std::unique_ptr<Transport> makeTransport(TransportSink& sink, struct ev_loop* loop,
                                         const TunnelConfig& config, std::function<void()> flush) {
  const TunnelSettings& s = config.settings;
  Config c;
  c.mtu = config.tun.mtu;
  c.window = s.warpWindow;
  c.fecGroup = uint8_t(s.warpFec);
  c.fecAdaptive = s.warpFecAuto;
  c.pacingQuantum = 5000;  // the loop's timers wake whole milliseconds late, more under load
  c.compress = s.compress == Compress::Lzo    ? Compression::Lzo
               : s.compress == Compress::Zlib ? Compression::Zlib
                                              : Compression::Off;
  return std::make_unique<WarpTransport>(sink, loop, c, std::move(flush));
}

}  // namespace manifold::tunnel::warp
