// TLS session ticket keys in shared memory, so a ticket one worker issued resumes on any other
// worker, and across reloads (the region is adopted when its layout is unchanged).
//
// Layout (region "<service>/tls-tickets", kBytes):
//   +0   RegionHeader  "MFTLSTK1", version 1
//   +12  uint32        current: index of the key that encrypts new tickets (atomic)
//   +16  uint64        rotatedAt: unix seconds at which `current` was written
//   +24  Key[3]        16-byte name, 32-byte AES-256-CBC key, 32-byte HMAC-SHA256 key
//
// Rotation (one worker of the instance, every `interval`): the slot after `current` (the oldest
// key) is overwritten with fresh random bytes, then `current` moves to it. A ticket therefore
// resumes while its key is current or previous (one to two intervals after it was issued) and
// is renewed when its key is no longer current. A reader racing the writer on the slot being
// replaced can only see a name or key that does not match: the HMAC fails and the client gets a
// full handshake, never a wrong session. No lock: readers never wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "shm/counters.hpp"
#include "shm/region_header.hpp"

struct ev_loop;

namespace manifold {

class Timer;

class TicketKeys {
 public:
  struct Key {
    uint8_t name[16];
    uint8_t aes[32];
    uint8_t hmac[32];
  };
  static constexpr unsigned kSlots = 3;
  static std::string layout();
  static size_t bytes();
  // Master side, for a region not adopted: a first key, written now.
  static void format(void* base, uint64_t now);

  explicit TicketKeys(void* base);
  const Key& current() const;
  // The key named `name`; nullptr if none. `isCurrent` tells whether it encrypts new tickets.
  const Key* find(const uint8_t* name, bool& isCurrent) const;
  // Writes a fresh key into the oldest slot and makes it current.
  void rotate(uint64_t now);
  uint64_t rotatedAt() const;

 private:
  struct Region;
  Region* region_;
};

// Rotates `keys` every `interval` seconds on one worker's loop (the worker that runs instance
// tasks), counting each rotation in `rotations`. The first rotation waits for the interval to
// pass since the region's last rotation, so restarts and reloads do not rotate early.
class TicketRotator {
 public:
  TicketRotator(struct ev_loop* loop, TicketKeys& keys, double interval, shm::CounterSlot counters);
  ~TicketRotator();
  void start();
  void stop();

 private:
  void onTimer();
  TicketKeys& keys_;
  double interval_;
  shm::CounterSlot counters_;
  std::unique_ptr<Timer> timer_;
};

}  // namespace manifold
