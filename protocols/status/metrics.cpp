#include "protocols/status/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "shm/info_board.hpp"

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

namespace {

// The live info boards of the segment, with the service each belongs to.
struct BoardView {
  std::string region, service;
  const shm::InfoBoard* board;
};
std::vector<BoardView> boardsOf(const shm::Segment& segment) {
  std::vector<BoardView> out;
  for (const shm::RegionInfo& info : segment.regions()) {
    if (info.state != shm::RegionState::Live || info.offset > segment.size() ||
        info.bytes > segment.size() - info.offset)
      continue;
    const void* base = static_cast<const char*>(segment.base()) + info.offset;
    if (!shm::startsWithMagic(base, shm::InfoBoard::kMagic)) continue;
    if (const shm::InfoBoard* board = shm::InfoBoard::at(base, info.bytes))
      out.push_back({info.name, info.name.substr(0, info.name.rfind('/')), board});
  }
  return out;
}

void appendBoardsPrometheus(const shm::Segment& segment, std::string& out) {
  std::vector<BoardView> boards = boardsOf(segment);
  std::vector<std::vector<shm::InfoBoard::Row>> rows;
  for (const BoardView& b : boards) rows.push_back(b.board->read());
  // One family per (board family, value), each written once over all boards.
  std::vector<std::string> done;
  for (size_t i = 0; i < boards.size(); ++i) {
    for (unsigned v = 0; v < boards[i].board->valueCount(); ++v) {
      bool gauge = boards[i].board->valueGauge(v);
      std::string metric = "manifold_" + std::string(boards[i].board->family()) + "_" +
                           std::string(boards[i].board->valueName(v)) + (gauge ? "" : "_total");
      if (std::find(done.begin(), done.end(), metric) != done.end()) continue;
      done.push_back(metric);
      out += "# TYPE " + metric + (gauge ? " gauge\n" : " counter\n");
      for (size_t j = i; j < boards.size(); ++j) {
        if (boards[j].board->family() != boards[i].board->family()) continue;
        for (const shm::InfoBoard::Row& row : rows[j]) {
          out += metric + "{service=\"";
          appendEscaped(out, boards[j].service, true);
          out += "\"";
          for (const auto& [key, value] : row.labels) {
            out += "," + key + "=\"";
            appendEscaped(out, value, true);
            out += "\"";
          }
          out += "} " + std::to_string(v < row.values.size() ? row.values[v] : 0) + "\n";
        }
      }
    }
  }
}

void appendBoardsJson(const shm::Segment& segment, std::string& out) {
  out += ",\"boards\":[";
  bool firstBoard = true;
  for (const BoardView& b : boardsOf(segment)) {
    out += firstBoard ? "{\"region\":" : ",{\"region\":";
    firstBoard = false;
    appendJsonString(out, b.region);
    out += ",\"family\":";
    appendJsonString(out, b.board->family());
    out += ",\"rows\":[";
    bool firstRow = true;
    for (const shm::InfoBoard::Row& row : b.board->read()) {
      out += firstRow ? "{\"labels\":{" : ",{\"labels\":{";
      firstRow = false;
      for (size_t k = 0; k < row.labels.size(); ++k) {
        out += k ? "," : "";
        appendJsonString(out, row.labels[k].first);
        out += ":";
        appendJsonString(out, row.labels[k].second);
      }
      out += "},\"values\":{";
      for (unsigned v = 0; v < b.board->valueCount() && v < row.values.size(); ++v) {
        out += v ? "," : "";
        appendJsonString(out, b.board->valueName(v));
        out += ":" + std::to_string(row.values[v]);
      }
      out += "}}";
    }
    out += "]}";
  }
  out += "]";
}

}  // namespace

void appendPrometheus(const shm::StatsRegion& stats, const shm::SegmentHeader& header,
                      std::string& out, const shm::Segment* segment) {
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
  if (segment) appendBoardsPrometheus(*segment, out);
}

void appendJson(const shm::StatsRegion& stats, const shm::SegmentHeader& header, std::string& out,
                const shm::Segment* segment) {
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
  out += "]";
  if (segment) appendBoardsJson(*segment, out);
  out += "}\n";
}

}  // namespace manifold::status
