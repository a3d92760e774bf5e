// bin/manifold-shm: read the live shared memory of a running Manifold instance.
//
//   manifold-shm [-c FILE | -n SHM_NAME] [stats|workers|regions|REGION] [--json]
//                [--watch [SECONDS]] [--per-worker]
//
// Attaches read-only (it can never disturb the instance) and takes no locks: counters and
// header fields are read with atomic loads, the region directory through its seqlock.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "master/config.hpp"
#include "shm/segment.hpp"
#include "shm/snapshot.hpp"
#include "tools/shm/cache.hpp"
#include "tools/shm/render.hpp"
#include "tools/shm/swarm.hpp"

namespace {

using manifold::shmtool::RenderOptions;
using manifold::shmtool::View;

constexpr const char* kUsage =
    "usage: manifold-shm [-c FILE | -n SHM_NAME] [stats|workers|regions|REGION|swarm HASH|cache]\n"
    "                    [--json] [--watch [SECONDS]] [--per-worker]\n"
    "\n"
    "Shows the shared memory of a running instance: master and reload counts, the\n"
    "workers, per-service counters summed over workers, and every region's occupancy.\n"
    "  -c FILE          take shm_name from the [master] section of FILE\n"
    "  -n SHM_NAME      attach to /dev/shm/manifold.SHM_NAME (default: manifold)\n"
    "  stats            counters only (--per-worker adds one column per worker)\n"
    "  workers          the worker table\n"
    "  regions          the region directory\n"
    "  REGION           details of one region\n"
    "  swarm HASH       one torrent (40 hex digits) in every tracker: counts and peers\n"
    "  cache            every proxy cache: objects, bytes, the biggest and hottest objects\n"
    "  --json           one JSON object (one per line with --watch)\n"
    "  --watch [SECS]   redraw every SECS seconds (default 1) until interrupted\n";

struct Args {
  std::string configPath;
  std::string shmName;
  RenderOptions render;
  std::string swarmHash;  // the swarm view
  bool cache = false;     // the cache view
  bool json = false;
  bool watch = false;
  double interval = 1.0;
};

volatile sig_atomic_t stopRequested = 0;
void onStop(int) { stopRequested = 1; }

[[noreturn]] void usageError(const std::string& why) {
  std::fprintf(stderr, "manifold-shm: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

bool parseSeconds(const char* text, double& out) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || v <= 0 || v > 86400) return false;
  out = v;
  return true;
}

Args parseArgs(int argc, char** argv) {
  Args a;
  bool haveView = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "-c" || arg == "-n") {
      if (i + 1 >= argc) usageError(arg + " needs an argument");
      (arg == "-c" ? a.configPath : a.shmName) = argv[++i];
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--per-worker") {
      a.render.perWorker = true;
    } else if (arg == "--watch") {
      a.watch = true;
      if (i + 1 < argc && parseSeconds(argv[i + 1], a.interval)) ++i;
    } else if (arg.rfind("--watch=", 0) == 0) {
      a.watch = true;
      if (!parseSeconds(arg.c_str() + 8, a.interval))
        usageError("bad --watch interval: " + arg.substr(8));
    } else if (!arg.empty() && arg[0] == '-') {
      usageError("unknown option " + arg);
    } else if (haveView) {
      usageError("more than one view: " + arg);
    } else {
      haveView = true;
      if (arg == "cache") {
        a.cache = true;
      } else if (arg == "swarm") {
        if (i + 1 >= argc) usageError("swarm needs an info hash");
        a.swarmHash = argv[++i];
      } else if (arg == "stats")
        a.render.view = View::Stats;
      else if (arg == "workers")
        a.render.view = View::Workers;
      else if (arg == "regions")
        a.render.view = View::Regions;
      else {
        a.render.view = View::Region;
        a.render.region = arg;
      }
    }
  }
  if (!a.configPath.empty() && !a.shmName.empty()) usageError("-c and -n exclude each other");
  return a;
}

// shm_name from [master], or the daemon's default.
std::string shmNameFromConfig(const std::string& path) {
  const manifold::config::IniFile ini = manifold::config::readIni(path);
  for (const auto& section : ini.sections)
    if (section.title == "master")
      for (const auto& entry : section.entries)
        if (entry.key == "shm_name") return entry.value;
  return "manifold";
}

std::string formatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

// Renders one snapshot; false (with the message on stderr) if the segment is unusable.
bool showOnce(const std::string& name, const Args& args, bool clear) {
  std::string out;
  try {
    // Attached afresh each time: a restarted instance replaces its segment.
    const auto segment = manifold::shm::Segment::attach(name, true);
    if (args.cache) {
      out = manifold::shmtool::renderCache(*segment, args.json);
    } else if (!args.swarmHash.empty()) {
      out = manifold::shmtool::renderSwarm(*segment, args.swarmHash, args.json);
    } else {
      const auto snap = manifold::shmtool::takeSnapshot(*segment);
      if (args.render.view == View::Region &&
          !manifold::shmtool::findRegion(snap, args.render.region)) {
        std::string names;
        for (const auto& r : snap.regions) names += (names.empty() ? "" : ", ") + r.info.name;
        throw std::runtime_error("no region '" + args.render.region + "' in shm " + name +
                                 " (regions: " + (names.empty() ? "none" : names) + ")");
      }
      out = args.json ? manifold::shmtool::renderJson(snap, args.render) + "\n"
                      : manifold::shmtool::renderText(snap, args.render);
    }
  } catch (const std::exception& e) {
    if (clear) std::fputs("\x1b[H\x1b[2J", stdout);
    std::fflush(stdout);
    std::fprintf(stderr, "manifold-shm: %s\n", e.what());
    return false;
  }
  if (args.watch && !args.json) {
    char stamp[64];
    const time_t now = time(nullptr);
    tm local{};
    strftime(stamp, sizeof stamp, "%H:%M:%S", localtime_r(&now, &local));
    out = "every " + formatSeconds(args.interval) + "  " + stamp + "  (Ctrl-C to stop)\n\n" + out;
  }
  if (clear) out = "\x1b[H\x1b[2J" + out;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return true;
}

void sleepInterruptibly(double seconds) {
  timespec ts{static_cast<time_t>(seconds),
              static_cast<long>((seconds - std::floor(seconds)) * 1e9)};
  while (!stopRequested && nanosleep(&ts, &ts) != 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parseArgs(argc, argv);
  std::string name = args.shmName.empty() ? "manifold" : args.shmName;
  if (!args.configPath.empty()) {
    try {
      name = shmNameFromConfig(args.configPath);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "manifold-shm: %s\n", e.what());
      return 1;
    }
  }
  if (!args.watch) return showOnce(name, args, false) ? 0 : 1;

  struct sigaction sa {};
  sa.sa_handler = onStop;  // no SA_RESTART: nanosleep returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const bool clear = !args.json && isatty(STDOUT_FILENO);
  while (!stopRequested) {
    showOnce(name, args, clear);  // a missing segment is reported and retried
    sleepInterruptibly(args.interval);
  }
  return 0;
}
