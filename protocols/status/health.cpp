// Health members for the dashboard, read from the regions that hold them. The one place in this
// folder that knows other protocols' layouts: the DNS health region (HealthRegionHeader then
// HealthSlot per target, protocols/dns/config.hpp) and the proxy's backend states
// (protocols/proxy/health.hpp). Members are named by their services' counters, which carry the
// target's text in their help: "health target 192.0.2.1 tcp:80 up (1) or down (0)" for DNS,
// "requests sent to backend (127.0.0.1:8080)" for the proxy.
#include "protocols/proxy/health.hpp"

#include <string_view>

#include "protocols/dns/config.hpp"
#include "protocols/status/board.hpp"
#include "worker/clock.hpp"

namespace manifold::status {

namespace {

const shmtool::CounterView* counterNamed(const shmtool::ServiceView& s, std::string_view name) {
  for (const auto& c : s.counters)
    if (c.name == name) return &c;
  return nullptr;
}

// The text between `before` and `after` in help, or the fallback.
std::string between(std::string_view help, std::string_view before, std::string_view after,
                    std::string fallback) {
  size_t from = help.find(before);
  if (from == std::string_view::npos) return fallback;
  from += before.size();
  size_t to = help.find(after, from);
  if (to == std::string_view::npos || to == from) return fallback;
  return std::string(help.substr(from, to - from));
}

void readDns(shm::Segment& segment, const shmtool::ServiceView& s, std::vector<HealthMember>& out) {
  const std::string name = s.title + "/health";
  const void* base = segment.findRegion(name);
  if (!base) return;
  const auto* h = static_cast<const dns::HealthRegionHeader*>(base);
  if (!h->magic.is("MFDNSHL1")) return;
  const size_t n = h->targets;
  if (sizeof(dns::HealthRegionHeader) + n * sizeof(dns::HealthSlot) > segment.regionBytes(name))
    return;
  const auto* slots = reinterpret_cast<const dns::HealthSlot*>(h + 1);
  // The per-target gauges come in target order, "t_<target>_up" first of each pair.
  std::vector<std::string> names;
  for (const auto& c : s.counters)
    if (c.gauge && c.name.starts_with("t_") && c.name.ends_with("_up"))
      names.push_back(between(c.help, "health target ", " up (1)", c.name));
  for (size_t i = 0; i < n; ++i) {
    const dns::HealthSlot& slot = slots[i];
    HealthMember m;
    m.service = s.title;
    m.member = i < names.size() ? names[i] : "target " + std::to_string(i);
    m.up = slot.up.load(std::memory_order_relaxed) != 0;
    m.lastCheckMs = slot.lastCheckMs.load(std::memory_order_relaxed);
    m.lastChangeMs = slot.lastChangeMs.load(std::memory_order_relaxed);
    m.checks = slot.checks.load(std::memory_order_relaxed);
    m.failures = slot.failures.load(std::memory_order_relaxed);
    m.latencyUs = slot.latencyUs.load(std::memory_order_relaxed);
    out.push_back(std::move(m));
  }
}

void readProxy(shm::Segment& segment, const shmtool::ServiceView& s,
               std::vector<HealthMember>& out) {
  const std::string name = s.title + "/backends";
  void* base = segment.findRegion(name);
  proxy::HealthRegion* region = base ? proxy::HealthRegion::attach(base) : nullptr;
  if (!region || proxy::HealthRegion::bytes(region->count()) > segment.regionBytes(name)) return;
  const uint64_t now = clock::monotonicMs();
  for (size_t i = 0; i < region->count(); ++i) {
    const std::string prefix = "backend_" + std::to_string(i) + "_";
    const auto* requests = counterNamed(s, prefix + "requests");
    const auto* failures = counterNamed(s, prefix + "failures");
    const auto* down = counterNamed(s, prefix + "down");  // also 1 for a backend set `down`
    proxy::BackendState& state = region->at(i);
    HealthMember m;
    m.service = s.title;
    m.member = requests ? between(requests->help, "(", ")", prefix) : prefix;
    m.up = region->available(i, now) && !(down && down->total);
    m.checks = __atomic_load_n(&state.checks, __ATOMIC_RELAXED);
    m.lastCheckMs = __atomic_load_n(&state.lastCheckMs, __ATOMIC_RELAXED);
    m.lastChangeMs = __atomic_load_n(&state.lastChangeMs, __ATOMIC_RELAXED);
    m.latencyUs = __atomic_load_n(&state.latencyUs, __ATOMIC_RELAXED);
    m.failures = failures ? failures->total : 0;
    m.inFlight = region->active(i);
    out.push_back(std::move(m));
  }
}

}  // namespace

std::vector<HealthMember> readHealth(shm::Segment& segment, const shmtool::Snapshot& snap) {
  std::vector<HealthMember> out;
  // By region, not by protocol name: a protocol built on the proxy (fs) has the same region.
  for (const auto& s : snap.services) {
    readDns(segment, s, out);
    readProxy(segment, s, out);
  }
  return out;
}

}  // namespace manifold::status
