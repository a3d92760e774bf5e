// The master process: owns the listening sockets and the shm segment, forks and supervises the
// workers, and handles signals (nginx conventions):
//   HUP   reload: re-read and validate the config; if good, start a new worker generation, wait
//         until every new worker reports ready, then tell the old generation to finish its
//         in-flight work (bounded by shutdown_timeout). A bad config changes nothing.
//   QUIT  graceful stop        TERM/INT  fast stop        USR1  reopen logs
// A worker that dies is respawned on the same sockets and stats slot, with back-off; a worker
// index that dies crash_loop_limit times within crash_loop_window is left down and reported.
#pragma once

#include <ev.h>
#include <sys/types.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "master/config.hpp"
#include "master/listeners.hpp"

namespace manifold {

namespace shm {
class Segment;
class StatsRegion;
}  // namespace shm

class Master {
 public:
  explicit Master(std::unique_ptr<config::Config> config);
  ~Master();
  // Binds, creates shm, daemonizes if asked, forks workers and supervises until stopped.
  // Returns the process exit code.
  int run();

 private:
  struct Generation;
  struct Worker;

  void setUpSignals();
  bool startGeneration(std::shared_ptr<config::Config> config, std::string& error);
  void spawn(Generation& gen, unsigned index, unsigned slot, unsigned restarts);
  void reload();
  // Counts a reload attempt and stamps its time and result in the shm header (the dashboard).
  void noteReload(bool ok);
  void gracefulStop();
  void fastStop();
  void reopenLogs();
  void prepareLogFiles(const config::Config& config);
  void prepareWorkerDirectories(const config::Config& config);
  void onWorkerExit(pid_t pid, int status);
  void onWorkerMessage(Worker& worker);
  void onGenerationReady(Generation& gen);
  void retire(Generation& gen);
  void abortGeneration(Generation& gen, const std::string& why);
  void maybeFinishGenerations();
  void checkExit();
  void cleanUp();
  Worker* findWorker(pid_t pid);
  int takeSlot(Generation& gen);
  void releaseSlot(Generation& gen, unsigned slot);
  void sendControl(Worker& worker, char message);

  static void onSignal(struct ev_loop*, ev_signal* watcher, int);
  static void onChild(struct ev_loop*, ev_child* watcher, int);
  static void onControl(struct ev_loop*, ev_io* watcher, int);
  static void onRespawnTimer(struct ev_loop*, ev_timer* watcher, int);
  static void onShutdownTimer(struct ev_loop*, ev_timer* watcher, int);
  static void onReadyTimer(struct ev_loop*, ev_timer* watcher, int);

  std::unique_ptr<config::Config> initialConfig_;
  std::shared_ptr<config::Config> config_;  // the active one
  struct ev_loop* loop_ = nullptr;
  ListenerSet listeners_;
  std::unique_ptr<shm::Segment> segment_;
  std::vector<std::unique_ptr<Generation>> generations_;
  std::map<pid_t, std::unique_ptr<Worker>> workers_;
  std::map<unsigned, std::deque<double>> deaths_;  // worker index -> recent death times
  std::vector<ev_signal> signals_;
  ev_child child_;
  uint64_t nextGeneration_ = 1;
  bool stopping_ = false;
  bool fastStopping_ = false;
  std::string pidfile_;
  std::vector<std::string> retiredListeners_;  // closed once the old generation is gone
  int exitCode_ = 0;
};

}  // namespace manifold
