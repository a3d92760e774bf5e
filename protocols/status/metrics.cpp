#include "protocols/status/metrics.hpp"

#include <cstdio>

namespace manifold::status {

namespace {

// Label values escape \ " and newline; HELP text escapes \ and newline only.
void appendEscaped(std::string& out, std::string_view value, bool quotes) {
  for (char ch : value) {
    if (ch == '\n') {
      out.append("\\n");
      continue;
    }
    if (ch == '\\' || (quotes && ch == '"')) out.push_back('\\');
    out.push_back(ch);
  }
}

}  // namespace

void appendJsonString(std::string& out, std::string_view value) {
  out.push_back('"');
  for (unsigned char ch : value) {
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(ch));
    } else if (ch < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", ch);
      out.append(buf);
    } else {
      out.push_back(static_cast<char>(ch));
    }
  }
  out.push_back('"');
}

void appendPrometheus(const shm::StatsRegion& stats, const shm::SegmentHeader& header,
                      std::string& out) {
  for (unsigned s = 0; s < stats.serviceCount(); ++s) {
    std::string_view protocol = stats.serviceProtocol(s);
    std::string_view title = stats.serviceTitle(s);
    for (unsigned c = 0; c < stats.counterCount(s); ++c) {
      std::string metric =
          "manifold_" + std::string(protocol) + "_" + std::string(stats.counterName(s, c));
      bool gauge = stats.counterKind(s, c) == shm::kGauge;
      if (!gauge && !metric.ends_with("_total")) metric += "_total";
      if (std::string_view help = stats.counterHelp(s, c); !help.empty()) {
        out += "# HELP " + metric + " ";
        appendEscaped(out, help, false);
        out += "\n";
      }
      out += "# TYPE " + metric + (gauge ? " gauge\n" : " counter\n");
      out += metric + "{service=\"";
      appendEscaped(out, title, true);
      out += "\"} " + std::to_string(stats.sum(s, c)) + "\n";
    }
  }
  unsigned workers = 0;
  for (unsigned slot = 0; slot < stats.slotCount(); ++slot)
    if (stats.readWorker(slot).state == shm::kWorkerReady) ++workers;
  out += "# HELP manifold_workers_ready worker processes serving\n";
  out += "# TYPE manifold_workers_ready gauge\nmanifold_workers_ready " + std::to_string(workers) +
         "\n";
  out += "# HELP manifold_generation worker generation (bumped by each successful reload)\n";
  out += "# TYPE manifold_generation gauge\nmanifold_generation " +
         std::to_string(header.generation) + "\n";
  out += "# HELP manifold_reloads_total successful reloads\n";
  out += "# TYPE manifold_reloads_total counter\nmanifold_reloads_total " +
         std::to_string(header.reloads) + "\n";
  out += "# HELP manifold_reloads_failed_total reloads refused (bad config)\n";
  out += "# TYPE manifold_reloads_failed_total counter\nmanifold_reloads_failed_total " +
         std::to_string(header.failedReloads) + "\n";
}

void appendJson(const shm::StatsRegion& stats, const shm::SegmentHeader& header, std::string& out) {
  out += "{\"generation\":" + std::to_string(header.generation) +
         ",\"reloads\":" + std::to_string(header.reloads) +
         ",\"failed_reloads\":" + std::to_string(header.failedReloads) + ",\"workers\":[";
  bool first = true;
  for (unsigned slot = 0; slot < stats.slotCount(); ++slot) {
    const shm::WorkerInfo w = stats.readWorker(slot);
    if (w.state == shm::kWorkerFree) continue;
    out += first ? "" : ",";
    first = false;
    out += "{\"slot\":" + std::to_string(slot) + ",\"index\":" + std::to_string(w.index) +
           ",\"pid\":" + std::to_string(w.pid) + ",\"generation\":" + std::to_string(w.generation) +
           ",\"state\":" + std::to_string(w.state) + ",\"restarts\":" + std::to_string(w.restarts) +
           "}";
  }
  out += "],\"services\":[";
  for (unsigned s = 0; s < stats.serviceCount(); ++s) {
    out += s ? ",{\"title\":" : "{\"title\":";
    appendJsonString(out, stats.serviceTitle(s));
    out += ",\"protocol\":";
    appendJsonString(out, stats.serviceProtocol(s));
    out += ",\"counters\":{";
    for (unsigned c = 0; c < stats.counterCount(s); ++c) {
      out += c ? "," : "";
      appendJsonString(out, stats.counterName(s, c));
      out += ":" + std::to_string(stats.sum(s, c));
    }
    out += "}}";
  }
  out += "]}\n";
}

}  // namespace manifold::status
