// The warp congestion controller: a BBR-shaped model (after BBR v1, Cardwell et al.) that
// paces at the estimated bottleneck bandwidth and bounds the data in flight by the estimated
// bandwidth-delay product. Loss is not an input at all: on a long link with random loss, a
// loss-driven controller (Reno, CUBIC) halves its rate for drops that say nothing about
// congestion; this one only believes the delivery rate and the minimum RTT it measures.
//   Startup   pacing gain 2 x 2.89 (see kStartupPacingGain), cwnd gain 2.89, until the
//             bandwidth stops growing by 25% for 3 rounds
//   Drain     pacing gain 1/2.89 until what is in flight fits one BDP
//   ProbeBw   8 phases of one min RTT each, gains 1.25, 0.9, then 1.1 x 6; cwnd gain 2.
//             BBR cruises at 1.0 and drains at 0.75; a tunnel that wants its link full
//             cruises a little above the estimate (timer slop makes it send below its rate)
//             and lets the 2-BDP window bound the queue that builds at the bottleneck
// No ProbeRTT phase: a tunnel carries many flows and emptying the pipe every 10 s costs
// goodput; instead the min RTT sample simply expires after 10 s and the next sample replaces it
// (ProbeBw's 0.75 phase drains the queue regularly, so that sample is near the true minimum).
// Units: bytes, microseconds, bytes per second.
#pragma once

#include <array>
#include <cstdint>

namespace manifold::tunnel::warp {

using Micros = uint64_t;

// One delivery-rate sample, taken when an ACK newly acknowledges packets (from the newest of
// them, as in draft-cheng-iccrg-delivery-rate-estimation).
struct RateSample {
  uint64_t delivered = 0;       // bytes delivered in total, after this ACK
  uint64_t priorDelivered = 0;  // `delivered` when the sampled packet was sent
  Micros interval = 0;          // max(send interval, ack interval) of the sample
  Micros rtt = 0;               // RTT of the newest acknowledged packet
  bool appLimited = false;      // the sender had nothing to send: the rate is a lower bound
};

class Bbr {
 public:
  enum class State : uint8_t { Startup, Drain, ProbeBw };

  explicit Bbr(uint32_t mss, uint32_t initialPackets = 32);

  void onAck(const RateSample& sample, uint64_t inflight, Micros now);
  // Bytes allowed in flight and the pacing rate (bytes/s).
  uint64_t cwnd() const { return cwnd_; }
  double pacingRate() const { return pacingRate_; }
  double bandwidth() const;  // the max filter: bytes/s, 0 before a sample
  Micros minRtt() const { return minRtt_; }
  uint64_t bdp() const;  // bytes; an initial window before any sample
  State state() const { return state_; }

 private:
  static constexpr double kStartupGain = 2.885;
  // Startup paces at twice BBR's gain: behind warp sits a TCP in slow start that sends at twice
  // its last round's rate, and a sender queue that builds up behind a slower pacer adds delay
  // that HyStart inside reads as the end of slow start. The window still bounds what is sent.
  static constexpr double kStartupPacingGain = 2 * kStartupGain;
  static constexpr unsigned kBwRounds = 10;
  static constexpr Micros kMinRttWindow = 10'000'000;
  void setRates();

  uint32_t mss_;
  uint64_t initialCwnd_;
  State state_ = State::Startup;
  uint64_t round_ = 0, nextRoundDelivered_ = 0;
  std::array<double, kBwRounds> bwByRound_{};
  std::array<uint64_t, kBwRounds> roundOf_{};
  Micros minRtt_ = 0, minRttStamp_ = 0;
  double fullBw_ = 0;
  unsigned fullBwRounds_ = 0;
  unsigned phase_ = 0;
  Micros phaseStart_ = 0;
  double pacingGain_ = kStartupPacingGain, cwndGain_ = kStartupGain;
  bool rttKnown_ = false;
  uint64_t cwnd_;
  double pacingRate_;
};

}  // namespace manifold::tunnel::warp
