#include "protocols/static/pack_sites.hpp"

#include <dirent.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "worker/log.hpp"

namespace manifold::http {

namespace {
constexpr std::string_view kSuffix = ".site";
constexpr std::string_view kDefaultHost = "_default";
constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;
constexpr unsigned kMaxQueued = 1024;  // events waiting for the opener thread
}  // namespace

PackSites::PackSites(struct ev_loop* loop, std::string dir, std::string title, uint64_t memoryMax,
                     shm::CounterSlot counters, bool reporter, shm::InfoBoard* board)
    : dir_(std::move(dir)),
      title_(std::move(title)),
      memoryMax_(memoryMax),
      counters_(counters),
      reporter_(reporter),
      watcher_(loop, [this](int) { onEvents(); }),
      opener_(loop, 1, kMaxQueued),
      board_(reporter ? board : nullptr) {}

std::vector<shm::InfoBoard::Value> PackSites::boardValues() {
  return {{"build_time_seconds", true},
          {"files", true},
          {"loaded_at_seconds", true},
          {"swaps", false},
          {"refused", false}};
}

void PackSites::publish(const std::string& host) {
  if (!board_) return;
  auto pack = packs_.find(host);
  auto it = hosts_.find(host);
  if (it == hosts_.end()) {
    // The first free row: rows in use are those of hosts_.
    std::vector<bool> used(board_->rows());
    for (const auto& [name, state] : hosts_) used[state.row] = true;
    unsigned row = 0;
    while (row < used.size() && used[row]) ++row;
    if (row == used.size()) return;  // more hosts than rows: counted, not listed
    it = hosts_.emplace(host, HostState{row}).first;
  }
  const pack::View& v = pack->second->view();
  board_->set(it->second.row, {{"host", host}, {"path", pack->second->path()}},
              {static_cast<uint64_t>(v.buildTime()), v.fileCount(),
               static_cast<uint64_t>(time(nullptr)), it->second.swaps, it->second.refused});
}

void PackSites::stop() {
  watcher_.stop();
  board_ = nullptr;
}

PackSites::~PackSites() {
  watcher_.stop();
  if (inotifyFd_ >= 0) ::close(inotifyFd_);
  if (reporter_ && counters_) counters_.sub(kPacksLive, packs_.size());
}

bool PackSites::hostOf(std::string_view name, std::string& host) {
  if (name.empty() || name[0] == '.' || name.size() <= kSuffix.size() ||
      name.substr(name.size() - kSuffix.size()) != kSuffix)
    return false;
  host.assign(name.substr(0, name.size() - kSuffix.size()));
  for (char& c : host) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return true;
}

void PackSites::start() {
  if (board_)
    for (unsigned row = 0; row < board_->rows(); ++row) board_->clear(row);  // a new generation
  // Watch first, then scan: a pack arriving in between is seen at least once (a second load of
  // the same file is harmless).
  inotifyFd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotifyFd_ < 0 || inotify_add_watch(inotifyFd_, dir_.c_str(), kEvents) < 0)
    throw std::runtime_error("sites " + dir_ + ": inotify: " + strerror(errno));
  watcher_.start(inotifyFd_, IoWatcher::kRead);
  DIR* d = opendir(dir_.c_str());
  if (!d) throw std::runtime_error("sites " + dir_ + ": " + strerror(errno));
  while (dirent* e = readdir(d)) load(e->d_name);
  closedir(d);
}

void PackSites::load(const std::string& name) {
  std::string host;
  if (!hostOf(name, host)) return;
  std::string path = dir_ + "/" + name;
  std::string why;
  auto pack = pack::Pack::open(path, pack::Pack::Load::Read, memoryMax_, why, true);
  install(host, path, std::move(pack), why);
}

void PackSites::queue(const std::string& name, bool removed) {
  std::string host;
  if (!hostOf(name, host)) return;
  // One thread, FIFO: jobs finish and their `done` runs in event order, removals included.
  struct Result {
    std::shared_ptr<pack::Pack> pack;
    std::string why;
  };
  auto result = std::make_shared<Result>();
  std::string path = dir_ + "/" + name;
  uint64_t memoryMax = memoryMax_;
  auto work = [result, path, memoryMax, removed](const std::atomic<bool>&) {
    if (!removed)
      result->pack = pack::Pack::open(path, pack::Pack::Load::Read, memoryMax, result->why, true);
  };
  auto done = [this, result, name, host, path, removed] {
    if (removed) return remove(name);
    install(host, path, std::move(result->pack), result->why);
  };
  if (!opener_.submit(work, done)) {  // a flood of events: do this one here
    work(std::atomic<bool>(false));
    done();
  }
}

void PackSites::install(const std::string& host, const std::string& path,
                        std::shared_ptr<pack::Pack> pack, const std::string& why) {
  if (!pack) {
    // Gone again before we looked (renamed over once more): the next event handles it.
    if (why == strerror(ENOENT)) return;
    if (reporter_) {
      LOG_ERROR("[%s] pack %s refused: %s%s", title_.c_str(), path.c_str(), why.c_str(),
                packs_.count(host) ? " (the previous pack keeps serving)" : "");
      counters_.inc(kPacksRefused);
      if (auto it = hosts_.find(host); it != hosts_.end()) {
        ++it->second.refused;
        publish(host);
      }
    }
    return;
  }
  auto [it, added] = packs_.try_emplace(host, nullptr);
  it->second = std::move(pack);
  if (reporter_) {
    LOG_INFO("[%s] pack %s %s: %u files, built %lld", title_.c_str(), path.c_str(),
             added ? "loaded" : "swapped in", it->second->view().fileCount(),
             static_cast<long long>(it->second->view().buildTime()));
    counters_.inc(added ? kPackLoads : kPackSwaps);
    if (added) counters_.inc(kPacksLive);
    if (auto it = hosts_.find(host); it != hosts_.end() && !added) ++it->second.swaps;
    publish(host);
  }
}

void PackSites::remove(const std::string& name) {
  std::string host;
  if (!hostOf(name, host) || packs_.erase(host) == 0) return;
  if (reporter_) {
    LOG_INFO("[%s] pack %s/%s removed: host %s is down", title_.c_str(), dir_.c_str(), name.c_str(),
             host.c_str());
    counters_.inc(kPackRemovals);
    counters_.dec(kPacksLive);
    if (auto it = hosts_.find(host); it != hosts_.end()) {
      if (board_) board_->clear(it->second.row);
      hosts_.erase(it);
    }
  }
}

void PackSites::onEvents() {
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = ::read(inotifyFd_, buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN: drained
    for (ssize_t at = 0; at < n;) {
      auto* ev = reinterpret_cast<inotify_event*>(buf + at);
      at += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        // Events were lost: reload everything there is.
        DIR* d = opendir(dir_.c_str());
        if (!d) continue;
        while (dirent* e = readdir(d)) queue(e->d_name, false);
        closedir(d);
        continue;
      }
      if (ev->len == 0) continue;
      std::string name(ev->name);
      if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) queue(name, false);
      if (ev->mask & (IN_MOVED_FROM | IN_DELETE)) queue(name, true);
    }
  }
}

const pack::Pack* PackSites::find(std::string_view host) {
  // Host: "Example.COM:8080" -> "example.com"; IPv6 literals keep their brackets.
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    host = host.substr(0, colon);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  host_.assign(host);
  for (char& c : host_) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  auto it = packs_.find(host_);
  if (it == packs_.end()) {
    host_.assign(kDefaultHost);
    it = packs_.find(host_);
  }
  return it == packs_.end() ? nullptr : it->second.get();
}

}  // namespace manifold::http
