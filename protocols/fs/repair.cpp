#include "protocols/fs/repair.hpp"

#include <algorithm>

#include "protocols/fs/multistatus.hpp"
#include "protocols/fs/relay.hpp"
#include "protocols/fs/service.hpp"
#include "protocols/http/date.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::fs {

RepairRun::RepairRun(NodeClient& client, struct ev_loop* loop, const FsConfig& config,
                     Options options, std::function<void()> finished)
    : client_(client),
      config_(config),
      options_(options),
      onFinished_(std::move(finished)),
      pause_(loop, [this] { actNext(); }) {}

std::string RepairRun::requestHead(std::string_view method, std::string_view target,
                                   int node) const {
  return nodeRequest(config_.backends, method, target, node);
}

void RepairRun::start() {
  progress_.started = pause_.now();
  size_t n = config_.backends.size();
  walks_.assign(n, Walk{});
  inventory_.listed.assign(n, false);
  for (const Stage& s : config_.stages) {
    if (options_.scope.stage != 0 && s.number != options_.scope.stage) continue;
    std::string folder = "/_s" + std::to_string(s.number) + "/";
    for (int node : s.nodes)
      for (std::string_view root : {std::string_view(), kTombstones, kHints})
        walks_[node].folders.push_back(std::string(root) + folder);
  }
  for (size_t node = 0; node < n; ++node) {
    if (walks_[node].folders.empty()) continue;
    if (config_.backends[node].down && static_cast<int>(node) != options_.scope.drain) {
      ++progress_.unlisted;  // marked down: left alone (nothing copied to it or because of it)
      continue;
    }
    inventory_.listed[node] = true;  // until a listing fails
    ++walking_;
    listNext(static_cast<int>(node));
  }
  if (walking_ == 0) end();
}

void RepairRun::listNext(int node) {
  Walk& w = walks_[node];
  if (w.folders.empty() || w.failed) {
    if (!w.failed && options_.warned && (*options_.warned)[node]) {
      (*options_.warned)[node] = false;
      LOG_INFO("[%s] repair: %s lists again", config_.title().c_str(),
               config_.backends[node].address.text.c_str());
    }
    if (w.failed) {
      inventory_.listed[node] = false;
      ++progress_.unlisted;
    }
    if (--walking_ == 0) {
      progress_.listing = false;
      planRepair(inventory_, config_.stages, config_.backends, config_.replicas, options_.scope,
                 plan_);
      inventory_ = Inventory{};  // the plan has what it needs
      if (!options_.act) return end();
      progress_.actions = plan_.actions.size();
      progress_.bytesPlanned = plan_.copyBytes;
      progress_.started = pause_.now();  // the rate counts from here
      return actNext();
    }
    return;
  }
  std::string folder = std::move(w.folders.back());
  w.folders.pop_back();
  std::string request = requestHead("PROPFIND", folder, node);
  request.append("Depth: 1\r\nContent-Length: 0\r\n\r\n");
  client_.call(node, std::move(request), false, kMaxListing,
               [this, node, folder](NodeReply& reply) { listed(node, folder, reply); });
}

void RepairRun::listed(int node, const std::string& folder, NodeReply& reply) {
  Walk& w = walks_[node];
  ++progress_.folders;
  std::vector<ListingEntry> entries;
  if (reply.status == 207 && parseListing(reply.body, entries)) {
    for (const ListingEntry& e : entries) {
      if (e.path.size() <= folder.size() || !e.path.starts_with(folder)) continue;  // itself
      ++progress_.entries;
      if (e.collection) {
        w.folders.emplace_back(e.path);
      } else if (e.size >= 0 && e.mtime != 0) {
        inventory_.add(node, e.path, e.size, e.mtime);
      }
    }
  } else if (reply.status != 404) {  // a folder not made yet on this node is fine
    std::vector<bool>* warned = options_.warned;
    if (!w.failed && (!warned || !(*warned)[node]))
      LOG_WARN("[%s] repair: %s answered %d to PROPFIND %s (not repaired until it lists)",
               config_.title().c_str(), config_.backends[node].address.text.c_str(), reply.status,
               folder.c_str());
    if (warned) (*warned)[node] = true;
    w.failed = true;
  }
  listNext(node);
}

void RepairRun::actNext() {
  while (next_ < plan_.actions.size() && inFlight_ < std::max(1u, options_.parallel)) {
    const RepairAction& a = plan_.actions[next_];
    // Deletes wait for every copy: a misplaced copy goes only once its file is home.
    if (a.kind == RepairAction::Delete && next_ > 0 &&
        plan_.actions[next_ - 1].kind == RepairAction::Copy && inFlight_ > 0)
      return;
    if (options_.rate > 0) {
      double allowed = options_.rate * (pause_.now() - progress_.started);
      if (static_cast<double>(progress_.bytesMoved) > allowed) {
        pause_.once((static_cast<double>(progress_.bytesMoved) - allowed) / options_.rate);
        return;
      }
    }
    ++next_;
    ++inFlight_;
    if (a.kind == RepairAction::Copy) {
      copy(a);
    } else if (a.afterCopies && failedPaths_.count(a.path)) {
      actionDone(a, true, true);
    } else {
      remove(a);
    }
  }
  if (next_ == plan_.actions.size() && inFlight_ == 0 && !finished_) end();
}

// The copy is relayed (relay.hpp): the PUT starts once the GET's head shows the listed version,
// with Date set to that mtime, so the copy keeps it.
void RepairRun::copy(const RepairAction& a) {
  auto start = [this, &a](const NodeReply& head, std::vector<std::pair<int, std::string>>& puts) {
    if (head.status != 200 || head.lastModified != a.mtime || head.contentLength != a.size)
      return false;  // gone or changed since the listing: the next pass sees the new state
    char date[http::kHttpDateLength];
    http::formatHttpDate(a.mtime, date);
    std::string put = requestHead("PUT", a.path, a.node);
    put.append("Date: ").append(date, sizeof date).append("\r\nContent-Length: ");
    put.append(std::to_string(a.size)).append("\r\n\r\n");
    puts.emplace_back(a.node, std::move(put));
    return true;
  };
  relayCopy(client_, a.from, requestHead("GET", a.path, a.from) + "\r\n", kCopyWindow, start,
            [this, &a](RelayOutcome& o) {
              bool ok = o.whole && o.stored[0] >= 200 && o.stored[0] < 300;
              if (ok) {
                ++progress_.copies;
                progress_.bytesMoved += static_cast<uint64_t>(a.size);
              }
              bool skip = o.head.status == 200 || o.head.status == 404;
              actionDone(a, ok, !o.started && skip);
            });
}

void RepairRun::remove(const RepairAction& a) {
  auto doDelete = [this, &a] {
    client_.call(a.node, requestHead("DELETE", a.target, a.node) + "\r\n", false, 1 << 16,
                 [this, &a](NodeReply& r) {
                   bool ok = (r.status >= 200 && r.status < 300) || r.status == 404;
                   if (ok) ++progress_.deletes;
                   actionDone(a, ok);
                 });
  };
  if (a.mtime == 0) return doDelete();
  client_.call(a.node, requestHead("HEAD", a.target, a.node) + "\r\n", true, 0,
               [this, &a, doDelete](NodeReply& r) {
                 if (r.status == 404) return actionDone(a, true);
                 if (r.status != 200 || r.lastModified != a.mtime)  // written meanwhile
                   return actionDone(a, r.status == 200, true);
                 doDelete();
               });
}

void RepairRun::actionDone(const RepairAction& a, bool ok, bool skipped) {
  --inFlight_;
  if (skipped) ++progress_.skipped;
  if (ok) {
    ++progress_.done;
  } else {
    ++progress_.failed;
    if (a.kind == RepairAction::Copy) failedPaths_.insert(a.path);
  }
  actNext();
}

void RepairRun::end() {
  finished_ = true;
  pause_.stop();
  if (onFinished_) onFinished_();
}

Repairer::Repairer(FsService& service)
    : service_(service),
      client_(service.runtime(), service.fsConfig().backends,
              std::max(10.0, service.fsConfig().readTimeout),
              [&service](size_t node) { return service.upstreamTls(node); }),
      timer_(service.runtime().loop(), [this] { tick(); }),
      publisher_(service.runtime().loop(), [this] { publish(); }) {}

Repairer::~Repairer() {
  shm::CounterSlot k = service_.fsCounters();  // a pass cut short (reload, stop) leaves nothing
  k.set(kRepairRunning, 0);
  k.set(kRepairBacklog, 0);
}

void Repairer::start() {
  timer_.keepsLoopAlive(false);
  publisher_.keepsLoopAlive(false);
  const FsConfig& c = service_.fsConfig();
  timer_.repeat(c.repairInterval, std::min(c.repairInterval, 1.0));
  publisher_.repeat(0.5);
}

void Repairer::tick() {
  if (run_ || service_.runtime().draining()) return;
  const FsConfig& c = service_.fsConfig();
  RepairRun::Options options;
  options.rate = static_cast<double>(c.repairRate);
  options.parallel = c.repairParallel;
  options.scope.purgeBefore =
      static_cast<time_t>(service_.runtime().now()) - static_cast<time_t>(c.tombstoneTtl);
  warned_.resize(c.backends.size(), false);
  options.warned = &warned_;
  copiesSeen_ = deletesSeen_ = bytesSeen_ = failedSeen_ = 0;
  service_.fsCounters().set(kRepairRunning, 1);
  run_ = std::make_unique<RepairRun>(client_, service_.runtime().loop(), c, options, [this, &c] {
    publish();
    const RepairPlan& p = run_->plan();
    shm::CounterSlot k = service_.fsCounters();
    k.inc(kRepairPasses);
    k.set(kRepairRunning, 0);
    k.set(kRepairFiles, p.files);
    k.set(kRepairUnderReplicated, p.underReplicated);
    k.set(kRepairUnlisted, run_->progress().unlisted);
    if (DeletedPaths* d = service_.deletedPaths())
      for (const auto& [path, mtime] : p.rewritten) d->writtenAt(path, mtime);
    const RepairProgress& g = run_->progress();
    if (g.actions > 0)
      LOG_INFO("[%s] repair: %llu files, %llu copies, %llu deletes, %llu failed", c.title().c_str(),
               static_cast<unsigned long long>(p.files), static_cast<unsigned long long>(g.copies),
               static_cast<unsigned long long>(g.deletes),
               static_cast<unsigned long long>(g.failed));
    // Destroyed from the loop, outside its own callback.
    timer_.repeat(c.repairInterval, c.repairInterval);
    doneLater_ = true;
  });
  run_->start();
}

void Repairer::publish() {
  if (!run_) return;
  const RepairProgress& g = run_->progress();
  shm::CounterSlot k = service_.fsCounters();
  k.add(kRepairCopies, g.copies - copiesSeen_);
  k.add(kRepairDeletes, g.deletes - deletesSeen_);
  k.add(kRepairBytes, g.bytesMoved - bytesSeen_);
  k.add(kRepairFailed, g.failed - failedSeen_);
  copiesSeen_ = g.copies;
  deletesSeen_ = g.deletes;
  bytesSeen_ = g.bytesMoved;
  failedSeen_ = g.failed;
  k.set(kRepairBacklog, g.listing ? 0 : run_->backlog());
  if (doneLater_) {
    doneLater_ = false;
    run_.reset();
  }
}

}  // namespace manifold::fs
