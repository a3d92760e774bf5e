// What [dns:NAME] asks of the master: sockets, shm regions (LRRR cache, health state, RRL
// buckets, serials announced by NOTIFY), the transfer image file, and counters.
#include <cctype>
#include <cstdio>
#include <cstring>
#include <new>

#include "protocols/dns/config.hpp"
#include "protocols/dns/counters.hpp"
#include "protocols/dns/zone_times.hpp"
#include "shm/table.hpp"
#include "worker/log.hpp"

namespace manifold::dns {

std::vector<ListenRequest> DnsConfig::listeners() const {
  return listenRequests(listen, line, true, true);
}

// The raw ICMP socket needs CAP_NET_RAW, which workers lose when they drop privileges. The
// transfer images go into one file here, before fork, so all workers send the same pages.
void DnsConfig::acquirePrivileged() {
  if (wantsIcmp && !icmp) icmp = std::make_shared<IcmpSocket>();
  std::string why;
  if (!transfers->openFile(why))
    LOG_ERROR("[%s] zone transfers will fail (SERVFAIL): %s", title().c_str(), why.c_str());
}

void DnsConfig::indexZoneCounters() {
  zoneOrigins_.clear();
  for (size_t z = 0; z < db->zoneCount(); ++z) zoneOrigins_.push_back(db->zoneOrigin(z));
  for (const SecondaryZone& s : secondaries)
    if (!s.loaded) zoneOrigins_.push_back(s.origin);
}

void ZoneTimesRegion::format(void* base, size_t bytes, uint32_t n, bool adopted) {
  auto* r = static_cast<ZoneTimesRegion*>(base);
  if (adopted && r->magic.is("MFDNSZT1") && r->zones == n) return;
  std::memset(base, 0, bytes);
  r->zones = n;
  r->magic.stamp("MFDNSZT1");
}

int DnsConfig::zoneCounter(std::string_view origin, unsigned which) const {
  for (size_t i = 0; i < zoneOrigins_.size(); ++i)
    if (zoneOrigins_[i] == origin)
      return static_cast<int>(zoneCounterBase() + i * kZoneCounters + which);
  return -1;
}

DnsConfig::RegionSlots DnsConfig::regionSlots() const {
  RegionSlots s;
  int next = 0;
  if (lrrr && lrrrBytes) s.lrrr = next++;
  if (!targets.empty()) s.health = next++;
  if (rrl.rate) s.rrl = next++;
  if (!notify.empty()) s.notify = next++;
  if (!transfers->allow.empty()) s.zoneTimes = next++;
  if (!secondaries.empty()) s.secondary = next++;
  return s;
}

// In regionSlots() order.
std::vector<RegionRequest> DnsConfig::regions() const {
  std::vector<RegionRequest> out;
  if (lrrr && lrrrBytes) {
    // Decision cache (lrrr.hpp): an shm::Table; kept across reloads of the same size.
    RegionRequest c;
    c.name = title() + "/lrrr";
    c.layout = "dns-lrrr-v1 entry=" + std::to_string(sizeof(LrrrEntry)) +
               " bytes=" + std::to_string(lrrrBytes);
    c.bytes = lrrrBytes;
    c.sizeKey = "lrrr_cache";
    c.init = [](void* base, size_t bytes, bool adopted) {
      if (adopted && shm::Table::at(base)) return;
      Lrrr::formatRegion(base, bytes);
    };
    out.push_back(std::move(c));
  }
  if (!targets.empty()) out.push_back(healthRegion());
  if (rrl.rate) {
    // Token buckets of every worker (rrl.hpp); kept across reloads (they only hold times).
    RegionRequest r;
    r.name = title() + "/rrl";
    r.layout = "dns-rrl-v1 buckets=" + std::to_string(Rrl::kBuckets);
    r.bytes = Rrl::regionBytes();
    r.init = [](void* base, size_t bytes, bool adopted) {
      Rrl::formatRegion(base, bytes, adopted);
    };
    out.push_back(std::move(r));
  }
  if (!notify.empty()) {
    // Serials already announced (notify.hpp); kept across reloads so only changes are notified.
    RegionRequest r;
    r.name = title() + "/notify";
    r.layout = "dns-notify-v1 slots=" + std::to_string(kNotifySlots) +
               " slot=" + std::to_string(sizeof(NotifySlot));
    r.bytes = sizeof(NotifyRegion);
    r.init = [](void* base, size_t, bool adopted) { NotifyRegion::format(base, adopted); };
    out.push_back(std::move(r));
  }
  if (!transfers->allow.empty()) {
    // Last transfer out per zone (zone_times.hpp).
    RegionRequest r;
    r.name = title() + "/zone_times";
    uint64_t h = NameTable::hash("");
    for (const std::string& origin : zoneOrigins_) h = h * 31 + NameTable::hash(origin);
    r.layout = "dns-zone-times-v1 zones=" + std::to_string(zoneOrigins_.size()) +
               " key=" + std::to_string(h);
    uint32_t n = static_cast<uint32_t>(zoneOrigins_.size());
    r.bytes = ZoneTimesRegion::bytesFor(n);
    r.init = [n](void* base, size_t bytes, bool adopted) {
      ZoneTimesRegion::format(base, bytes, n, adopted);
    };
    out.push_back(std::move(r));
  }
  if (!secondaries.empty()) {
    // NOTIFY accepted by any worker, for the transfer worker (secondary_zone.hpp).
    RegionRequest r;
    r.name = title() + "/secondary";
    r.layout = "dns-secondary-v2 n=" + std::to_string(kMaxSecondaries);
    r.bytes = sizeof(SecondaryRegion);
    r.init = [](void* base, size_t, bool adopted) { SecondaryRegion::format(base, adopted); };
    out.push_back(std::move(r));
  }
  return out;
}

RegionRequest DnsConfig::healthRegion() const {
  RegionRequest r;
  r.name = title() + "/health";
  // Same targets (address, check, interval) in the same order: the state is adopted on reload.
  uint64_t h = 1469598103934665603ull;
  for (char ch : targetsKey) h = (h ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
  char key[64];
  snprintf(key, sizeof key, "dns-health-v1 slot=%zu n=%zu h=%016llx", sizeof(HealthSlot),
           targets.size(), static_cast<unsigned long long>(h));
  r.layout = key;
  r.bytes = regionBytes();
  size_t n = targets.size();
  r.init = [n](void* base, size_t, bool adopted) {
    auto* h = static_cast<HealthRegionHeader*>(base);
    auto* slots = reinterpret_cast<HealthSlot*>(h + 1);
    if (adopted && h->magic.is("MFDNSHL1") && h->targets == n) return;
    h->magic.stamp("MFDNSHL1");
    h->targets = static_cast<uint32_t>(n);
    for (size_t i = 0; i < n; ++i) {
      new (&slots[i]) HealthSlot{};
      slots[i].up.store(1);
    }
  };
  return r;
}

namespace {
// A name or address as a counter-name part: alphanumerics kept, the rest '_', at most `limit`.
std::string counterName(std::string_view text, size_t limit) {
  std::string base;
  for (char c : text.substr(0, limit))
    base.push_back(isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return base;
}
}  // namespace

std::vector<CounterSpec> DnsConfig::counters() const {
  std::vector<CounterSpec> out = counterSpecs(kCounterDefs);
  appendCounters(out, kLrrrCounterDefs);
  for (const auto& t : targets) {
    std::string base = counterName(t.text, 44);
    out.push_back({"t_" + base + "_up", CounterKind::Gauge,
                   "health target " + t.text + " up (1) or down (0)"});
    out.push_back({"t_" + base + "_checked", CounterKind::Gauge,
                   "health target " + t.text + ": unix time of the last finished check"});
  }
  // Per zone (zoneCounterOrigins() order), kZoneCounters each (counters.hpp).
  for (const std::string& origin : zoneCounterOrigins()) {
    const std::string text = nameToText(origin);
    const std::string base =
        counterName(std::string_view(text).substr(0, text.size() > 1 ? text.size() - 1 : 1), 40);
    for (const shm::CounterDef& def : kZoneCounterDefs)
      out.push_back({"z_" + base + "_" + std::string(def.name), def.kind,
                     "zone " + text + ": " + std::string(def.help)});
  }
  return out;
}

}  // namespace manifold::dns
