// A simulated WAN link in virtual time for the warp transport's tests: two Endpoints joined by
// two one-way links, each with a rate limit (bytes/s, counting a fixed per-packet header as the
// IP, UDP and tunnel crypto overhead would), a drop-tail queue, a one-way delay and random loss
// from a seeded generator. A greedy source on each side offers a "file" of numbered packets
// whose content follows from their index, and each side checks what it receives in order.
#pragma once

#include <cstdint>
#include <queue>
#include <random>
#include <vector>

#include "protocols/tunnel/warp/endpoint.hpp"

namespace manifold::tunnel::warp::sim {

inline constexpr size_t kHeaderBytes = 60;  // IPv4 20 + UDP 8 + tunnel header 16 + tag 16

struct LinkSpec {
  double bitsPerSecond = 50e6;
  Micros delay = 50'000;  // one way
  double loss = 0;
  size_t queueBytes = 625'000;
};

inline std::vector<uint8_t> packetFor(uint64_t index, size_t size, bool compressible = false) {
  std::vector<uint8_t> p(size);
  uint64_t x = index * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    if (compressible) {
      p[i] = uint8_t("the quick brown fox jumps "[(i + index) % 26]);
    } else {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      p[i] = uint8_t(x);
    }
  }
  for (int i = 0; i < 8 && size_t(i) < size; ++i) p[i] = uint8_t(index >> (8 * i));
  return p;
}

class Sim {
 public:
  struct Side {
    Endpoint ep;
    uint64_t toSend = 0, offered = 0;         // the file this side sends
    uint64_t received = 0, mismatches = 0;    // what it got, checked in order
    uint64_t wirePackets = 0, wireBytes = 0;  // frames it put on the link (+ headers)
    size_t size = 1300;
    bool compressible = false;
    size_t peakMemory = 0, peakBuffered = 0;
    explicit Side(const Config& c) : ep(c) {}
  };

  Sim(const Config& a, const Config& b, LinkSpec link, uint64_t seed)
      : side_{Side(a), Side(b)}, link_(link), rng_(seed) {}

  Side& side(int i) { return side_[i]; }
  Micros now() const { return now_; }
  uint64_t dropped() const { return dropped_; }

  // Runs until `until` or until both files are delivered. False if time stopped moving.
  bool run(Micros until) {
    unsigned stuck = 0;
    while (!done()) {
      feed();
      Micros t = std::min(side_[0].ep.nextDeadline(), side_[1].ep.nextDeadline());
      if (!events_.empty()) t = std::min(t, events_.top().at);
      if (t == kNever || t > until) return true;
      if (t <= now_) {
        if (++stuck > 100000) return false;
        t = now_;
      } else {
        stuck = 0;
      }
      now_ = t;
      while (!events_.empty() && events_.top().at <= now_) {
        Event e = events_.top();
        events_.pop();
        SinkTo sink{*this, e.to};
        side_[e.to].ep.receive(bytes_[e.slot], now_, sink);
        freeSlots_.push_back(e.slot);
      }
      for (int i = 0; i < 2; ++i) {
        if (side_[i].ep.nextDeadline() <= now_) {
          SinkTo sink{*this, i};
          side_[i].ep.poll(now_, sink);
        }
        side_[i].peakMemory = std::max(side_[i].peakMemory, side_[i].ep.memoryBytes());
        side_[i].peakBuffered = std::max(side_[i].peakBuffered, side_[i].ep.buffered());
      }
    }
    return true;
  }

  bool done() const {
    return side_[1].received >= side_[0].toSend && side_[0].received >= side_[1].toSend;
  }

 private:
  struct Event {
    Micros at;
    uint64_t order;
    int to;
    size_t slot;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  struct SinkTo : Sink {
    Sim& sim;
    int self;
    SinkTo(Sim& s, int i) : sim(s), self(i) {}
    void sendFrame(std::span<const uint8_t> frame) override { sim.transmit(self, frame); }
    void deliver(std::span<const uint8_t> inner) override {
      Side& me = sim.side_[self];
      const Side& peer = sim.side_[1 - self];
      auto want = packetFor(me.received, peer.size, peer.compressible);
      if (inner.size() != want.size() || !std::equal(inner.begin(), inner.end(), want.begin()))
        ++me.mismatches;
      ++me.received;
    }
  };

  void feed() {
    for (int i = 0; i < 2; ++i) {
      Side& s = side_[i];
      bool any = false;
      while (s.offered < s.toSend && s.ep.canSend()) {
        auto p = packetFor(s.offered, s.size, s.compressible);
        if (!s.ep.send(p, now_)) break;
        ++s.offered;
        any = true;
      }
      if (any) {
        SinkTo sink{*this, i};
        s.ep.poll(now_, sink);
      }
    }
  }

  void transmit(int from, std::span<const uint8_t> frame) {
    Side& s = side_[from];
    size_t wire = frame.size() + kHeaderBytes;
    ++s.wirePackets;
    s.wireBytes += wire;
    Micros& busy = busyUntil_[from];
    double perByte = 8e6 / link_.bitsPerSecond;
    Micros start = std::max(busy, now_);
    double backlog = double(start - now_) / perByte;
    if (backlog + double(wire) > double(link_.queueBytes)) {
      ++dropped_;
      return;
    }
    busy = start + Micros(double(wire) * perByte + 0.5);
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < link_.loss) {
      ++dropped_;
      return;
    }
    size_t slot;
    if (freeSlots_.empty()) {
      slot = bytes_.size();
      bytes_.emplace_back();
    } else {
      slot = freeSlots_.back();
      freeSlots_.pop_back();
    }
    bytes_[slot].assign(frame.begin(), frame.end());
    events_.push(Event{busy + link_.delay, order_++, 1 - from, slot});
  }

  Side side_[2];
  LinkSpec link_;
  std::mt19937_64 rng_;
  Micros now_ = 0;
  Micros busyUntil_[2] = {0, 0};
  uint64_t order_ = 0, dropped_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::vector<std::vector<uint8_t>> bytes_;
  std::vector<size_t> freeSlots_;
};

}  // namespace manifold::tunnel::warp::sim
