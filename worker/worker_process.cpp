#include "worker/worker_process.hpp"

#include <ev.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "protocols/service.hpp"
#include "shm/stats.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold {

namespace {

constexpr double kDrainCheckInterval = 0.25;

struct WorkerState {
  const WorkerLaunch* launch = nullptr;
  WorkerRuntime* runtime = nullptr;
  std::vector<std::unique_ptr<Service>> services;
  ev_io control;
  ev_timer drainCheck;
  bool stopping = false;
};

size_t inFlight(const WorkerState& state) {
  size_t busy = state.runtime->openConnections();
  for (auto& service : state.services) busy += service->inFlight();
  return busy;
}

void onDrainCheck(struct ev_loop* loop, ev_timer* watcher, int) {
  auto* state = static_cast<WorkerState*>(watcher->data);
  state->runtime->startDraining();  // closes connections that became idle since the last check
  for (auto& service : state->services) service->closeIdle();
  if (inFlight(*state) == 0) ev_break(loop, EVBREAK_ALL);
}

void beginGracefulStop(struct ev_loop* loop, WorkerState& state) {
  if (state.stopping) return;
  state.stopping = true;
  LOG_INFO("gracefully stopping: %zu in flight", inFlight(state));
  for (auto& service : state.services) service->stopAccepting();
  state.runtime->startDraining();
  for (auto& service : state.services) service->closeIdle();
  ev_timer_init(&state.drainCheck, onDrainCheck, 0., kDrainCheckInterval);
  state.drainCheck.data = &state;
  ev_timer_again(loop, &state.drainCheck);
  ev_io_stop(loop, &state.control);
}

void onControl(struct ev_loop* loop, ev_io* watcher, int) {
  auto* state = static_cast<WorkerState*>(watcher->data);
  char message[16];
  ssize_t n = ::recv(watcher->fd, message, sizeof message, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    LOG_WARN("master is gone: stopping");
    beginGracefulStop(loop, *state);
    return;
  }
  switch (message[0]) {
    case 'Q':
      beginGracefulStop(loop, *state);
      break;
    case 'L':
      if (!log::reopen()) LOG_ERROR("reopen error log: %s", strerror(errno));
      for (auto& service : state->services) service->reopenLogs();
      break;
    default:
      LOG_WARN("unknown control message 0x%02x", static_cast<unsigned char>(message[0]));
  }
}

bool dropPrivileges(const config::MasterConfig& master) {
  bool dropping = false;
  uid_t uid = 0;
  gid_t gid = 0;
  if (!workerIdentity(master, dropping, uid, gid)) return false;
  if (!dropping) return true;
  passwd* pw = getpwuid(uid);
  if (setgid(gid) != 0 || initgroups(pw ? pw->pw_name : master.user.c_str(), gid) != 0 ||
      setuid(uid) != 0) {
    LOG_CRIT("dropping privileges to %s: %s", master.user.c_str(), strerror(errno));
    return false;
  }
  return true;
}

void setUpProcess(const WorkerLaunch& launch) {
  // The master tells workers what to do over the control channel; terminal signals that hit the
  // whole process group are the master's to handle. TERM (fast stop) keeps its default action.
  for (int sig : {SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGINT, SIGPIPE}) signal(sig, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  const auto& master = launch.config->master;
  if (master.workerRlimitNofile) {
    rlimit limit{master.workerRlimitNofile, master.workerRlimitNofile};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      LOG_WARN("setrlimit(RLIMIT_NOFILE, %lu): %s",
               static_cast<unsigned long>(master.workerRlimitNofile), strerror(errno));
    }
  }
  if (master.cpuAffinity) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(launch.index % (cpus > 0 ? cpus : 1), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      LOG_WARN("sched_setaffinity: %s", strerror(errno));
    }
  }
}

}  // namespace

int runWorker(const WorkerLaunch& launch) {
  log::setTag("worker " + std::to_string(launch.index));
  setUpProcess(launch);
  if (!dropPrivileges(launch.config->master)) return 2;

  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
  WorkerRuntime runtime(loop, launch.index, launch.count, launch.config->master.workerConnections);
  WorkerState state;
  state.launch = &launch;
  state.runtime = &runtime;

  launch.stats->resetGauges(launch.slot);
  const auto& services = launch.config->services;
  for (size_t i = 0; i < services.size(); ++i) {
    ServiceContext ctx;
    ctx.loop = loop;
    ctx.workerIndex = launch.index;
    ctx.workerCount = launch.count;
    ctx.fds = launch.serviceFds[i];
    ctx.regions = launch.serviceRegions[i];
    ctx.counters = launch.stats->counters(launch.slot, i);
    ctx.slot = launch.slot;
    ctx.runtime = &runtime;
    ctx.segment = launch.segment;
    try {
      auto service = services[i]->createService(ctx);
      service->start();
      state.services.push_back(std::move(service));
    } catch (const std::exception& e) {
      LOG_CRIT("[%s]: cannot start: %s", services[i]->title().c_str(), e.what());
      return 2;
    }
  }

  ev_io_init(&state.control, onControl, launch.controlFd, EV_READ);
  state.control.data = &state;
  ev_io_start(loop, &state.control);
  char ready = 'R';
  if (::send(launch.controlFd, &ready, 1, MSG_NOSIGNAL) != 1) {
    LOG_CRIT("cannot report ready to the master: %s", strerror(errno));
    return 2;
  }
  LOG_DEBUG("ready: generation %lu, slot %u", static_cast<unsigned long>(launch.generation),
            launch.slot);

  ev_run(loop, 0);

  state.services.clear();
  LOG_INFO("exiting");
  return 0;
}

bool workerIdentity(const config::MasterConfig& master, bool& dropping, uid_t& uid, gid_t& gid) {
  dropping = !master.user.empty() && geteuid() == 0;
  if (!dropping) return true;
  passwd* pw = getpwnam(master.user.c_str());
  if (!pw) {
    LOG_CRIT("user \"%s\" not found", master.user.c_str());
    return false;
  }
  uid = pw->pw_uid;
  gid = pw->pw_gid;
  if (!master.group.empty()) {
    group* gr = getgrnam(master.group.c_str());
    if (!gr) {
      LOG_CRIT("group \"%s\" not found", master.group.c_str());
      return false;
    }
    gid = gr->gr_gid;
  }
  return true;
}

}  // namespace manifold
