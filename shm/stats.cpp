#include "shm/stats.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

namespace manifold::shm {

namespace {

constexpr uint32_t kVersion = 2;  // 2: counter help texts
constexpr unsigned kMaxSlots = 1u << 16;

size_t alignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

struct Layout {
  size_t services, counters, workers, slots, stride, total;
};

size_t counterTotal(const std::vector<StatsServiceSpec>& services) {
  size_t n = 0;
  for (const auto& s : services) n += s.counters.size();
  return n;
}

void validate(unsigned slots, const std::vector<StatsServiceSpec>& services) {
  if (slots == 0 || slots > kMaxSlots)
    throw std::invalid_argument("stats: slot count " + std::to_string(slots) + " out of range");
  for (const auto& s : services) {
    if (s.title.empty() || s.title.size() > kStatsTitleMax)
      throw std::invalid_argument("stats: service title '" + s.title + "' must be 1-" +
                                  std::to_string(kStatsTitleMax) + " characters");
    if (s.protocol.size() > kStatsProtocolMax)
      throw std::invalid_argument("stats: protocol name '" + s.protocol + "' longer than " +
                                  std::to_string(kStatsProtocolMax));
    for (const auto& [name, kind, help] : s.counters) {
      if (name.empty() || name.size() > kStatsCounterNameMax)
        throw std::invalid_argument("stats: counter '" + name + "' of " + s.title + " must be 1-" +
                                    std::to_string(kStatsCounterNameMax) + " characters");
      if (kind != kCounter && kind != kGauge)
        throw std::invalid_argument("stats: counter '" + name + "' has unknown kind");
    }
  }
}

Layout layoutOf(unsigned slots, const std::vector<StatsServiceSpec>& services) {
  Layout l{};
  const size_t counters = counterTotal(services);
  l.services = sizeof(StatsRegion);
  l.counters = alignUp(l.services + services.size() * sizeof(StatsServiceDesc), 64);
  l.workers = alignUp(l.counters + counters * sizeof(StatsCounterDesc), 64);
  l.slots = alignUp(l.workers + size_t{slots} * sizeof(WorkerInfo), 128);
  l.stride = std::max<size_t>(128, alignUp(counters * sizeof(uint64_t), 128));
  l.total = l.slots + size_t{slots} * l.stride;
  return l;
}

void copyName(char* dst, size_t cap, const std::string& src) {
  std::memset(dst, 0, cap);
  std::memcpy(dst, src.data(), std::min(src.size(), cap - 1));
}

std::string_view nameOf(const char* field, size_t cap) { return {field, strnlen(field, cap)}; }

}  // namespace

const char* workerStateName(uint8_t state) {
  switch (state) {
    case kWorkerFree:
      return "free";
    case kWorkerStarting:
      return "starting";
    case kWorkerReady:
      return "ready";
    case kWorkerDraining:
      return "draining";
  }
  return "unknown";
}

size_t StatsRegion::bytesFor(unsigned slots, const std::vector<StatsServiceSpec>& services) {
  validate(slots, services);
  return layoutOf(slots, services).total;
}

std::string StatsRegion::layoutKey(unsigned slots, const std::vector<StatsServiceSpec>& services) {
  validate(slots, services);
  // FNV-1a over every name and kind, with separators so ("ab","c") != ("a","bc").
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  for (const auto& s : services) {
    mix(s.title);
    mix(s.protocol);
    for (const auto& [name, kind, help] : s.counters) {
      mix(name);
      mix(std::string_view(kind == kGauge ? "g" : "c"));
      mix(help);
    }
    mix("|");
  }
  char key[96];
  std::snprintf(key, sizeof key, "stats/%u slots=%u svc=%zu ctr=%zu h=%016llx sz=%zu,%zu,%zu,%zu",
                kVersion, slots, services.size(), counterTotal(services),
                static_cast<unsigned long long>(h), sizeof(StatsRegion), sizeof(StatsServiceDesc),
                sizeof(StatsCounterDesc), sizeof(WorkerInfo));
  return key;
}

StatsRegion* StatsRegion::format(void* mem, size_t bytes, unsigned slots,
                                 const std::vector<StatsServiceSpec>& services) {
  validate(slots, services);
  const Layout l = layoutOf(slots, services);
  if (bytes < l.total)
    throw std::invalid_argument("stats: region of " + std::to_string(bytes) + " bytes, need " +
                                std::to_string(l.total));
  std::memset(mem, 0, l.total);
  auto* r = new (mem) StatsRegion();
  r->slots_ = slots;
  r->services_ = static_cast<uint32_t>(services.size());
  r->counterTotal_ = static_cast<uint32_t>(counterTotal(services));
  r->bytes_ = l.total;
  r->servicesOffset_ = l.services;
  r->countersOffset_ = l.counters;
  r->workersOffset_ = l.workers;
  r->slotsOffset_ = l.slots;
  r->slotStride_ = l.stride;
  char* base = static_cast<char*>(mem);
  auto* sd = reinterpret_cast<StatsServiceDesc*>(base + l.services);
  auto* cd = reinterpret_cast<StatsCounterDesc*>(base + l.counters);
  uint32_t next = 0;
  for (size_t s = 0; s < services.size(); ++s) {
    copyName(sd[s].title, sizeof sd[s].title, services[s].title);
    copyName(sd[s].protocol, sizeof sd[s].protocol, services[s].protocol);
    sd[s].firstCounter = next;
    sd[s].counterCount = static_cast<uint32_t>(services[s].counters.size());
    for (const auto& [name, kind, help] : services[s].counters) {
      copyName(cd[next].name, sizeof cd[next].name, name);
      cd[next].kind = kind;
      copyName(cd[next].help, sizeof cd[next].help, help);
      ++next;
    }
  }
  // Magic last: at() refuses a half-formatted region.
  r->header_.stamp(kMagic, kVersion);
  return r;
}

bool StatsRegion::valid() const {
  if (!header_.matches(kMagic, kVersion)) return false;
  if (slots_ == 0 || slots_ > kMaxSlots || slotStride_ < counterTotal_ * sizeof(uint64_t))
    return false;
  // Every array must lie inside bytes_, so a reader never follows a corrupt offset out.
  const auto inside = [this](uint64_t off, uint64_t n, uint64_t size) {
    return off >= sizeof(StatsRegion) && off <= bytes_ && n <= (bytes_ - off) / size;
  };
  return inside(servicesOffset_, services_, sizeof(StatsServiceDesc)) &&
         inside(countersOffset_, counterTotal_, sizeof(StatsCounterDesc)) &&
         inside(workersOffset_, slots_, sizeof(WorkerInfo)) &&
         inside(slotsOffset_, slots_, slotStride_);
}

const StatsRegion* StatsRegion::at(const void* mem) {
  const auto* r = std::launder(static_cast<const StatsRegion*>(mem));
  return mem && r->valid() ? r : nullptr;
}

StatsRegion* StatsRegion::at(void* mem) {
  return const_cast<StatsRegion*>(at(static_cast<const void*>(mem)));
}

const StatsServiceDesc* StatsRegion::service(unsigned s) const {
  if (s >= services_) return nullptr;
  const auto* sd = reinterpret_cast<const StatsServiceDesc*>(reinterpret_cast<const char*>(this) +
                                                             servicesOffset_);
  // A corrupt descriptor must not send readers past the counter arrays.
  if (sd[s].firstCounter > counterTotal_ || sd[s].counterCount > counterTotal_ - sd[s].firstCounter)
    return nullptr;
  return &sd[s];
}

const StatsCounterDesc* StatsRegion::counterDesc(unsigned s, unsigned c) const {
  const StatsServiceDesc* sd = service(s);
  if (!sd || c >= sd->counterCount) return nullptr;
  const auto* cd = reinterpret_cast<const StatsCounterDesc*>(reinterpret_cast<const char*>(this) +
                                                             countersOffset_);
  return &cd[sd->firstCounter + c];
}

const uint64_t* StatsRegion::slotBlock(unsigned slot) const {
  if (slot >= slots_) return nullptr;
  return reinterpret_cast<const uint64_t*>(reinterpret_cast<const char*>(this) + slotsOffset_ +
                                           slot * slotStride_);
}

uint64_t* StatsRegion::counters(unsigned slot, unsigned s) {
  const StatsServiceDesc* sd = service(s);
  const uint64_t* block = slotBlock(slot);
  if (!sd || !block) return nullptr;
  return const_cast<uint64_t*>(block) + sd->firstCounter;
}

void StatsRegion::resetGauges(unsigned slot) {
  for (unsigned s = 0; s < services_; ++s) {
    const CounterSlot c = counters(slot, s);
    if (!c) return;
    for (unsigned i = 0; i < counterCount(s); ++i)
      if (counterKind(s, i) == kGauge) c.set(i, 0);
  }
}

WorkerInfo& StatsRegion::worker(unsigned slot) {
  return reinterpret_cast<WorkerInfo*>(reinterpret_cast<char*>(this) + workersOffset_)[slot];
}

const WorkerInfo& StatsRegion::worker(unsigned slot) const {
  return reinterpret_cast<const WorkerInfo*>(reinterpret_cast<const char*>(this) +
                                             workersOffset_)[slot];
}

WorkerInfo StatsRegion::readWorker(unsigned slot) const {
  WorkerInfo w{};
  if (slot >= slots_) return w;
  const WorkerInfo& src = worker(slot);
  w.state = __atomic_load_n(&src.state, __ATOMIC_ACQUIRE);
  w.pid = __atomic_load_n(&src.pid, __ATOMIC_RELAXED);
  w.index = __atomic_load_n(&src.index, __ATOMIC_RELAXED);
  w.generation = __atomic_load_n(&src.generation, __ATOMIC_RELAXED);
  w.startedAtMs = __atomic_load_n(&src.startedAtMs, __ATOMIC_RELAXED);
  w.restarts = __atomic_load_n(&src.restarts, __ATOMIC_RELAXED);
  return w;
}

std::string_view StatsRegion::serviceTitle(unsigned s) const {
  const StatsServiceDesc* sd = service(s);
  return sd ? nameOf(sd->title, sizeof sd->title) : std::string_view();
}

std::string_view StatsRegion::serviceProtocol(unsigned s) const {
  const StatsServiceDesc* sd = service(s);
  return sd ? nameOf(sd->protocol, sizeof sd->protocol) : std::string_view();
}

unsigned StatsRegion::counterCount(unsigned s) const {
  const StatsServiceDesc* sd = service(s);
  return sd ? sd->counterCount : 0;
}

std::string_view StatsRegion::counterName(unsigned s, unsigned c) const {
  const StatsCounterDesc* cd = counterDesc(s, c);
  return cd ? nameOf(cd->name, sizeof cd->name) : std::string_view();
}

uint8_t StatsRegion::counterKind(unsigned s, unsigned c) const {
  const StatsCounterDesc* cd = counterDesc(s, c);
  return cd ? cd->kind : kCounter;
}

std::string_view StatsRegion::counterHelp(unsigned s, unsigned c) const {
  const StatsCounterDesc* cd = counterDesc(s, c);
  return cd ? nameOf(cd->help, sizeof cd->help) : std::string_view();
}

uint64_t StatsRegion::read(unsigned slot, unsigned s, unsigned c) const {
  const StatsServiceDesc* sd = service(s);
  const uint64_t* block = slotBlock(slot);
  if (!sd || !block || c >= sd->counterCount) return 0;
  return __atomic_load_n(block + sd->firstCounter + c, __ATOMIC_RELAXED);
}

uint64_t StatsRegion::sum(unsigned s, unsigned c) const {
  uint64_t total = 0;
  for (unsigned slot = 0; slot < slots_; ++slot) total += read(slot, s, c);
  return total;
}

}  // namespace manifold::shm
