#include "tools/shm/render.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace manifold::shmtool {

namespace {

// Columns padded to their widest cell; numeric columns right-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::vector<bool> right = {})
      : header_(std::move(header)), right_(std::move(right)) {
    right_.resize(header_.size(), false);
  }
  void add(std::vector<std::string> row) {
    row.resize(header_.size());
    rows_.push_back(std::move(row));
  }
  std::string render(const std::string& indent) const {
    std::vector<size_t> width(header_.size());
    for (size_t c = 0; c < header_.size(); ++c) {
      width[c] = header_[c].size();
      for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
    }
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
      std::string text = indent;
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string pad(width[c] - cells[c].size(), ' ');
        const bool last = c + 1 == cells.size();
        text += right_[c] ? pad + cells[c] : cells[c] + (last ? "" : pad);
        if (!last) text += "  ";
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    };
    line(header_);
    for (const auto& row : rows_) line(row);
    return out;
  }

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

std::string num(uint64_t v) { return std::to_string(v); }

uint64_t since(uint64_t startMs, uint64_t nowMs) { return nowMs > startMs ? nowMs - startMs : 0; }

std::string occupancy(const RegionView& r) {
  if (r.kind == "stats") return num(r.slots) + " slots, " + num(r.services) + " services";
  if (r.kind == "table")
    return num(r.entries) + " entries, " + humanBytes(r.used) + " of " + humanBytes(r.capacity) +
           " (" + humanPercent(r.used, r.capacity) + "), " + num(r.evictions) + " evictions" +
           (r.recoveries ? ", " + num(r.recoveries) + " lock recoveries" : "");
  if (r.kind == "arena")
    return num(r.allocations) + " blocks, " + humanBytes(r.used) + " of " + humanBytes(r.capacity) +
           " (" + humanPercent(r.used, r.capacity) + ")";
  return "-";
}

std::string workerLabel(const WorkerView& w) { return "slot " + num(w.slot); }

void textInstance(const Snapshot& snap, std::string& out) {
  const InstanceView& in = snap.instance;
  out += "instance  " + in.name + "  " + in.path + "  " + humanBytes(in.segmentBytes) + " (" +
         humanBytes(in.allocatedBytes) + " in regions)\n";
  out += "master    pid " + std::to_string(in.masterPid) +
         (in.masterAlive ? " (running)" : " (not running: stale segment)") + "  generation " +
         num(in.generation) + "  reloads " + num(in.reloads) + " (" + num(in.failedReloads) +
         " failed)  up " + humanDuration(since(in.startedAtMs, in.nowMs)) + "\n";
}

void textWorkers(const Snapshot& snap, std::string& out) {
  out += "workers\n";
  if (!snap.haveStats) {
    out += "  (no stats region)\n";
    return;
  }
  if (snap.workers.empty()) {
    out += "  (none)\n";
    return;
  }
  TextTable t({"slot", "index", "pid", "gen", "state", "restarts", "uptime"},
              {true, true, true, true, false, true, true});
  for (const WorkerView& w : snap.workers)
    t.add({num(w.slot), num(w.info.index), std::to_string(w.info.pid) + (w.alive ? "" : "?"),
           num(w.info.generation), shm::workerStateName(w.info.state), num(w.info.restarts),
           humanDuration(since(w.info.startedAtMs, snap.instance.nowMs))});
  out += t.render("  ");
}

void textServices(const Snapshot& snap, const RenderOptions& options, std::string& out) {
  out += "services\n";
  if (snap.services.empty()) {
    out += snap.haveStats ? "  (none)\n" : "  (no stats region)\n";
    return;
  }
  for (const ServiceView& s : snap.services) {
    out += "  " + s.title + " (" + s.protocol + ")\n";
    if (s.counters.empty()) {
      out += "    (no counters)\n";
      continue;
    }
    std::vector<std::string> header{"counter", "total"};
    std::vector<bool> right{false, true};
    if (options.perWorker)
      for (const WorkerView& w : snap.workers) {
        header.push_back(workerLabel(w));
        right.push_back(true);
      }
    TextTable t(header, right);
    for (const CounterView& c : s.counters) {
      std::vector<std::string> row{c.name + (c.gauge ? " (gauge)" : ""), num(c.total)};
      if (options.perWorker)
        for (uint64_t v : c.perWorker) row.push_back(num(v));
      t.add(std::move(row));
    }
    out += t.render("    ");
  }
}

void textRegions(const Snapshot& snap, std::string& out) {
  out += "regions\n";
  if (snap.regions.empty()) {
    out += "  (none)\n";
    return;
  }
  TextTable t({"name", "state", "kind", "offset", "size", "occupancy", "layout"},
              {false, false, false, true, true, false, false});
  for (const RegionView& r : snap.regions)
    t.add({r.info.name, shm::regionStateName(r.info.state), r.kind, num(r.info.offset),
           humanBytes(r.info.bytes), occupancy(r), r.info.layout});
  out += t.render("  ");
}

// A board's rows: one column per label, then one per value.
void textBoard(const RegionView& r, const std::string& indent, std::string& out) {
  out += indent + r.family + " (" + r.info.name + ")\n";
  if (r.rows.empty()) {
    out += indent + "  (no rows)\n";
    return;
  }
  std::vector<std::string> header;
  std::vector<bool> right;
  for (const auto& [key, value] : r.rows[0].labels) {
    header.push_back(key);
    right.push_back(false);
  }
  size_t labels = header.size();
  for (const std::string& name : r.valueNames) {
    header.push_back(name);
    right.push_back(true);
  }
  TextTable t(header, right);
  for (const shm::InfoBoard::Row& row : r.rows) {
    std::vector<std::string> cells;
    for (size_t i = 0; i < labels; ++i)
      cells.push_back(i < row.labels.size() ? row.labels[i].second : "");
    for (uint64_t v : row.values) cells.push_back(num(v));
    t.add(std::move(cells));
  }
  out += t.render(indent + "  ");
}

void textRegion(const RegionView& r, std::string& out) {
  TextTable t({"region", r.info.name});
  t.add({"state", shm::regionStateName(r.info.state)});
  t.add({"kind", r.kind});
  t.add({"layout", r.info.layout});
  t.add({"offset", num(r.info.offset)});
  t.add({"size", humanBytes(r.info.bytes) + " (" + num(r.info.bytes) + " bytes)"});
  t.add({"created in generation", num(r.info.generation)});
  if (r.innerOffset) t.add({r.kind + " at", "+" + num(r.innerOffset)});
  if (r.kind == "stats") {
    t.add({"slots", num(r.slots)});
    t.add({"services", num(r.services)});
  } else if (r.kind == "table" || r.kind == "arena") {
    if (r.kind == "table") t.add({"entries", num(r.entries)});
    if (r.kind == "arena") t.add({"blocks", num(r.allocations)});
    t.add({"used", humanBytes(r.used) + " (" + num(r.used) + " bytes, " +
                       humanPercent(r.used, r.capacity) + ")"});
    t.add({"capacity", humanBytes(r.capacity) + " (" + num(r.capacity) + " bytes)"});
    if (r.kind == "table") {
      t.add({"evictions", num(r.evictions)});
      t.add({"lock recoveries", num(r.recoveries)});
    }
  }
  out += t.render("");
  if (r.kind == "board") textBoard(r, "", out);
}

// --- JSON ---------------------------------------------------------------------------------

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Builds {"k":v,...} with commas handled; values are already JSON text.
class JsonObject {
 public:
  JsonObject& add(std::string_view key, const std::string& json) {
    text_ += (text_.empty() ? "" : ",") + quote(key) + ":" + json;
    return *this;
  }
  JsonObject& str(std::string_view key, std::string_view value) { return add(key, quote(value)); }
  JsonObject& num(std::string_view key, uint64_t value) { return add(key, std::to_string(value)); }
  JsonObject& sint(std::string_view key, int64_t value) { return add(key, std::to_string(value)); }
  JsonObject& flag(std::string_view key, bool value) { return add(key, value ? "true" : "false"); }
  std::string done() const { return "{" + text_ + "}"; }

 private:
  std::string text_;
};

template <class T, class Fn>
std::string array(const std::vector<T>& items, Fn&& fn) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + fn(items[i]);
  return out + "]";
}

std::string jsonInstance(const InstanceView& in) {
  return JsonObject()
      .str("name", in.name)
      .str("path", in.path)
      .num("layoutVersion", in.layoutVersion)
      .num("segmentBytes", in.segmentBytes)
      .num("allocatedBytes", in.allocatedBytes)
      .sint("masterPid", in.masterPid)
      .flag("masterAlive", in.masterAlive)
      .num("generation", in.generation)
      .num("reloads", in.reloads)
      .num("failedReloads", in.failedReloads)
      .num("startedAtMs", in.startedAtMs)
      .num("uptimeMs", since(in.startedAtMs, in.nowMs))
      .done();
}

std::string jsonWorkers(const Snapshot& snap) {
  return array(snap.workers, [&](const WorkerView& w) {
    return JsonObject()
        .num("slot", w.slot)
        .num("index", w.info.index)
        .sint("pid", w.info.pid)
        .flag("alive", w.alive)
        .num("generation", w.info.generation)
        .str("state", shm::workerStateName(w.info.state))
        .num("restarts", w.info.restarts)
        .num("startedAtMs", w.info.startedAtMs)
        .num("uptimeMs", since(w.info.startedAtMs, snap.instance.nowMs))
        .done();
  });
}

std::string jsonServices(const Snapshot& snap, bool perWorker) {
  return array(snap.services, [&](const ServiceView& s) {
    JsonObject counters, kinds, help;
    for (const CounterView& c : s.counters) {
      counters.num(c.name, c.total);
      kinds.str(c.name, c.gauge ? "gauge" : "counter");
      help.str(c.name, c.help);
    }
    JsonObject o;
    o.str("title", s.title).str("protocol", s.protocol).add("counters", counters.done());
    o.add("kinds", kinds.done()).add("help", help.done());
    if (perWorker) {
      std::string workers = "[";
      for (size_t w = 0; w < snap.workers.size(); ++w) {
        JsonObject values;
        for (const CounterView& c : s.counters) values.num(c.name, c.perWorker[w]);
        workers += (w ? "," : "") + JsonObject()
                                        .num("slot", snap.workers[w].slot)
                                        .sint("pid", snap.workers[w].info.pid)
                                        .add("counters", values.done())
                                        .done();
      }
      o.add("perWorker", workers + "]");
    }
    return o.done();
  });
}

std::string jsonRegion(const RegionView& r) {
  JsonObject o;
  o.str("name", r.info.name)
      .str("state", shm::regionStateName(r.info.state))
      .str("kind", r.kind)
      .str("layout", r.info.layout)
      .num("offset", r.info.offset)
      .num("bytes", r.info.bytes)
      .num("generation", r.info.generation);
  if (r.kind == "stats") o.num("slots", r.slots).num("services", r.services);
  if (r.kind == "table")
    o.num("entries", r.entries)
        .num("used", r.used)
        .num("capacity", r.capacity)
        .num("evictions", r.evictions)
        .num("lockRecoveries", r.recoveries);
  if (r.kind == "arena")
    o.num("blocks", r.allocations).num("used", r.used).num("capacity", r.capacity);
  if (r.kind == "board")
    o.str("family", r.family)
        .add("rows", array(r.rows, [&](const shm::InfoBoard::Row& row) {
               JsonObject labels, values;
               for (const auto& [key, value] : row.labels) labels.str(key, value);
               for (size_t i = 0; i < row.values.size() && i < r.valueNames.size(); ++i)
                 values.num(r.valueNames[i], row.values[i]);
               return JsonObject().add("labels", labels.done()).add("values", values.done()).done();
             }));
  return o.done();
}

}  // namespace

const RegionView* findRegion(const Snapshot& snap, const std::string& name) {
  const RegionView* found = nullptr;
  for (const RegionView& r : snap.regions)
    if (r.info.name == name && (!found || r.info.state == shm::RegionState::Live)) found = &r;
  return found;
}

std::string renderText(const Snapshot& snap, const RenderOptions& options) {
  std::string out;
  switch (options.view) {
    case View::All:
      textInstance(snap, out);
      out += "\n";
      textWorkers(snap, out);
      out += "\n";
      textServices(snap, options, out);
      out += "\n";
      textRegions(snap, out);
      for (const RegionView& r : snap.regions)
        if (r.kind == "board" && r.info.state == shm::RegionState::Live) {
          out += "\n";
          textBoard(r, "", out);
        }
      break;
    case View::Stats:
      textServices(snap, options, out);
      break;
    case View::Workers:
      textWorkers(snap, out);
      break;
    case View::Regions:
      textRegions(snap, out);
      break;
    case View::Region:
      if (const RegionView* r = findRegion(snap, options.region)) textRegion(*r, out);
      break;
  }
  return out;
}

std::string renderJson(const Snapshot& snap, const RenderOptions& options) {
  JsonObject o;
  switch (options.view) {
    case View::All:
      o.add("instance", jsonInstance(snap.instance))
          .add("workers", jsonWorkers(snap))
          .add("services", jsonServices(snap, options.perWorker))
          .add("regions", array(snap.regions, jsonRegion));
      break;
    case View::Stats:
      o.add("services", jsonServices(snap, options.perWorker));
      break;
    case View::Workers:
      o.add("workers", jsonWorkers(snap));
      break;
    case View::Regions:
      o.add("regions", array(snap.regions, jsonRegion));
      break;
    case View::Region:
      if (const RegionView* r = findRegion(snap, options.region)) o.add("region", jsonRegion(*r));
      break;
  }
  return o.done();
}

}  // namespace manifold::shmtool
