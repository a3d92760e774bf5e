#include "worker/tls_tickets.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "worker/log.hpp"
#include "worker/timer.hpp"
#include "worker/tls.hpp"

namespace manifold {

namespace {
constexpr shm::MagicText kMagic = "MFTLSTK1";
constexpr uint32_t kVersion = 1;

void fill(TicketKeys::Key& key) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof key) != 1)
    LOG_ERROR("TLS ticket keys: RAND_bytes failed; keeping the previous key");
}
}  // namespace

struct TicketKeys::Region {
  shm::RegionHeader header;
  uint32_t current;
  uint64_t rotatedAt;
  Key keys[kSlots];
};

std::string TicketKeys::layout() {
  return "tls-tickets/v" + std::to_string(kVersion) + "/" + std::to_string(sizeof(Region));
}

size_t TicketKeys::bytes() { return sizeof(Region); }

void TicketKeys::format(void* base, uint64_t now) {
  auto* r = static_cast<Region*>(base);
  std::memset(r, 0, sizeof *r);
  for (Key& key : r->keys) fill(key);  // distinct names, even for slots not used yet
  r->current = 0;
  r->rotatedAt = now;
  r->header.stamp(kMagic, kVersion);
}

TicketKeys::TicketKeys(void* base) : region_(static_cast<Region*>(base)) {}

const TicketKeys::Key& TicketKeys::current() const {
  return region_->keys[__atomic_load_n(&region_->current, __ATOMIC_ACQUIRE) % kSlots];
}

const TicketKeys::Key* TicketKeys::find(const uint8_t* name, bool& isCurrent) const {
  const unsigned now = __atomic_load_n(&region_->current, __ATOMIC_ACQUIRE) % kSlots;
  for (unsigned i = 0; i < kSlots; ++i) {
    // The slot after the current one is the next to be overwritten: its key is too old.
    if (i == (now + 1) % kSlots) continue;
    if (std::memcmp(region_->keys[i].name, name, sizeof(Key::name)) == 0) {
      isCurrent = i == now;
      return &region_->keys[i];
    }
  }
  return nullptr;
}

void TicketKeys::rotate(uint64_t now) {
  const unsigned next = (__atomic_load_n(&region_->current, __ATOMIC_ACQUIRE) + 1) % kSlots;
  fill(region_->keys[next]);
  __atomic_store_n(&region_->rotatedAt, now, __ATOMIC_RELAXED);
  __atomic_store_n(&region_->current, next, __ATOMIC_RELEASE);
}

uint64_t TicketKeys::rotatedAt() const {
  return __atomic_load_n(&region_->rotatedAt, __ATOMIC_RELAXED);
}

TicketRotator::TicketRotator(struct ev_loop* loop, TicketKeys& keys, double interval,
                             shm::CounterSlot counters)
    : keys_(keys),
      interval_(interval),
      counters_(counters),
      timer_(std::make_unique<Timer>(loop, [this] { onTimer(); })) {
  timer_->keepsLoopAlive(false);
}

TicketRotator::~TicketRotator() = default;

void TicketRotator::start() {
  const double due = static_cast<double>(keys_.rotatedAt()) + interval_ - timer_->now();
  timer_->once(std::clamp(due, 0.001, interval_));
}

void TicketRotator::stop() { timer_->stop(); }

void TicketRotator::onTimer() {
  keys_.rotate(static_cast<uint64_t>(timer_->now()));
  counters_.inc(kTlsTicketRotations);
  LOG_DEBUG("TLS session ticket keys rotated");
  timer_->once(interval_);
}

}  // namespace manifold
