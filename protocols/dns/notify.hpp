// NOTIFY (RFC 1996) to the secondaries listed in `notify = ADDR[:PORT] ...`: when a zone is
// loaded with a serial not yet announced (at start, after a reload), the worker that runs
// instance tasks (WorkerRuntime::runsInstanceTasks) sends each address
// a NOTIFY over UDP (opcode 4, AA, the zone's SOA as question and answer) and resends it every
// 2 s, 5 times at most, until a response with the same ID comes back from that address. Each
// outcome is logged and counted (notify_sent per packet, notify_acked, notify_failed).
//
// Which serials were announced lives in the shm region dns:NAME/notify, so a reload (a new
// generation of workers) or a respawned worker notifies only zones whose serial changed:
//   NotifyRegion { char magic[8] "MFDNSNT1"; uint32 slots; uint32 reserved;
//                  NotifySlot[kNotifySlots] { u64 key (hash of the origin, never 0); u32 serial;
//                  u32 reserved } }
// open addressing on the key; written by the instance-task worker only. With more zones than slots,
// the rest are notified on every load (a harmless extra NOTIFY).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/dns/transfer.hpp"
#include "shm/counters.hpp"
#include "shm/region_header.hpp"
#include "worker/io_watcher.hpp"
#include "worker/timer.hpp"

namespace manifold::dns {

struct NotifyTarget {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;              // "192.0.2.1:53", for logs
  const TsigKey* key = nullptr;  // NOTIFY signed with it (DnsConfig::keys)
};

// "ADDR" (port 53), "ADDR:PORT" or "[V6]:PORT"; false with why.
bool parseNotifyTarget(const std::string& text, NotifyTarget& out, std::string& why);

inline constexpr uint32_t kNotifySlots = 1024;
struct NotifySlot {
  std::atomic<uint64_t> key;
  std::atomic<uint32_t> serial;
  uint32_t reserved;
};
static_assert(sizeof(NotifySlot) == 16);
struct NotifyRegion {
  shm::RegionMagic magic;  // "MFDNSNT1"
  uint32_t slots;
  uint32_t reserved;
  NotifySlot slot[kNotifySlots];
  static void format(void* base, bool adopted);
  // True when `serial` was not the last one announced for `origin` (and records it).
  bool changed(std::string_view origin, uint32_t serial);
};

// The NOTIFY packet for a zone (pure; `id` chosen by the caller).
size_t writeNotify(const ZoneTransfer& zone, uint16_t id, uint8_t* out, size_t cap);

class Notifier {
 public:
  static constexpr unsigned kTries = 5;
  static constexpr double kInterval = 2.0;

  // counters: [0] sent, [1] acknowledged, [2] failed.
  Notifier(struct ev_loop* loop, std::string title, const std::vector<NotifyTarget>& targets,
           shm::CounterSlot counters);
  ~Notifier();
  // Announces `zones` to every target.
  void start(const std::vector<const ZoneTransfer*>& zones);
  void stop();

 private:
  struct Pending {
    const ZoneTransfer* zone;
    const NotifyTarget* target;
    uint16_t id;
    unsigned tries = 0;
    bool done = false;
  };
  void send(Pending& p);
  void resend();
  void receive(int fd);
  void finish(Pending& p, bool acked, const char* why);

  std::string title_;
  const std::vector<NotifyTarget>& targets_;
  shm::CounterSlot counters_;
  int fd_[2] = {-1, -1};  // IPv4, IPv6
  IoWatcher io_[2];       // readable fd_[i] -> receive()
  Timer timer_;           // every kInterval while a NOTIFY is unanswered: resend()
  std::vector<Pending> pending_;
  unsigned open_ = 0;
};

}  // namespace manifold::dns
