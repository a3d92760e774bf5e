// Per-source token buckets for new TFTP sessions, so a flood of requests with a spoofed source
// cannot turn the server into a reflector. A source is an IPv4 /32 or an IPv6 /64.
// Fixed memory: a 2-way set-associative table of buckets; a newcomer evicts the bucket used
// least recently of its set (an evicted source starts again with a full bucket). Per worker.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace manifold::tftp {

// IPv4: 0xffffffff00000000 | address; IPv6: the top 64 bits (the /64 prefix); v4-mapped IPv6
// addresses count as IPv4.
uint64_t sourceKey(const sockaddr* peer);

class SourceRateLimiter {
 public:
  // rate <= 0 disables the limiter (allow() is always true).
  SourceRateLimiter(double ratePerSecond, double burst, size_t sets = 2048);
  bool allow(uint64_t source, double now);  // takes a token if one is there

 private:
  struct Bucket {
    uint64_t key = 0;
    double tokens = 0;
    double last = 0;
    bool used = false;
  };
  double rate_, burst_;
  std::vector<Bucket> buckets_;  // sets_ * 2
  size_t sets_;
};

}  // namespace manifold::tftp
