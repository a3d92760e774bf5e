// `sites = DIR` of an [http:NAME] section: every HOST.site in DIR is the site pack
// (pack_format.hpp) of the virtual host HOST, _default.site answers the other hosts. Each worker
// watches DIR with inotify and keeps its own map host -> pack:
//   - a pack written or renamed into DIR goes live (replacing the host's old pack atomically:
//     responses in flight keep the old file open until they are sent);
//   - a pack removed or renamed away takes its host down;
//   - a pack that fails validation (truncated, corrupt, foreign) is refused with a log line
//     naming it, and the host's previous pack, if any, keeps serving.
// Names starting with '.' are ignored (manifold-pack writes ".OUT.tmpPID" and renames it).
// Packs found when the worker starts are opened before it serves; later ones are opened and
// validated on a BlockingPool thread (reading a large pack would stall the loop), one at a time
// in event order, and installed from the loop.
// One worker (runsInstanceTasks) logs, counts and publishes the packs in use on the section's
// info board (shm/info_board.hpp, region "http:NAME/packs": per host the path, build time,
// file count, swaps and refusals), so each event is logged and counted once.
#pragma once

#include <ev.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocols/static/pack.hpp"
#include "shm/counters.hpp"
#include "shm/info_board.hpp"
#include "worker/blocking_pool.hpp"
#include "worker/io_watcher.hpp"

namespace manifold::http {

// Counters of a `sites` section, after the HTTP engine's (config.cpp appends them).
#define MANIFOLD_PACK_COUNTERS(X)                                                     \
  X(kPacksLive, "packs_live", Gauge, "site packs being served (sites = DIR)")         \
  X(kPackLoads, "pack_loads", Counter, "site packs opened for a new host")            \
  X(kPackSwaps, "pack_swaps", Counter, "site packs replaced by a new version")        \
  X(kPackRemovals, "pack_removals", Counter, "site packs removed from the directory") \
  X(kPacksRefused, "packs_refused", Counter,                                          \
    "site packs refused when opened (truncated, corrupt or foreign)")
enum PackCounter : unsigned { MANIFOLD_PACK_COUNTERS(MANIFOLD_COUNTER_ENUM) kPackCounterCount };
inline constexpr shm::CounterDef kPackCounterDefs[] = {
    MANIFOLD_PACK_COUNTERS(MANIFOLD_COUNTER_DEF)};

// Rows of the board: hosts beyond this many are served and counted but not listed.
inline constexpr unsigned kPackBoardRows = 256;

class PackSites {
 public:
  // `counters`: the pack block of this worker's slot; `reporter`: this worker logs, counts and
  // writes `board` (may be null).
  PackSites(struct ev_loop* loop, std::string dir, std::string title, uint64_t memoryMax,
            shm::CounterSlot counters, bool reporter, shm::InfoBoard* board);
  // The values of a board row, in this order (config.cpp formats the board with them).
  static std::vector<shm::InfoBoard::Value> boardValues();
  ~PackSites();
  PackSites(const PackSites&) = delete;
  PackSites& operator=(const PackSites&) = delete;

  // Loads every pack in the directory and starts watching it. Throws when DIR cannot be watched.
  void start();
  // Graceful stop: no more reloads, and the next generation's worker owns the board.
  void stop();
  // The pack for a Host header value (any case, port and trailing dot ignored), else the
  // _default pack, else nullptr. No allocation once warm.
  const pack::Pack* find(std::string_view host);
  size_t size() const { return packs_.size(); }

 private:
  void onEvents();
  // An event for `name`: opened off the loop, then installed (or removed) in event order.
  void queue(const std::string& name, bool removed);
  void load(const std::string& name);  // on the loop (the start-up scan)
  void install(const std::string& host, const std::string& path, std::shared_ptr<pack::Pack> pack,
               const std::string& why);
  void remove(const std::string& name);
  static bool hostOf(std::string_view name, std::string& host);
  // Board row of a host (reporter only): the pack in use and what happened to the host.
  struct HostState {
    unsigned row = 0;
    uint64_t swaps = 0, refused = 0;
  };
  void publish(const std::string& host);

  std::string dir_;
  std::string title_;
  uint64_t memoryMax_;
  shm::CounterSlot counters_;
  bool reporter_;
  int inotifyFd_ = -1;
  IoWatcher watcher_;
  BlockingPool opener_;
  std::unordered_map<std::string, std::shared_ptr<pack::Pack>> packs_;  // lowercase host
  std::string host_;                                                    // scratch
  shm::InfoBoard* board_;
  std::unordered_map<std::string, HostState> hosts_;  // live hosts on the board
};

}  // namespace manifold::http
