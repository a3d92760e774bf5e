// Choosing among several paths (endpoints) to one peer: each path is probed once per round
// (an encrypted probe the peer answers on the same path); a probe not answered by the next
// round counts as lost. Each path has a smoothed RTT and a loss rate over its last 16 probes;
// its score is RTT x (1 + 10 x loss), and infinite once its last 3 probes were all lost (dead).
// Hysteresis: the chosen path changes only when another scores better by `margin` (a fraction)
// in `after` rounds in a row, so RTT wobble does not move traffic back and forth. Pure logic,
// no clock of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace manifold::tunnel {

class PathSelector {
 public:
  PathSelector(size_t paths, double margin, unsigned after);

  // Starts a round: the previous round's unanswered probes become losses. Returns the sequence
  // number to put in this round's probes.
  uint32_t startRound(double now);
  // An answer to probe `seq` on `path` (ignored unless it answers this round's probe).
  void answered(size_t path, uint32_t seq, double now);
  // Applies the hysteresis after a round; true when the chosen path changed.
  bool evaluate();

  size_t chosen() const { return chosen_; }
  size_t size() const { return paths_.size(); }
  double rtt(size_t path) const { return paths_[path].srtt; }  // seconds; 0 = no sample yet
  double loss(size_t path) const;                              // 0..1 over the window
  bool dead(size_t path) const;
  double score(size_t path) const;
  uint64_t probesSent(size_t path) const { return paths_[path].sent; }
  uint64_t probesAnswered(size_t path) const { return paths_[path].answeredCount; }

 private:
  struct Path {
    double srtt = 0;
    uint32_t history = 0;  // bit i: probe i rounds ago was lost
    unsigned samples = 0;  // probes in history (up to 16)
    bool answeredThisRound = false;
    uint64_t sent = 0, answeredCount = 0;
  };
  std::vector<Path> paths_;
  double margin_;
  unsigned after_;
  size_t chosen_ = 0;
  size_t candidate_ = 0;
  unsigned streak_ = 0;
  uint32_t seq_ = 0;
  double roundStart_ = 0;
  bool started_ = false;
};

}  // namespace manifold::tunnel
