#include "protocols/tunnel/paths.hpp"

#include <bit>
#include <limits>

namespace manifold::tunnel {

PathSelector::PathSelector(size_t paths, double margin, unsigned after)
    : paths_(paths), margin_(margin), after_(after) {}

uint32_t PathSelector::startRound(double now) {
  if (started_) {
    for (Path& p : paths_) {
      p.history = (p.history << 1) | (p.answeredThisRound ? 0u : 1u);
      p.history &= 0xffff;
      if (p.samples < 16) ++p.samples;
    }
  }
  started_ = true;
  for (Path& p : paths_) {
    p.answeredThisRound = false;
    ++p.sent;
  }
  roundStart_ = now;
  return ++seq_;
}

void PathSelector::answered(size_t path, uint32_t seq, double now) {
  if (path >= paths_.size() || seq != seq_) return;
  Path& p = paths_[path];
  if (p.answeredThisRound) return;
  p.answeredThisRound = true;
  ++p.answeredCount;
  double sample = now - roundStart_;
  p.srtt = p.srtt == 0 ? sample : p.srtt * 0.875 + sample * 0.125;
}

double PathSelector::loss(size_t path) const {
  const Path& p = paths_[path];
  return p.samples ? static_cast<double>(std::popcount(p.history)) / p.samples : 0;
}

bool PathSelector::dead(size_t path) const {
  const Path& p = paths_[path];
  return p.samples >= 3 && (p.history & 7u) == 7u;
}

double PathSelector::score(size_t path) const {
  if (dead(path)) return std::numeric_limits<double>::infinity();
  const Path& p = paths_[path];
  double rtt = p.srtt > 0 ? p.srtt : 1.0;  // unmeasured: a pessimistic second
  return rtt * (1 + 10 * loss(path));
}

bool PathSelector::evaluate() {
  size_t best = chosen_;
  for (size_t i = 0; i < paths_.size(); ++i)
    if (score(i) < score(best)) best = i;
  double current = score(chosen_);
  bool better = best != chosen_ && score(best) < current * (1 - margin_);
  if (!better) {
    streak_ = 0;
    return false;
  }
  if (best != candidate_) {
    candidate_ = best;
    streak_ = 0;
  }
  if (++streak_ < after_) return false;
  chosen_ = best;
  streak_ = 0;
  return true;
}

}  // namespace manifold::tunnel
