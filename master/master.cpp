#include "master/master.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include "master/pidfile.hpp"
#include "master/shm_budget.hpp"
#include "protocols/service.hpp"
#include "shm/segment.hpp"
#include "shm/stats.hpp"
#include "worker/clock.hpp"
#include "worker/log.hpp"
#include "worker/worker_process.hpp"

namespace manifold {

namespace {
constexpr double kReadyTimeout = 15.0;
constexpr double kFastStopGrace = 3.0;
constexpr double kFirstRespawnDelay = 0.1;

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    std::string text = std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                       strsignal(WTERMSIG(status)) + ")";
    if (WCOREDUMP(status)) text += ", core dumped";
    return text;
  }
  return "stopped with status " + std::to_string(status);
}
}  // namespace

struct Master::Generation {
  uint64_t number = 0;
  std::shared_ptr<config::Config> config;
  std::vector<std::vector<void*>> regions;  // [service][region]
  std::vector<std::string> regionNames;
  shm::StatsRegion* stats = nullptr;
  std::vector<bool> slotsInUse;  // shared by every generation on the same stats region
  enum class State { Starting, Active, Draining } state = State::Starting;
  unsigned readyCount = 0;
  ev_timer readyTimer;
  ev_timer shutdownTimer;
  Master* master = nullptr;
};

struct Master::Worker {
  pid_t pid = 0;
  unsigned index = 0;
  unsigned slot = 0;
  unsigned restarts = 0;
  Generation* gen = nullptr;
  int controlFd = -1;
  ev_io control;
  bool ready = false;
  bool told = false;  // told to stop
  Master* master = nullptr;
};

// A pending respawn of one worker index after back-off.
struct RespawnTimer {
  ev_timer timer;
  Master* master;
  uint64_t generation;
  unsigned index, slot, restarts;
};

Master::Master(std::unique_ptr<config::Config> config) : initialConfig_(std::move(config)) {}

Master::~Master() = default;

int Master::run() {
  config_ = std::shared_ptr<config::Config>(std::move(initialConfig_));
  const auto& master = config_->master;
  pidfile_ = master.pidfile;

  pid_t running = readPidfile(pidfile_);
  if (running > 0 && kill(running, 0) == 0) {
    LOG_CRIT("already running: pid %d in %s", running, pidfile_.c_str());
    return 1;
  }

  std::vector<ListenRequest> wanted;
  for (auto& service : config_->services)
    for (auto& request : service->listeners()) wanted.push_back(request);
  try {
    listeners_.reconcile(wanted, master.workers);
  } catch (const std::exception& e) {
    LOG_CRIT("%s", e.what());
    return 1;
  }

  if (master.daemon) {
    if (!daemonize(master.errorLog.empty() || master.errorLog == "stderr")) return 1;
  }

  try {
    segment_ = shm::Segment::create(master.shmName, master.shmSize);
  } catch (const std::exception& e) {
    LOG_CRIT("shared memory: %s", e.what());
    return 1;
  }
  if (segment_->replacedForeign()) {
    LOG_WARN(
        "removed shm segment \"%s\" that another user created (or that others could write); "
        "its contents were not trusted",
        master.shmName.c_str());
  } else if (segment_->replacedStale()) {
    LOG_WARN("replaced a stale shm segment \"%s\" left by a crashed instance",
             master.shmName.c_str());
  }
  segment_->header().masterPid = getpid();
  segment_->header().startedAtMs = clock::wallMs();

  if (!writePidfile(pidfile_)) {
    LOG_CRIT("pidfile %s: %s", pidfile_.c_str(), strerror(errno));
    segment_->unlink();
    return 1;
  }

  loop_ = ev_default_loop(EVFLAG_AUTO);
  setUpSignals();

  std::string error;
  if (!startGeneration(config_, error)) {
    LOG_CRIT("%s", error.c_str());
    cleanUp();
    return 1;
  }
  LOG_NOTICE("started: %u workers, %zu services, shm \"%s\"", master.workers,
             config_->services.size(), master.shmName.c_str());
  ev_run(loop_, 0);
  cleanUp();
  return exitCode_;
}

void Master::setUpSignals() {
  signal(SIGPIPE, SIG_IGN);
  static const int kSignals[] = {SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1};
  signals_.resize(std::size(kSignals));
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    ev_signal_init(&signals_[i], onSignal, kSignals[i]);
    signals_[i].data = this;
    ev_signal_start(loop_, &signals_[i]);
  }
  ev_child_init(&child_, onChild, 0, 0);
  child_.data = this;
  ev_child_start(loop_, &child_);
}

void Master::onSignal(struct ev_loop*, ev_signal* watcher, int) {
  auto* self = static_cast<Master*>(watcher->data);
  switch (watcher->signum) {
    case SIGHUP:
      self->reload();
      break;
    case SIGQUIT:
      self->gracefulStop();
      break;
    case SIGTERM:
    case SIGINT:
      self->fastStop();
      break;
    case SIGUSR1:
      self->reopenLogs();
      break;
  }
}

bool Master::startGeneration(std::shared_ptr<config::Config> config, std::string& error) {
  auto gen = std::make_unique<Generation>();
  gen->number = nextGeneration_;
  gen->config = config;
  gen->master = this;
  const unsigned workers = config->master.workers;

  // Regions: the stats region first, then every service's own.
  std::vector<shm::StatsServiceSpec> specs = config::statsSpecs(*config);
  unsigned slots = workers * config::kStatsSlotsPerWorker;
  try {
    auto view = segment_->ensureRegion("stats", shm::StatsRegion::layoutKey(slots, specs),
                                       shm::StatsRegion::bytesFor(slots, specs));
    if (view.adopted) {
      gen->stats = const_cast<shm::StatsRegion*>(shm::StatsRegion::at(view.base));
      for (auto& other : generations_)
        if (other->stats == gen->stats) gen->slotsInUse = other->slotsInUse;
    } else {
      gen->stats = shm::StatsRegion::format(view.base, view.bytes, slots, specs);
      if (!generations_.empty()) LOG_NOTICE("counters start fresh: services or workers changed");
    }
    if (gen->slotsInUse.empty()) gen->slotsInUse.assign(slots, false);
    gen->regionNames.push_back("stats");
    for (auto& service : config->services) {
      std::vector<void*> bases;
      for (auto& request : service->regions()) {
        auto region = segment_->ensureRegion(request.name, request.layout, request.bytes);
        if (!region.adopted && !generations_.empty())
          LOG_NOTICE("shm region \"%s\" starts fresh (new, or its layout changed)",
                     request.name.c_str());
        if (request.init) request.init(region.base, region.bytes, region.adopted);
        bases.push_back(region.base);
        gen->regionNames.push_back(request.name);
      }
      gen->regions.push_back(std::move(bases));
    }
  } catch (const std::exception& e) {
    error = std::string("shared memory: ") + e.what();
    return false;
  }

  for (auto& service : config->services) service->acquirePrivileged();
  prepareLogFiles(*config);
  prepareWorkerDirectories(*config);
  ++nextGeneration_;
  segment_->header().generation = gen->number;
  Generation& ref = *gen;
  generations_.push_back(std::move(gen));

  // The config was just parsed with the loop blocked (a million-name zone takes a minute): without
  // this the timer would count from the loop's stale time and expire at once.
  ev_now_update(loop_);
  ev_timer_init(&ref.readyTimer, onReadyTimer, kReadyTimeout, 0.);
  ref.readyTimer.data = &ref;
  ev_timer_start(loop_, &ref.readyTimer);
  for (unsigned i = 0; i < workers; ++i) {
    int slot = takeSlot(ref);
    if (slot < 0) {
      error = "no free stats slot: a previous generation is still draining";
      abortGeneration(ref, error);
      return false;
    }
    spawn(ref, i, slot, 0);
  }
  return true;
}

int Master::takeSlot(Generation& gen) {
  for (size_t i = 0; i < gen.slotsInUse.size(); ++i) {
    if (!gen.slotsInUse[i]) {
      gen.slotsInUse[i] = true;
      for (auto& other : generations_)
        if (other.get() != &gen && other->stats == gen.stats) other->slotsInUse[i] = true;
      return static_cast<int>(i);
    }
  }
  return -1;
}

void Master::releaseSlot(Generation& gen, unsigned slot) {
  for (auto& other : generations_)
    if (other->stats == gen.stats) other->slotsInUse[slot] = false;
  auto& info = gen.stats->worker(slot);
  info.state = shm::kWorkerFree;
  info.pid = 0;
  gen.stats->resetGauges(slot);
}

void Master::spawn(Generation& gen, unsigned index, unsigned slot, unsigned restarts) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    LOG_CRIT("socketpair: %s", strerror(errno));
    return;
  }
  // Everything the child needs, computed before fork.
  WorkerLaunch launch;
  launch.config = gen.config.get();
  launch.index = index;
  launch.count = gen.config->master.workers;
  launch.slot = slot;
  launch.generation = gen.number;
  launch.controlFd = pair[1];
  launch.segment = segment_.get();
  launch.stats = gen.stats;
  launch.serviceRegions = gen.regions;
  for (auto& service : gen.config->services) {
    std::vector<int> fds;
    for (auto& request : service->listeners()) fds.push_back(listeners_.sockets(request).at(index));
    launch.serviceFds.push_back(std::move(fds));
  }

  pid_t pid = fork();
  if (pid < 0) {
    LOG_CRIT("fork: %s", strerror(errno));
    ::close(pair[0]);
    ::close(pair[1]);
    return;
  }
  if (pid == 0) {
    ::close(pair[0]);
    for (auto& [otherPid, other] : workers_) ::close(other->controlFd);
    std::vector<int> own;
    for (auto& fds : launch.serviceFds) own.insert(own.end(), fds.begin(), fds.end());
    listeners_.closeInChild(own);
    ev_loop_fork(EV_DEFAULT);
    _exit(runWorker(launch));
  }
  ::close(pair[1]);
  auto worker = std::make_unique<Worker>();
  worker->pid = pid;
  worker->index = index;
  worker->slot = slot;
  worker->restarts = restarts;
  worker->gen = &gen;
  worker->controlFd = pair[0];
  worker->master = this;
  fcntl(pair[0], F_SETFL, O_NONBLOCK);
  ev_io_init(&worker->control, onControl, pair[0], EV_READ);
  worker->control.data = worker.get();
  ev_io_start(loop_, &worker->control);

  auto& info = gen.stats->worker(slot);
  info.pid = pid;
  info.index = index;
  info.generation = gen.number;
  info.startedAtMs = clock::wallMs();
  info.restarts = restarts;
  info.state = shm::kWorkerStarting;
  LOG_INFO("started worker %u (pid %d), generation %lu", index, pid,
           static_cast<unsigned long>(gen.number));
  workers_[pid] = std::move(worker);
}

void Master::onControl(struct ev_loop*, ev_io* watcher, int) {
  auto* worker = static_cast<Worker*>(watcher->data);
  worker->master->onWorkerMessage(*worker);
}

void Master::onWorkerMessage(Worker& worker) {
  char message[16];
  ssize_t n = ::recv(worker.controlFd, message, sizeof message, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {  // the worker is exiting; SIGCHLD does the rest
    ev_io_stop(loop_, &worker.control);
    return;
  }
  if (message[0] == 'R' && !worker.ready) {
    worker.ready = true;
    worker.gen->stats->worker(worker.slot).state =
        worker.told ? shm::kWorkerDraining : shm::kWorkerReady;
    Generation& gen = *worker.gen;
    if (gen.state == Generation::State::Starting && ++gen.readyCount == gen.config->master.workers)
      onGenerationReady(gen);
  }
}

void Master::onGenerationReady(Generation& gen) {
  ev_timer_stop(loop_, &gen.readyTimer);
  gen.state = Generation::State::Active;
  deaths_.clear();  // a new generation (after "fix the cause and reload") starts with a clean slate
  // Two quick reloads: the older new generation may get ready first; it then replaces the
  // running one but must not retire the newer one, which supersedes it when ready in turn.
  bool superseded = false;
  for (auto& other : generations_) {
    if (other.get() == &gen || other->state == Generation::State::Draining) continue;
    if (other->number < gen.number)
      retire(*other);
    else
      superseded = true;
  }
  LOG_NOTICE("generation %lu ready%s", static_cast<unsigned long>(gen.number),
             superseded ? " (a newer one is starting)" : "");
}

void Master::retire(Generation& gen) {
  gen.state = Generation::State::Draining;
  ev_timer_stop(loop_, &gen.readyTimer);
  for (auto& [pid, worker] : workers_) {
    if (worker->gen != &gen) continue;
    worker->told = true;
    gen.stats->worker(worker->slot).state = shm::kWorkerDraining;
    sendControl(*worker, 'Q');
  }
  double timeout = std::chrono::duration<double>(gen.config->master.shutdownTimeout).count();
  ev_timer_init(&gen.shutdownTimer, onShutdownTimer, std::max(timeout, 0.001), 0.);
  gen.shutdownTimer.data = &gen;
  ev_timer_start(loop_, &gen.shutdownTimer);
  maybeFinishGenerations();
}

void Master::sendControl(Worker& worker, char message) {
  if (::send(worker.controlFd, &message, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 && errno != EPIPE) {
    LOG_WARN("control message to worker %u (pid %d): %s", worker.index, worker.pid,
             strerror(errno));
  }
}

void Master::onShutdownTimer(struct ev_loop*, ev_timer* watcher, int) {
  auto* gen = static_cast<Generation*>(watcher->data);
  Master* self = gen->master;
  for (auto& [pid, worker] : self->workers_) {
    if (worker->gen != gen) continue;
    LOG_WARN("worker %u (pid %d) still busy after shutdown_timeout: killing it", worker->index,
             pid);
    kill(pid, SIGKILL);
  }
}

void Master::onReadyTimer(struct ev_loop*, ev_timer* watcher, int) {
  auto* gen = static_cast<Generation*>(watcher->data);
  gen->master->abortGeneration(*gen, "new workers did not report ready in time");
}

void Master::abortGeneration(Generation& gen, const std::string& why) {
  bool first = generations_.size() == 1;
  LOG_ERROR("generation %lu failed: %s; %s", static_cast<unsigned long>(gen.number), why.c_str(),
            first ? "stopping" : "keeping the running generation");
  ev_timer_stop(loop_, &gen.readyTimer);
  gen.state = Generation::State::Draining;
  for (auto& [pid, worker] : workers_)
    if (worker->gen == &gen) kill(pid, SIGKILL);
  if (first) {
    exitCode_ = 1;
    stopping_ = fastStopping_ = true;
  } else {
    noteReload(false);
  }
  maybeFinishGenerations();
}

void Master::onChild(struct ev_loop*, ev_child* watcher, int) {
  auto* self = static_cast<Master*>(watcher->data);
  // libev reaps one child per callback; collect any others that died meanwhile.
  self->onWorkerExit(watcher->rpid, watcher->rstatus);
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) self->onWorkerExit(pid, status);
}

Master::Worker* Master::findWorker(pid_t pid) {
  auto it = workers_.find(pid);
  return it == workers_.end() ? nullptr : it->second.get();
}

void Master::onWorkerExit(pid_t pid, int status) {
  Worker* worker = findWorker(pid);
  if (!worker) return;
  Generation& gen = *worker->gen;
  bool expected = worker->told || stopping_ || gen.state == Generation::State::Draining;
  std::string how = describeStatus(status);
  if (expected) {
    LOG_INFO("worker %u (pid %d) %s", worker->index, pid, how.c_str());
  } else {
    LOG_ERROR("worker %u (pid %d) %s", worker->index, pid, how.c_str());
  }
  ev_io_stop(loop_, &worker->control);
  ::close(worker->controlFd);
  unsigned index = worker->index, slot = worker->slot, restarts = worker->restarts;
  bool wasReady = worker->ready;
  workers_.erase(pid);

  if (expected) {
    releaseSlot(gen, slot);
    maybeFinishGenerations();
    checkExit();
    return;
  }
  if (gen.state == Generation::State::Starting && !wasReady) {
    abortGeneration(gen, "worker " + std::to_string(index) + " " + how + " before it was ready");
    checkExit();
    return;
  }
  // Unexpected death in the active generation: respawn with back-off, unless crash-looping.
  double now = ev_now(loop_);
  auto& deaths = deaths_[index];
  deaths.push_back(now);
  double window = std::chrono::duration<double>(gen.config->master.crashLoopWindow).count();
  while (!deaths.empty() && deaths.front() < now - window) deaths.pop_front();
  if (deaths.size() >= gen.config->master.crashLoopLimit) {
    LOG_CRIT(
        "worker %u is crash-looping (%zu exits in %.0f s): not respawning it; fix the cause "
        "and reload (HUP)",
        index, deaths.size(), window);
    releaseSlot(gen, slot);
    // Nobody accepts on this index's sockets now: take them out of the kernel's rotation,
    // unless a newer generation's worker with the same index uses them.
    bool shared = std::any_of(workers_.begin(), workers_.end(), [&](auto& entry) {
      return entry.second->index == index &&
             entry.second->gen->state != Generation::State::Draining;
    });
    if (!shared) listeners_.suspendIndex(index);
    return;
  }
  double maxDelay = std::chrono::duration<double>(gen.config->master.respawnDelayMax).count();
  double delay = deaths.size() <= 1
                     ? 0
                     : std::min(maxDelay, kFirstRespawnDelay * std::pow(2.0, deaths.size() - 2));
  gen.stats->worker(slot).state = shm::kWorkerStarting;
  if (delay <= 0) {
    spawn(gen, index, slot, restarts + 1);
    return;
  }
  LOG_NOTICE("respawning worker %u in %.1f s", index, delay);
  auto* timer = new RespawnTimer{{}, this, gen.number, index, slot, restarts + 1};
  ev_timer_init(&timer->timer, onRespawnTimer, delay, 0.);
  timer->timer.data = timer;
  ev_timer_start(loop_, &timer->timer);
}

void Master::onRespawnTimer(struct ev_loop*, ev_timer* watcher, int) {
  std::unique_ptr<RespawnTimer> timer(static_cast<RespawnTimer*>(watcher->data));
  Master* self = timer->master;
  if (self->stopping_) return;
  for (auto& gen : self->generations_) {
    if (gen->number != timer->generation) continue;
    if (gen->state == Generation::State::Draining) {
      self->releaseSlot(*gen, timer->slot);
      return;
    }
    self->spawn(*gen, timer->index, timer->slot, timer->restarts);
    return;
  }
}

void Master::maybeFinishGenerations() {
  // Drop draining generations whose workers are all gone; then free what only they used.
  bool removed = false;
  for (auto it = generations_.begin(); it != generations_.end();) {
    Generation& gen = **it;
    bool hasWorkers = std::any_of(workers_.begin(), workers_.end(),
                                  [&](auto& entry) { return entry.second->gen == &gen; });
    if (gen.state == Generation::State::Draining && !hasWorkers) {
      ev_timer_stop(loop_, &gen.shutdownTimer);
      ev_timer_stop(loop_, &gen.readyTimer);
      LOG_INFO("generation %lu finished", static_cast<unsigned long>(gen.number));
      it = generations_.erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  if (!removed || stopping_) return;
  bool allActive = std::all_of(generations_.begin(), generations_.end(),
                               [](auto& gen) { return gen->state == Generation::State::Active; });
  if (!allActive) return;
  std::vector<std::string> live;
  for (auto& gen : generations_)
    live.insert(live.end(), gen->regionNames.begin(), gen->regionNames.end());
  segment_->retireExcept(live);
  segment_->releaseRetired();
  listeners_.closeKeys(retiredListeners_);
  retiredListeners_.clear();
}

void Master::reload() {
  if (stopping_) return;
  LOG_NOTICE("reloading configuration %s", config_->path.c_str());
  std::shared_ptr<config::Config> fresh;
  try {
    fresh = config::load(config_->path);
  } catch (const std::exception& e) {
    LOG_ERROR("reload refused, keeping the running configuration: %s", e.what());
    noteReload(false);
    return;
  }
  const auto& old = config_->master;
  auto& now = fresh->master;
  // Process-level settings that a reload cannot change take their running values.
  if (now.shmName != old.shmName || now.shmSize != old.shmSize || now.daemon != old.daemon ||
      now.pidfile != old.pidfile || now.user != old.user || now.group != old.group) {
    LOG_WARN("shm_name, shm_size, daemon, pidfile, user and group change only on restart");
    now.shmName = old.shmName;
    now.shmSize = old.shmSize;
    now.daemon = old.daemon;
    now.pidfile = old.pidfile;
    now.user = old.user;
    now.group = old.group;
  }
  std::vector<ListenRequest> wanted;
  for (auto& service : fresh->services)
    for (auto& request : service->listeners()) wanted.push_back(request);
  std::vector<std::string> removed;
  try {
    removed = listeners_.reconcile(wanted, now.workers);
  } catch (const std::exception& e) {
    LOG_ERROR("reload refused, keeping the running configuration: %s", e.what());
    noteReload(false);
    return;
  }
  retiredListeners_.insert(retiredListeners_.end(), removed.begin(), removed.end());
  if (now.errorLog != old.errorLog || now.logLevel != old.logLevel) {
    log::Level level;
    if (log::parseLevel(now.logLevel, level)) log::setLevel(level);
    if (!log::open(now.errorLog))
      LOG_ERROR("error_log %s: %s", now.errorLog.c_str(), strerror(errno));
  }
  std::string error;
  auto previous = config_;
  config_ = fresh;
  if (!startGeneration(fresh, error)) {
    config_ = previous;
    LOG_ERROR("reload failed: %s", error.c_str());
    noteReload(false);
    return;
  }
  noteReload(true);
}

void Master::noteReload(bool ok) {
  auto& h = segment_->header();
  (ok ? h.reloads : h.failedReloads)++;
  h.lastReloadOk = ok;
  h.lastReloadMs = clock::wallMs();
}

void Master::gracefulStop() {
  if (stopping_) return;
  LOG_NOTICE("graceful stop");
  stopping_ = true;
  for (auto& gen : generations_)
    if (gen->state != Generation::State::Draining) retire(*gen);
  // Nobody will accept any more: refuse new connections now (as nginx does) rather than let
  // them sit in the listen queues until the drain ends and the master exits.
  for (unsigned index = 0; index < config_->master.workers; ++index) listeners_.suspendIndex(index);
  checkExit();
}

void Master::fastStop() {
  if (fastStopping_) {
    checkExit();
    return;
  }
  LOG_NOTICE("fast stop");
  stopping_ = fastStopping_ = true;
  for (auto& [pid, worker] : workers_) kill(pid, SIGTERM);
  static ev_timer grace;
  ev_timer_init(
      &grace,
      [](struct ev_loop*, ev_timer* w, int) {
        auto* self = static_cast<Master*>(w->data);
        for (auto& [pid, worker] : self->workers_) kill(pid, SIGKILL);
      },
      kFastStopGrace, 0.);
  grace.data = this;
  ev_timer_start(loop_, &grace);
  checkExit();
}

// Creates every file the workers append to and gives it to the worker user, so that workers,
// which open and reopen logs after dropping privileges, never need to write the directory
// (nginx's master does the same before its workers reopen logs). Failures are the workers' to
// report when they open the file.
void Master::prepareLogFiles(const config::Config& config) {
  bool dropping = false;
  uid_t uid = 0;
  gid_t gid = 0;
  if (!workerIdentity(config.master, dropping, uid, gid) || !dropping) return;
  std::vector<std::string> paths;
  if (!config.master.errorLog.empty() && config.master.errorLog != "stderr")
    paths.push_back(config.master.errorLog);
  for (auto& service : config.services)
    for (auto& path : service->logFiles()) paths.push_back(path);
  for (const std::string& path : paths) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      LOG_ERROR("log file %s: %s", path.c_str(), strerror(errno));
      continue;
    }
    struct stat st {};
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_uid != uid || st.st_gid != gid) &&
        fchown(fd, uid, gid) != 0)
      LOG_ERROR("log file %s: chown: %s", path.c_str(), strerror(errno));
    ::close(fd);
  }
}

void Master::prepareWorkerDirectories(const config::Config& config) {
  bool dropping = false;
  uid_t uid = 0;
  gid_t gid = 0;
  bool identity = workerIdentity(config.master, dropping, uid, gid);
  for (auto& service : config.services)
    for (const std::string& dir : service->workerDirectories()) {
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        LOG_ERROR("[%s] directory %s: %s", service->title().c_str(), dir.c_str(), strerror(errno));
        continue;
      }
      struct stat st {};
      if (identity && dropping && ::stat(dir.c_str(), &st) == 0 &&
          (st.st_uid != uid || st.st_gid != gid) && ::chown(dir.c_str(), uid, gid) != 0)
        LOG_ERROR("directory %s: chown: %s", dir.c_str(), strerror(errno));
    }
}

void Master::reopenLogs() {
  LOG_NOTICE("reopening logs");
  if (!log::reopen()) LOG_ERROR("reopen error log: %s", strerror(errno));
  if (config_) prepareLogFiles(*config_);
  for (auto& [pid, worker] : workers_) sendControl(*worker, 'L');
}

void Master::checkExit() {
  if (stopping_ && workers_.empty()) ev_break(loop_, EVBREAK_ALL);
}

void Master::cleanUp() {
  for (auto& [pid, worker] : workers_) kill(pid, SIGKILL);
  while (!workers_.empty()) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    workers_.erase(pid);
  }
  listeners_.closeAll();
  if (segment_) segment_->unlink();
  removePidfile(pidfile_);
  LOG_NOTICE("exit");
}

}  // namespace manifold
