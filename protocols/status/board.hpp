// The dashboard's model: a few plain tables (instance, workers, services, counters, health,
// regions) read from the shared memory at one instant. One model feeds the three renderings in
// page.hpp (server-rendered HTML, the JSON the page polls, CSV), so a figure is formatted once,
// here, and the page's script only computes rates from the raw totals between two polls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/segment.hpp"
#include "shm/snapshot.hpp"

namespace manifold::status {

// What the page's script does with a column. Rate columns carry a monotonic total per row
// (Row::totals); the script divides the change between two polls by the change of Board::nowMs.
enum class Rate : uint8_t {
  None,
  PerSecond,       // "1.2k/s"
  BytesPerSecond,  // "3.4 MiB/s"
  Percent,         // a total in milliseconds per millisecond of wall time: CPU use
  Chart,           // a small canvas drawing the history of the row's first rate column
};

struct Column {
  const char* id;
  const char* title;
  bool numeric = false;  // right-aligned, tabular digits
  Rate rate = Rate::None;
  bool watch = false;  // the script flashes the cell when its text changes (state, pid...)
};

struct Row {
  std::string key;                 // stable across polls: the script matches rows by it
  std::string cls;                 // "" | "warn" | "bad" | "recent" (a state change just now)
  std::string group;               // grouped tables: the service the row belongs to
  std::vector<std::string> cells;  // display text per column ("" for rate and chart columns)
  std::vector<uint64_t> totals;    // per column; meaningful for rate columns only
};

struct Table {
  std::string id;  // "workers": the element id t-workers, /workers.csv
  std::string title;
  std::vector<Column> columns;
  std::vector<Row> rows;
  bool grouped = false;  // rendered as one collapsible block per Row::group
};

struct Board {
  std::string instance;  // shm_name, for the page title
  uint64_t nowMs = 0;    // wall clock of the reading
  std::vector<Table> tables;
  const Table* find(std::string_view id) const;
};

// Figures of one process that the kernel gives cheaply (/proc/PID/stat).
struct ProcStat {
  uint64_t cpuTicks = 0;  // utime + stime, in clock ticks
  uint64_t rssPages = 0;
};
// Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses: fields
// are counted after the last ')'). False when the text is not such a line.
bool parseProcStat(std::string_view text, ProcStat& out);

// One health-checked member (a DNS health target, a proxy backend), read from its service's
// region; see health.cpp for the regions it knows.
struct HealthMember {
  std::string service;
  std::string member;
  bool up = true;
  uint64_t lastCheckMs = 0;   // wall clock; 0 = not known
  uint64_t lastChangeMs = 0;  // wall clock; 0 = not known
  uint64_t checks = 0;
  uint64_t failures = 0;
  int64_t inFlight = -1;   // -1 = not counted by this protocol
  uint32_t latencyUs = 0;  // the last good check's round trip; 0 = none yet
};
std::vector<HealthMember> readHealth(shm::Segment& segment, const shmtool::Snapshot& snap);

// Reads everything at once. The segment is the instance's own (workers map it read-write;
// nothing here writes).
Board takeBoard(shm::Segment& segment);

}  // namespace manifold::status
