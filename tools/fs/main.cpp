// bin/manifold-fs: operator commands for a distributed store ([fs:NAME]), reading the same INI
// as the router and talking to its nodes directly (repair.hpp: the same walk, plan and copies
// as the router's repairer):
//
//   manifold-fs -c FILE [-s NAME] check               copies-per-file histogram; exit 1 unless
//                                                      every file is whole and in place
//   manifold-fs -c FILE [-s NAME] drain ADDR:PORT     move the node's copies to the nodes that
//                                                      hold them once it is removed
//   manifold-fs -c FILE [-s NAME] rebalance STAGE     move a stage's files to their placement
//                                                      under the current config (after nodes
//                                                      were added to it), while it serves
//   options: --rate SIZE (bytes/s, default unlimited), --parallel N (default 4)
//
// On a terminal the long commands redraw one progress line (files, bytes, rate, time left);
// otherwise they print one summary line at the end.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "master/config.hpp"
#include "protocols/fs/repair.hpp"
#include "worker/runtime.hpp"

namespace {

using namespace manifold;

constexpr const char* kUsage =
    "usage: manifold-fs -c FILE [-s NAME] check | drain ADDR:PORT | rebalance STAGE\n"
    "                   [--rate SIZE] [--parallel N]\n"
    "  check            list every node; print how many copies each file has\n"
    "  drain ADDR:PORT  copy the node's files to their other nodes, then delete them there\n"
    "  rebalance STAGE  move the stage's files to where the current config places them\n"
    "  -s NAME          the [fs:NAME] section (default: the only one)\n"
    "  --rate SIZE      bytes per second (k/M/G; default unlimited)\n"
    "  --parallel N     copies and deletes at once (default 4)\n";

[[noreturn]] void usageError(const std::string& why) {
  std::fprintf(stderr, "manifold-fs: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

std::string human(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char out[32];
  std::snprintf(out, sizeof out, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return out;
}

std::string progressLine(const fs::RepairRun& run, double elapsed) {
  const fs::RepairProgress& g = run.progress();
  char out[256];
  if (g.listing) {
    std::snprintf(out, sizeof out, "listing: %llu folders, %llu entries",
                  static_cast<unsigned long long>(g.folders),
                  static_cast<unsigned long long>(g.entries));
    return out;
  }
  double rate = elapsed > 0 ? static_cast<double>(g.bytesMoved) / elapsed : 0;
  double left =
      g.bytesPlanned > g.bytesMoved ? static_cast<double>(g.bytesPlanned - g.bytesMoved) : 0;
  std::string eta = rate > 0 ? std::to_string(static_cast<long long>(left / rate)) + " s" : "?";
  std::snprintf(
      out, sizeof out,
      "%llu/%llu actions (%llu copies, %llu deletes, %llu failed), %s of %s, %s/s, %s left",
      static_cast<unsigned long long>(g.done + g.failed),
      static_cast<unsigned long long>(g.actions), static_cast<unsigned long long>(g.copies),
      static_cast<unsigned long long>(g.deletes), static_cast<unsigned long long>(g.failed),
      human(g.bytesMoved).c_str(), human(g.bytesPlanned).c_str(), human(rate).c_str(), eta.c_str());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string configPath, section, command, argument;
  double rate = 0;
  unsigned parallel = 4;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usageError(arg + " needs an argument");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "-c") {
      configPath = value();
    } else if (arg == "-s") {
      section = value();
    } else if (arg == "--rate") {
      std::string why, text = value();
      uint64_t bytes = 0;
      if (!config::parseSize(text, bytes, why)) usageError("bad --rate: " + why);
      rate = static_cast<double>(bytes);
    } else if (arg == "--parallel") {
      int n = std::atoi(value().c_str());
      if (n < 1 || n > 64) usageError("--parallel takes 1-64");
      parallel = static_cast<unsigned>(n);
    } else if (!arg.empty() && arg[0] == '-') {
      usageError("unknown option " + arg);
    } else if (command.empty()) {
      command = arg;
      if (command == "drain" || command == "rebalance")
        argument = value();
      else if (command != "check")
        usageError("unknown command " + command);
    } else {
      usageError("unexpected " + arg);
    }
  }
  if (configPath.empty() || command.empty()) usageError("-c FILE and a command are required");

  std::unique_ptr<config::Config> cfg;
  try {
    cfg = config::load(configPath);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "manifold-fs: %s\n", e.what());
    return 2;
  }
  const fs::FsConfig* store = nullptr;
  for (const auto& s : cfg->services) {
    auto* f = dynamic_cast<const fs::FsConfig*>(s.get());
    if (!f || (!section.empty() && f->name != section)) continue;
    if (store) usageError("several [fs:] sections: name one with -s");
    store = f;
  }
  if (!store)
    usageError("no [fs" + (section.empty() ? std::string() : ":" + section) + "] section in " +
               configPath);

  fs::RepairRun::Options options;
  options.rate = rate;
  options.parallel = parallel;
  options.act = command != "check";
  if (command == "drain") {
    for (size_t i = 0; i < store->backends.size(); ++i)
      if (store->backends[i].address.text == argument) options.scope.drain = static_cast<int>(i);
    if (options.scope.drain < 0) usageError("no node " + argument + " in [" + store->title() + "]");
  } else if (command == "rebalance") {
    options.scope.stage = static_cast<unsigned>(std::atoi(argument.c_str()));
    if (!store->stage(options.scope.stage)) usageError("no stage " + argument);
  }

  struct ev_loop* loop = ev_default_loop(0);
  WorkerRuntime runtime(loop, 0, 1, 4096);
  fs::NodeClient client(runtime, store->backends, std::max(30.0, store->readTimeout));
  fs::RepairRun run(client, loop, *store, options, [loop] { ev_break(loop, EVBREAK_ALL); });
  const bool tty = isatty(STDOUT_FILENO) && options.act;
  double started = ev_now(loop);
  Timer progress(loop, [&] {
    std::printf("\r\033[K%s", progressLine(run, ev_now(loop) - started).c_str());
    std::fflush(stdout);
  });
  if (tty) progress.repeat(0.5);
  progress.keepsLoopAlive(false);
  run.start();
  if (!run.finished()) ev_run(loop, 0);
  progress.stop();
  ev_now_update(loop);
  double elapsed = ev_now(loop) - started;
  const fs::RepairProgress& g = run.progress();
  const fs::RepairPlan& p = run.plan();
  if (tty) std::printf("\r\033[K");
  if (command == "check") {
    std::printf("%llu files (%s)", static_cast<unsigned long long>(p.files),
                human(p.bytes).c_str());
    std::printf("; copies of the newest version per file:");
    for (size_t i = 0; i < p.histogram.size(); ++i)
      if (p.histogram[i])
        std::printf(" %zu%s:%llu", i, i + 1 == p.histogram.size() ? "+" : "",
                    static_cast<unsigned long long>(p.histogram[i]));
    std::printf(
        "\nunder-replicated %llu, stale %llu, misplaced %llu, deleted but present %llu, "
        "unlisted nodes %llu (replicas %u)\n",
        static_cast<unsigned long long>(p.underReplicated),
        static_cast<unsigned long long>(p.stale), static_cast<unsigned long long>(p.misplaced),
        static_cast<unsigned long long>(p.deleted), static_cast<unsigned long long>(g.unlisted),
        store->replicas);
    return p.underReplicated || p.stale || p.misplaced || p.deleted || g.unlisted ? 1 : 0;
  }
  std::printf(
      "%s %s: %llu files seen, %llu copies, %llu deletes, %llu failed, %llu skipped, %s in %.2f s "
      "(%s/s), unlisted nodes %llu\n",
      command.c_str(), argument.c_str(), static_cast<unsigned long long>(p.files),
      static_cast<unsigned long long>(g.copies), static_cast<unsigned long long>(g.deletes),
      static_cast<unsigned long long>(g.failed), static_cast<unsigned long long>(g.skipped),
      human(g.bytesMoved).c_str(), elapsed, human(elapsed > 0 ? g.bytesMoved / elapsed : 0).c_str(),
      static_cast<unsigned long long>(g.unlisted));
  return g.failed || g.unlisted ? 1 : 0;
}
