// /proc/PID/stat (proc(5)): "pid (comm) state ppid ...". comm may contain spaces and ')', so
// fields are counted from the last ')': state is field 3, utime 14, stime 15, rss 24.
#include <charconv>

#include "protocols/status/board.hpp"

namespace manifold::status {

bool parseProcStat(std::string_view text, ProcStat& out) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = text.substr(close + 1);
  uint64_t utime = 0, stime = 0, rss = 0;
  unsigned field = 2;  // the ')' ends field 2
  while (field < 24) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) return false;
    size_t end = rest.find_first_of(" \n");
    if (end == std::string_view::npos) end = rest.size();
    std::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    ++field;
    uint64_t* target = field == 14 ? &utime : field == 15 ? &stime : field == 24 ? &rss : nullptr;
    if (!target) continue;
    // rss is signed in the kernel's format; a negative one (never seen) reads as 0.
    if (word.starts_with('-')) continue;
    auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), *target);
    if (ec != std::errc() || ptr != word.data() + word.size()) return false;
  }
  out.cpuTicks = utime + stime;
  out.rssPages = rss;
  return true;
}

}  // namespace manifold::status
