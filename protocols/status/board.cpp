// takeBoard: the dashboard's tables from one snapshot of the segment (shm/snapshot.hpp, the
// reading manifold-shm prints), the workers' /proc figures and the health regions.
//
// A service's summary columns add up counters by name, whatever the protocol (README.md lists
// the names): a protocol that uses one of these names joins in with no change here.
#include "protocols/status/board.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "shm/stats.hpp"

namespace manifold::status {

namespace {

using shmtool::CounterView;
using shmtool::ServiceView;
using shmtool::Snapshot;

constexpr std::string_view kRequestNames[] = {"requests",         "queries",
                                              "udp_requests",     "transfers_finished",
                                              "transfers_failed", "sessions_refused"};
constexpr std::string_view kErrorNames[] = {"responses_5xx", "rcode_servfail", "errors",
                                            "transfers_failed"};
constexpr std::string_view kByteNames[] = {"bytes_in", "bytes_out", "bytes_sent", "bytes_received"};
constexpr std::string_view kOpenNames[] = {"connections_open", "transfers_active"};
constexpr std::string_view kHitNames[] = {"cache_hits", "lrrr_cache_hits", "proxy_cache_hits"};
constexpr std::string_view kMissNames[] = {"cache_misses", "lrrr_chains", "proxy_cache_misses"};
// A minute after a member changes state its row stays marked.
constexpr uint64_t kRecentChangeMs = 60000;

template <size_t N>
bool named(std::string_view name, const std::string_view (&names)[N]) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

template <size_t N>
uint64_t sumNamed(const ServiceView& s, const std::string_view (&names)[N]) {
  uint64_t sum = 0;
  for (const CounterView& c : s.counters)
    if (named(c.name, names)) sum += c.total;
  return sum;
}

std::string num(uint64_t v) { return std::to_string(v); }
uint64_t since(uint64_t thenMs, uint64_t nowMs) { return nowMs > thenMs ? nowMs - thenMs : 0; }
std::string ago(uint64_t thenMs, uint64_t nowMs) {
  return thenMs ? shmtool::humanDuration(since(thenMs, nowMs)) + " ago" : "-";
}

// "0.42 ms", "12.3 ms"; "-" before a good check.
std::string latency(uint32_t us) {
  if (!us) return "-";
  char buf[24];
  std::snprintf(buf, sizeof buf, us < 1000 ? "%.2f ms" : "%.1f ms", us / 1000.0);
  return buf;
}

Row row(std::string key, std::vector<std::string> cells, std::string cls = {}) {
  Row r;
  r.key = std::move(key);
  r.cls = std::move(cls);
  r.cells = std::move(cells);
  r.totals.assign(r.cells.size(), 0);
  return r;
}

bool readProc(int32_t pid, ProcStat& out) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 && parseProcStat(std::string_view(buf, static_cast<size_t>(n)), out);
}

Table instanceTable(const Snapshot& snap) {
  const shmtool::InstanceView& in = snap.instance;
  Table t{"instance",
          "Instance",
          {{"name", "instance"},
           {"pid", "master pid", true},
           {"generation", "gen", true, Rate::None, true},
           {"uptime", "uptime", true},
           {"reloads", "reloads", true, Rate::None, true},
           {"failed", "failed reloads", true, Rate::None, true},
           {"last", "last reload"},
           {"shm", "shm size", true},
           {"used", "in regions", true}},
          {}};
  std::string last = in.lastReloadMs ? ago(in.lastReloadMs, in.nowMs) +
                                           (in.lastReloadOk ? ": applied" : ": refused")
                                     : "none";
  std::string cls = !in.masterAlive ? "bad" : in.lastReloadMs && !in.lastReloadOk ? "warn" : "";
  t.rows.push_back(
      row("instance",
          {in.name, std::to_string(in.masterPid) + (in.masterAlive ? "" : " (gone)"),
           num(in.generation), shmtool::humanDuration(since(in.startedAtMs, in.nowMs)),
           num(in.reloads), num(in.failedReloads), last, shmtool::humanBytes(in.segmentBytes),
           shmtool::humanBytes(in.allocatedBytes)},
          cls));
  return t;
}

Table workerTable(const shm::Segment& segment, const Snapshot& snap) {
  Table t{"workers",
          "Workers",
          {{"slot", "slot", true},
           {"index", "index", true},
           {"pid", "pid", true, Rate::None, true},
           {"generation", "gen", true},
           {"state", "state", false, Rate::None, true},
           {"restarts", "restarts", true, Rate::None, true},
           {"uptime", "uptime", true},
           {"cpu", "cpu", true, Rate::Percent},
           {"cputime", "cpu time", true},
           {"rss", "memory", true}},
          {}};
  static const long ticksPerSecond = sysconf(_SC_CLK_TCK);
  static const long pageBytes = sysconf(_SC_PAGESIZE);
  const uint64_t now = snap.instance.nowMs;
  for (const shmtool::WorkerView& w : snap.workers) {
    const shm::WorkerInfo& i = w.info;
    ProcStat proc;
    const bool haveProc = w.alive && ticksPerSecond > 0 && readProc(i.pid, proc);
    const uint64_t cpuMs = proc.cpuTicks * 1000 / static_cast<uint64_t>(ticksPerSecond);
    // Waiting to be respawned after a crash (its back-off): red; it has crashed before: amber.
    std::string cls = i.restarts && i.state == shm::kWorkerStarting ? "bad"
                      : i.restarts                                  ? "warn"
                                                                    : "";
    Row r = row(
        "slot" + num(w.slot),
        {num(w.slot), num(i.index), std::to_string(i.pid) + (w.alive ? "" : "?"), num(i.generation),
         shm::workerStateName(i.state), num(i.restarts),
         shmtool::humanDuration(since(i.startedAtMs, now)), "",
         haveProc ? shmtool::humanDuration(cpuMs) : "-",
         haveProc ? shmtool::humanBytes(proc.rssPages * static_cast<uint64_t>(pageBytes)) : "-"},
        cls);
    r.totals[7] = cpuMs;
    t.rows.push_back(std::move(r));
  }
  // A crash-looping worker's slot is released (state free) but keeps its index, generation and
  // restarts: a free slot of the running generation is a worker index left down.
  const void* base = segment.findRegion("stats");
  const shm::StatsRegion* stats = base ? shm::StatsRegion::at(base) : nullptr;
  for (unsigned slot = 0; stats && snap.instance.masterAlive && slot < stats->slotCount(); ++slot) {
    const shm::WorkerInfo i = stats->readWorker(slot);
    if (i.state != shm::kWorkerFree || !i.generation || i.generation != snap.instance.generation)
      continue;
    t.rows.push_back(row("slot" + num(slot),
                         {num(slot), num(i.index), "-", num(i.generation), "down (crash loop)",
                          num(i.restarts), "-", "", "-", "-"},
                         "bad"));
  }
  return t;
}

Table serviceTable(const Snapshot& snap) {
  Table t{"services",
          "Services",
          {{"service", "service"},
           {"rps", "req/s", true, Rate::PerSecond},
           {"eps", "err/s", true, Rate::PerSecond},
           {"bps", "bytes/s", true, Rate::BytesPerSecond},
           {"chart", "last minutes", false, Rate::Chart},
           {"open", "open", true},
           {"hits", "cache hits", true},
           {"requests", "requests", true},
           {"errors", "errors", true},
           {"bytes", "bytes", true},
           {"figures", "figures"}},
          {}};
  for (const ServiceView& s : snap.services) {
    const uint64_t requests = sumNamed(s, kRequestNames), errors = sumNamed(s, kErrorNames),
                   bytes = sumNamed(s, kByteNames), hits = sumNamed(s, kHitNames);
    // Every other gauge (torrents, peers, sessions...); per-member ones are in Health.
    std::string figures;
    for (const CounterView& c : s.counters) {
      if (!c.gauge || named(c.name, kOpenNames) || c.name.starts_with("t_") ||
          c.name.starts_with("backend_"))
        continue;
      figures += (figures.empty() ? "" : ", ") + c.name + " " + num(c.total);
    }
    Row r =
        row(s.title, {s.title, "", "", "", "", num(sumNamed(s, kOpenNames)),
                      shmtool::humanPercent(hits, hits + sumNamed(s, kMissNames)), num(requests),
                      num(errors), shmtool::humanBytes(bytes), figures.empty() ? "-" : figures});
    r.totals[1] = requests;
    r.totals[2] = errors;
    r.totals[3] = bytes;
    t.rows.push_back(std::move(r));
  }
  return t;
}

Table counterTable(const Snapshot& snap) {
  Table t{"counters",
          "Counters",
          {{"counter", "counter"},
           {"kind", "kind"},
           {"value", "value", true},
           {"rate", "/s", true, Rate::PerSecond}},
          {},
          true};
  for (const ServiceView& s : snap.services)
    for (const CounterView& c : s.counters) {
      // A gauge has no rate: its rate cell is filled, which the script leaves alone.
      Row r = row(s.title + "/" + c.name,
                  {c.name, c.gauge ? "gauge" : "counter", num(c.total), c.gauge ? "-" : ""});
      r.group = s.title;
      r.totals[3] = c.total;
      t.rows.push_back(std::move(r));
    }
  return t;
}

Table healthTable(const std::vector<HealthMember>& members, uint64_t now) {
  Table t{"health",
          "Health",
          {{"service", "service"},
           {"member", "member"},
           {"state", "state", false, Rate::None, true},
           {"changed", "last change", true},
           {"checked", "last check", true},
           {"latency", "latency", true},
           {"checks", "checks", true},
           {"failures", "failures", true},
           {"inflight", "in flight", true}},
          {}};
  for (const HealthMember& m : members) {
    std::string cls = !m.up                                                            ? "bad"
                      : m.lastChangeMs && since(m.lastChangeMs, now) < kRecentChangeMs ? "recent"
                                                                                       : "";
    t.rows.push_back(row(m.service + "/" + m.member,
                         {m.service, m.member, m.up ? "up" : "down", ago(m.lastChangeMs, now),
                          ago(m.lastCheckMs, now), m.up ? latency(m.latencyUs) : "-", num(m.checks),
                          num(m.failures), m.inFlight < 0 ? "-" : std::to_string(m.inFlight)},
                         cls));
  }
  return t;
}

Table regionTable(const Snapshot& snap) {
  Table t{"regions",
          "Shared memory",
          {{"region", "region"},
           {"state", "state"},
           {"kind", "kind"},
           {"size", "size", true},
           {"used", "used", true},
           {"use", "use", true},
           {"entries", "entries", true},
           {"evictions", "evictions", true}},
          {}};
  for (const shmtool::RegionView& r : snap.regions) {
    const bool sized = r.kind == "table" || r.kind == "arena";
    const bool table = r.kind == "table";
    t.rows.push_back(
        row(r.info.name + "#" + num(r.info.offset),
            {r.info.name, shm::regionStateName(r.info.state), r.kind,
             shmtool::humanBytes(r.info.bytes), sized ? shmtool::humanBytes(r.used) : "-",
             sized ? shmtool::humanPercent(r.used, r.capacity) : "-", table ? num(r.entries) : "-",
             table ? num(r.evictions) : "-"}));
  }
  return t;
}

}  // namespace

const Table* Board::find(std::string_view id) const {
  for (const Table& t : tables)
    if (t.id == id) return &t;
  return nullptr;
}

Board takeBoard(shm::Segment& segment) {
  const Snapshot snap = shmtool::takeSnapshot(segment);
  Board board;
  board.instance = snap.instance.name;
  board.nowMs = snap.instance.nowMs;
  board.tables.push_back(instanceTable(snap));
  board.tables.push_back(workerTable(segment, snap));
  board.tables.push_back(serviceTable(snap));
  board.tables.push_back(healthTable(readHealth(segment, snap), board.nowMs));
  board.tables.push_back(regionTable(snap));
  board.tables.push_back(counterTable(snap));
  return board;
}

}  // namespace manifold::status
