// libFuzzer target: parseProcStat (the dashboard's reading of /proc/PID/stat). Any input is
// parsed or refused without reading outside it; a line rebuilt from what was parsed parses back
// to the same figures.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/status/board.hpp"

using manifold::status::parseProcStat;
using manifold::status::ProcStat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ProcStat stat;
  if (!parseProcStat(std::string_view(reinterpret_cast<const char*>(data), size), stat)) return 0;
  // Fields 3..24 after "(comm)": utime (14) and stime (15) carry the sum, rss (24) the pages.
  std::string line = "1 (x) S";
  for (int field = 4; field <= 24; ++field)
    line += " " + std::to_string(field == 14 ? stat.cpuTicks : field == 24 ? stat.rssPages : 0);
  ProcStat again;
  if (!parseProcStat(line, again) || again.cpuTicks != stat.cpuTicks ||
      again.rssPages != stat.rssPages)
    __builtin_trap();
  return 0;
}
