#include "protocols/dns/notify.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "master/section_reader.hpp"
#include "worker/log.hpp"
#include "worker/peer_address.hpp"

namespace manifold::dns {

namespace {

constexpr uint16_t kNotifyFlags = kOpcodeNotify << 11 | 0x0400;  // opcode NOTIFY, AA (RFC 1996 3.7)

bool sameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  const auto *x = reinterpret_cast<const sockaddr*>(&a), *y = reinterpret_cast<const sockaddr*>(&b);
  return net::peerAddress(x) == net::peerAddress(y) && net::peerPort(x) == net::peerPort(y);
}

}  // namespace

bool parseNotifyTarget(const std::string& text, NotifyTarget& out, std::string& why) {
  config::ListenAddress a;
  if (!config::parseRemoteAddress(text, 53, a, why)) return false;
  out = NotifyTarget{a.addr, a.len, a.text};
  return true;
}

void NotifyRegion::format(void* base, bool adopted) {
  shm::formatFixedRegion(base, adopted, "MFDNSNT1", &NotifyRegion::slots, kNotifySlots);
}

bool NotifyRegion::changed(std::string_view origin, uint32_t serial) {
  uint64_t key = NameTable::hash(origin) | 1;
  for (uint32_t i = 0; i < kNotifySlots; ++i) {
    NotifySlot& s = slot[(key + i) % kNotifySlots];
    uint64_t k = s.key.load(std::memory_order_relaxed);
    if (k == key) {
      if (s.serial.load(std::memory_order_relaxed) == serial) return false;
      s.serial.store(serial, std::memory_order_relaxed);
      return true;
    }
    if (k == 0) {
      s.serial.store(serial, std::memory_order_relaxed);
      s.key.store(key, std::memory_order_release);
      return true;
    }
  }
  return true;  // table full: always announce
}

size_t writeNotify(const ZoneTransfer& zone, uint16_t id, uint8_t* out, size_t cap) {
  PacketWriter w(out, cap);
  w.start(id, kNotifyFlags);
  if (!w.question(reinterpret_cast<const uint8_t*>(zone.origin.data()), zone.origin.size(),
                  kTypeSoa, kClassIn) ||
      !w.record(PacketWriter::kAnswer, zone.soaOwner, kTypeSoa, zone.soaTtl, zone.soaRdata))
    return 0;
  return w.size();
}

Notifier::Notifier(struct ev_loop* loop, std::string title,
                   const std::vector<NotifyTarget>& targets, shm::CounterSlot counters)
    : title_(std::move(title)),
      targets_(targets),
      counters_(counters),
      io_{{loop, [this](int) { receive(fd_[0]); }}, {loop, [this](int) { receive(fd_[1]); }}},
      timer_(loop, [this] { resend(); }) {}

Notifier::~Notifier() {
  stop();
  for (int& fd : fd_)
    if (fd >= 0) ::close(fd);
}

void Notifier::start(const std::vector<const ZoneTransfer*>& zones) {
  std::erase_if(pending_, [](const Pending& p) { return p.done; });
  for (const ZoneTransfer* z : zones)
    for (const NotifyTarget& t : targets_) {
      Pending p{z, &t, 0};
      if (getrandom(&p.id, sizeof p.id, 0) != sizeof p.id) p.id = static_cast<uint16_t>(random());
      pending_.push_back(p);
    }
  for (Pending& p : pending_) {
    int f = p.target->addr.ss_family == AF_INET ? 0 : 1;
    if (fd_[f] < 0) {
      fd_[f] = ::socket(f == 0 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd_[f] < 0) {
        LOG_ERROR("[%s] NOTIFY socket: %s", title_.c_str(), strerror(errno));
        continue;
      }
      io_[f].start(fd_[f], IoWatcher::kRead);
    }
  }
  open_ = static_cast<unsigned>(pending_.size());
  for (size_t i = 0; i < pending_.size(); ++i) send(pending_[i]);
  if (open_) timer_.repeat(kInterval);
}

void Notifier::stop() {
  timer_.stop();
  for (auto& io : io_) io.stop();
}

void Notifier::send(Pending& p) {
  uint8_t buf[1024];
  size_t n = writeNotify(*p.zone, p.id, buf, sizeof buf);
  if (n && p.target->key)
    n = signTsig(buf, n, sizeof buf, *p.target->key, {}, static_cast<uint64_t>(::time(nullptr)),
                 false);
  int fd = fd_[p.target->addr.ss_family == AF_INET ? 0 : 1];
  ++p.tries;
  if (!n || fd < 0) {
    finish(p, false, !n ? "the SOA does not fit a NOTIFY" : "no socket");
    return;
  }
  counters_.inc(0);
  if (::sendto(fd, buf, n, 0, reinterpret_cast<const sockaddr*>(&p.target->addr), p.target->len) <
      0)
    LOG_DEBUG("[%s] NOTIFY to %s: %s", title_.c_str(), p.target->text.c_str(), strerror(errno));
}

void Notifier::finish(Pending& p, bool acked, const char* why) {
  if (p.done) return;
  p.done = true;
  --open_;
  counters_.inc(acked ? 1 : 2);
  std::string zone = nameToText(p.zone->origin);
  if (acked)
    LOG_NOTICE("[%s] NOTIFY %s serial %u to %s acknowledged", title_.c_str(), zone.c_str(),
               p.zone->serial, p.target->text.c_str());
  else
    LOG_WARN("[%s] NOTIFY %s serial %u to %s failed: %s", title_.c_str(), zone.c_str(),
             p.zone->serial, p.target->text.c_str(), why);
  if (!open_) timer_.stop();
}

void Notifier::receive(int fd) {
  for (;;) {
    uint8_t buf[1024];
    sockaddr_storage from{};
    socklen_t fromLen = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (n < 0) return;  // EAGAIN, or an ICMP error reported here: the timer resends
    if (n < static_cast<ssize_t>(kHeaderSize)) continue;
    uint16_t id = get16(buf), flags = get16(buf + 2);
    if (!(flags & 0x8000) || ((flags >> 11) & 0xF) != kOpcodeNotify) continue;
    for (Pending& p : pending_) {
      if (p.done || p.id != id || !sameAddress(p.target->addr, from)) continue;
      uint8_t rcode = flags & 0xF;
      if (rcode == kRcodeNoError) {
        finish(p, true, nullptr);
      } else {
        std::string why = "answered with rcode " + std::to_string(rcode);
        finish(p, false, why.c_str());
      }
      break;
    }
  }
}

void Notifier::resend() {
  for (Pending& p : pending_) {
    if (p.done) continue;
    if (p.tries >= kTries)
      finish(p, false, "no answer after 5 tries");
    else
      send(p);
  }
}

}  // namespace manifold::dns
