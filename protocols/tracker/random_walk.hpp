// Peer choice without shuffling or extra memory: a random start and a random stride coprime with
// the list length visit every index once, in an order that differs per announce. Used by the
// UDP/HTTP swarms and the WebSocket swarms alike.
#pragma once

#include <cstdint>
#include <numeric>

namespace manifold::tracker {

class RandomWalk {
 public:
  RandomWalk(uint32_t n, uint64_t random) : n_(n), x_(random) {
    if (n_ == 0) return;
    idx_ = static_cast<uint32_t>(splitmix() % n_);
    for (int tries = 0; tries < 4; ++tries) {
      const uint32_t c = static_cast<uint32_t>(splitmix() % n_);
      if (c && std::gcd(c, n_) == 1) {
        step_ = c;
        break;
      }
    }
  }
  // The next index; after n calls every index has been returned once.
  uint32_t next() {
    const uint32_t at = idx_;
    idx_ += step_;
    if (idx_ >= n_) idx_ -= n_;
    return at;
  }

 private:
  uint64_t splitmix() {
    uint64_t z = (x_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t n_;
  uint64_t x_;
  uint32_t idx_ = 0;
  uint32_t step_ = 1;
};

}  // namespace manifold::tracker
