#include "shm/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace manifold::shm {

namespace {

std::string bracketed(const std::string& line) {
  const size_t open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return line;
  return line.substr(open + 1, close - open - 1);
}

std::string mountHugeOption(const std::string& dir) {
  std::ifstream mounts("/proc/self/mounts");
  std::string line, found;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, where, type, options;
    fields >> device >> where >> type >> options;
    if (where != dir || type != "tmpfs") continue;
    found = "never";  // the last mount at dir wins
    std::istringstream opts(options);
    for (std::string opt; std::getline(opts, opt, ',');)
      if (opt.rfind("huge=", 0) == 0) found = opt.substr(5);
  }
  return found;
}

}  // namespace

bool shmemHugePagesAllowed(const std::string& shmemEnabled, const std::string& mountHuge) {
  if (shmemEnabled == "deny") return false;
  if (shmemEnabled == "force") return true;
  return mountHuge == "advise" || mountHuge == "always" || mountHuge == "within_size";
}

HugePageSupport shmemHugePageSupport(const std::string& dir) {
  std::ifstream sysfs("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
  std::string line;
  std::getline(sysfs, line);
  const std::string enabled = sysfs ? bracketed(line) : "";
  const std::string mount = mountHugeOption(dir);
  HugePageSupport s;
  s.allowed = !enabled.empty() && shmemHugePagesAllowed(enabled, mount);
  s.why = "shmem_enabled=" + (enabled.empty() ? std::string("unavailable") : enabled) + ", " + dir +
          " huge=" + (mount.empty() ? std::string("(not tmpfs)") : mount);
  return s;
}

size_t adviseHugePages(void* p, size_t bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t from = (begin + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t to = (begin + bytes) & ~(kHugePageBytes - 1);
  if (to <= from) return 0;
  if (madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE) != 0) return 0;
  return to - from;
}

size_t hugeMappedBytes(const void* p) {
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (!f) return 0;
  const auto at = reinterpret_cast<uintptr_t>(p);
  char line[512];
  bool inside = false;
  size_t kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char dash;
    if (std::sscanf(line, "%lx%c%lx ", &lo, &dash, &hi) == 3 && dash == '-') {
      if (inside) break;  // past the mapping's entry
      inside = at >= lo && at < hi;
      continue;
    }
    size_t v;
    if (inside && (std::sscanf(line, "ShmemPmdMapped: %zu kB", &v) == 1 ||
                   std::sscanf(line, "FilePmdMapped: %zu kB", &v) == 1 ||
                   std::sscanf(line, "AnonHugePages: %zu kB", &v) == 1))
      kb += v;
  }
  std::fclose(f);
  return kb * 1024;
}

}  // namespace manifold::shm
