// Integration-test harness: runs the real bin/manifold on free loopback ports with a generated
// config in a temp directory, and talks to it with real clients (curl, wrk, raw sockets).
// Ports come from {port:NAME} placeholders (re-picked when the master cannot bind them);
// readiness is read from the instance's shm worker table, never from log wording.
// Every process it starts is killed by pid in the destructor; shm segments are unlinked.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace manifold::shm {
class Segment;
}

namespace manifold::testing {

// A port that was free a moment ago (bound to port 0 and released). It can be taken by someone
// else before the server binds it: prefer {port:NAME} in an Instance's config, which is re-picked
// when the master fails to bind. freePort stays for ports a test needs before any Instance exists.
int freePort(bool udp = false);
// Like freePort, but free for TCP and UDP on 127.0.0.1 and ::1 at once (any service fits it).
int freePortAnyProtocol();
std::string makeTempDir();
// DIR/a.crt and DIR/a.key: a self-signed ECDSA P-256 certificate for a.test (TLS tests); false
// when openssl failed.
bool makeTestCertificate(const std::string& dir);
void writeFile(const std::string& path, const std::string& content);
std::string readFile(const std::string& path);
bool fileExists(const std::string& path);

// Runs a shell command, returns stdout; rc gets the exit code.
std::string run(const std::string& command, int* rc = nullptr);

// Sends raw bytes to 127.0.0.1:port, half-closes unless keepOpen, and returns everything read
// until the peer closes or `timeoutMs` passes.
std::string rawExchange(int port, const std::string& request, int timeoutMs = 3000,
                        bool halfClose = true);

struct HttpResponse {
  int status = 0;
  std::string headers;  // raw header block (last response when curl follows 100-continue)
  std::string body;
  std::string header(const std::string& name) const;  // case-insensitive, first match, trimmed
};
// curl -s -i with extra arguments, e.g. curl(port, "/x", "-H 'Range: bytes=0-9'").
HttpResponse curl(int port, const std::string& path, const std::string& extraArgs = "");

class Instance {
 public:
  // `services`: the service sections (and anything else) appended after a generated [master]
  // section; `masterExtra` lines go inside [master]. Both may use {dir} (the instance's temp
  // directory) and {port:NAME}: a free port picked for NAME, the same in every rewriteConfig,
  // re-picked if the master cannot bind it; read it back with port("NAME") after start().
  Instance(const std::string& services, const std::string& masterExtra = "", unsigned workers = 2);
  ~Instance();
  Instance(const Instance&) = delete;

  // True once every worker of generation 1 is ready (read from the shm worker table). When the
  // master exits because a {port:NAME} was taken meanwhile, new ports are picked and it retries.
  bool start(int waitMs = 5000);
  int port(const std::string& name) const;  // the port {port:NAME} stands for; 0 if unknown
  // True once every worker of generation `number` (1 = first start, +1 per reload) is ready.
  bool waitForGeneration(uint64_t number, int waitMs = 5000);
  bool waitForLog(const std::string& needle, int waitMs = 5000, size_t occurrences = 1);
  int stop(int waitMs = 10000);  // QUIT, wait; TERM then KILL if needed; returns exit status
  void signal(int sig);
  void rewriteConfig(const std::string& services, const std::string& masterExtra = "");
  // Runs the master in the named network namespace (`ip netns add NAME`); before start().
  void setNetns(const std::string& name) { netns_ = name; }
  std::vector<pid_t> workerPids() const;  // live children of the master
  pid_t pid() const { return pid_; }
  std::string log() const;
  const std::string& dir() const { return dir_; }
  const std::string& configPath() const { return configPath_; }
  const std::string& shmName() const { return shmName_; }
  std::string path(const std::string& relative) const { return dir_ + "/" + relative; }

 private:
  std::string render(const std::string& services, const std::string& masterExtra);
  bool launchAndWait(int waitMs);
  bool waitUntil(const std::function<bool()>& done, int waitMs);  // false if the master exits
  unsigned readyWorkers(uint64_t generation);

  std::string services_, masterExtra_;  // as last given, for re-rendering with new ports
  std::map<std::string, int> ports_;
  std::unique_ptr<shm::Segment> segment_;  // read-only attachment, made once the master created it
  std::string dir_;
  std::string configPath_;
  std::string logPath_;
  std::string shmName_;
  unsigned workers_;
  std::string netns_;
  pid_t pid_ = -1;
};

// The repository's bin/ directory (tests run from the repository root).
std::string binPath(const std::string& name);

// ---- time ----
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point start);
double secondsSince(Clock::time_point start);
void sleepMs(int ms);
// Polls `condition` every `stepMs` until it holds (true) or `waitMs` pass (false, after one last
// look): for state published on a period (boards, counters, flushed logs), in place of a fixed
// sleep of that period.
bool pollUntil(const std::function<bool()>& condition, int waitMs, int stepMs = 50);

// ---- processes ----
// A child process started with /bin/sh -c "exec COMMAND" (its stdout redirected to
// `stdoutPath` unless that is empty); killed by pid when it goes out of scope.
class Background {
 public:
  explicit Background(const std::string& command, const std::string& stdoutPath = "");
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Exit status (waitpid form), or -1 if it did not exit within waitMs (checked at least once).
  int wait(int waitMs);
  // True while the child has not exited (an exit seen here is kept for wait()).
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;  // exit status once reaped
};

// The reload-under-load rhythm: wait gapMs, then `times` x (SIGHUP, wait gapMs).
void reloadRepeatedly(Instance& m, int times, int gapMs = 1000);

}  // namespace manifold::testing
