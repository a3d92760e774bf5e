#include "protocols/tunnel/warp/bbr.hpp"

#include <algorithm>

namespace manifold::tunnel::warp {

namespace {
constexpr double kProbeGains[8] = {1.25, 0.9, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1};
}

Bbr::Bbr(uint32_t mss, uint32_t initialPackets)
    : mss_(mss), initialCwnd_(uint64_t(mss) * initialPackets), cwnd_(initialCwnd_) {
  // Before any RTT is known, the initial window may leave within a millisecond.
  pacingRate_ = kStartupGain * double(initialCwnd_) * 1000.0;
}

double Bbr::bandwidth() const {
  double best = 0;
  for (unsigned i = 0; i < kBwRounds; ++i)
    if (roundOf_[i] + kBwRounds > round_) best = std::max(best, bwByRound_[i]);
  return best;
}

uint64_t Bbr::bdp() const {
  double bw = bandwidth();
  if (bw <= 0 || minRtt_ == 0) return initialCwnd_;
  return uint64_t(bw * double(minRtt_) / 1e6);
}

void Bbr::onAck(const RateSample& s, uint64_t inflight, Micros now) {
  bool roundStart = false;
  if (s.priorDelivered >= nextRoundDelivered_) {
    nextRoundDelivered_ = s.delivered;
    ++round_;
    roundStart = true;
  }
  if (s.interval > 0) {
    double rate = double(s.delivered - s.priorDelivered) * 1e6 / double(s.interval);
    // An app-limited sample only counts when it shows more than we believed.
    if (!s.appLimited || rate >= bandwidth()) {
      unsigned slot = unsigned(round_ % kBwRounds);
      if (roundOf_[slot] != round_) {
        roundOf_[slot] = round_;
        bwByRound_[slot] = 0;
      }
      bwByRound_[slot] = std::max(bwByRound_[slot], rate);
    }
  }
  if (s.rtt > 0 && (minRtt_ == 0 || s.rtt <= minRtt_ || now - minRttStamp_ > kMinRttWindow)) {
    minRtt_ = s.rtt;
    minRttStamp_ = now;
  }

  if (state_ == State::Startup && roundStart && !s.appLimited) {
    double bw = bandwidth();
    if (bw >= fullBw_ * 1.25) {
      fullBw_ = bw;
      fullBwRounds_ = 0;
    } else if (++fullBwRounds_ >= 3) {
      state_ = State::Drain;
      pacingGain_ = 1 / kStartupGain;
    }
  }
  if (state_ == State::Drain && inflight <= bdp()) {
    state_ = State::ProbeBw;
    phase_ = 2;  // start in a neutral phase, not by probing up
    phaseStart_ = now;
    cwndGain_ = 2;
  }
  if (state_ == State::ProbeBw) {
    bool elapsed = now - phaseStart_ > minRtt_;
    // The 0.75 phase ends early once the queue it drains is gone.
    if (elapsed || (phase_ == 1 && inflight <= bdp())) {
      phase_ = (phase_ + 1) % 8;
      phaseStart_ = now;
    }
    pacingGain_ = kProbeGains[phase_];
  }
  setRates();
}

void Bbr::setRates() {
  double bw = bandwidth();
  if (minRtt_ > 0 && !rttKnown_) {
    // The first RTT replaces the 1 ms guess: the initial window per RTT, at the startup gain.
    rttKnown_ = true;
    pacingRate_ = kStartupPacingGain * double(initialCwnd_) * 1e6 / double(minRtt_);
  }
  if (bw <= 0 || minRtt_ == 0) return;
  double rate = pacingGain_ * bw;
  // In Startup the rate only grows: early samples span less than a round trip.
  pacingRate_ = state_ == State::Startup ? std::max(pacingRate_, rate) : rate;
  uint64_t target = uint64_t(cwndGain_ * double(bdp())) + 3 * uint64_t(mss_);
  cwnd_ = std::max<uint64_t>(target, 4 * uint64_t(mss_));
  if (state_ == State::Startup) cwnd_ = std::max(cwnd_, initialCwnd_);
}

}  // namespace manifold::tunnel::warp
