// Tier: end-to-end, core process model — workers as children, respawn after a crash, the
// crash-loop guard, `-t` config checks, `-s` signalling through the pidfile, single-instance
// guard, stale shared memory, clean/fast stop and log reopening. Real bin/manifold on loopback.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// The pid the master last started for worker `index` (from "started worker I (pid P)").
pid_t lastPidOfIndex(const std::string& log, unsigned index) {
  static const std::regex started(R"(started worker (\d+) \(pid (\d+)\))");
  pid_t pid = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), started), end; it != end; ++it)
    if (std::stoul((*it)[1]) == index) pid = std::stoi((*it)[2]);
  return pid;
}

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// Waits until the master has `count` live children, none of them in `gone`.
bool waitForWorkers(const Instance& m, size_t count, const std::vector<pid_t>& gone, int waitMs) {
  auto start = Clock::now();
  while (secondsSince(start) * 1000 < waitMs) {
    auto pids = m.workerPids();
    bool fresh = std::none_of(pids.begin(), pids.end(), [&](pid_t p) { return contains(gone, p); });
    if (pids.size() == count && fresh) return true;
    sleepMs(10);
  }
  return false;
}

// Waits until `pid` (our child, not reaped) has exited: its /proc state turns to Z.
bool waitForZombie(pid_t pid, int waitMs) {
  auto start = Clock::now();
  while (secondsSince(start) * 1000 < waitMs) {
    std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || stat.compare(paren, 3, ") Z") == 0) return true;
    sleepMs(10);
  }
  return false;
}

std::string manifoldCommand(const std::string& args) {
  return binPath("manifold") + " " + args + " 2>&1";
}

}  // namespace

TEST(CoreProcess, ConfiguredNumberOfWorkersAppearAsChildren) {
  for (unsigned workers : {1u, 2u, 3u}) {
    SCOPED_TRACE("workers = " + std::to_string(workers));
    Instance m(httpSite(), "", workers);
    makeSite(m);
    ASSERT_TRUE(m.start()) << m.log();
    EXPECT_EQ(m.workerPids().size(), workers) << m.log();
    EXPECT_EQ(occurrences(m.log(), "started worker "), workers) << m.log();
    for (unsigned i = 0; i < workers; ++i) {
      pid_t pid = lastPidOfIndex(m.log(), i);
      EXPECT_TRUE(contains(m.workerPids(), pid)) << "worker " << i << " pid " << pid;
    }
    EXPECT_EQ(countFailures(m.port("www"), 5), 0);
    EXPECT_EQ(m.stop(), 0) << m.log();
  }
}

TEST(CoreProcess, KilledWorkerIsRespawnedAndServiceContinues) {
  Instance m(httpSite(), "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  auto before = m.workerPids();
  ASSERT_EQ(before.size(), 2u);
  pid_t victim = before[0];
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  auto start = Clock::now();
  ASSERT_TRUE(waitForWorkers(m, 2, {victim}, 1000)) << "no replacement within 1 s\n" << m.log();
  EXPECT_LT(secondsSince(start), 1.0);
  EXPECT_TRUE(contains(m.workerPids(), before[1])) << "the other worker must be left alone";
  EXPECT_TRUE(m.waitForLog("(pid " + std::to_string(victim) + ") killed by signal 9", 1000))
      << m.log();
  EXPECT_EQ(countFailures(port, 30), 0) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreProcess, CrashLoopingWorkerIsNotRespawnedAndOthersKeepServing) {
  Instance m(httpSite(), "crash_loop_limit = 3\ncrash_loop_window = 10s\n", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  pid_t survivor = lastPidOfIndex(m.log(), 1);
  for (int death = 1; death <= 3; ++death) {
    pid_t victim = lastPidOfIndex(m.log(), 0);
    ASSERT_GT(victim, 0);
    ASSERT_EQ(kill(victim, SIGKILL), 0);
    ASSERT_TRUE(m.waitForLog("(pid " + std::to_string(victim) + ") killed by signal 9", 2000))
        << m.log();
    if (death < 3) {
      // Respawned (with back-off) until the limit is reached.
      ASSERT_TRUE(m.waitForLog("started worker 0 ", 3000, death + 1)) << m.log();
    }
  }
  EXPECT_TRUE(m.waitForLog("worker 0 is crash-looping", 2000)) << m.log();
  sleepMs(700);  // longer than any back-off used so far
  std::string log = m.log();
  EXPECT_EQ(occurrences(log, "started worker 0 "), 3u) << "worker 0 must stay down\n" << log;
  auto pids = m.workerPids();
  EXPECT_EQ(pids.size(), 1u);
  EXPECT_TRUE(contains(pids, survivor));
  // Every new connection must be answered by the surviving worker: none may be queued on the
  // dead worker's socket.
  EXPECT_EQ(countFailures(port, 40, 1500), 0) << m.log();
  // A reload brings a full generation back.
  m.signal(SIGHUP);
  EXPECT_TRUE(m.waitForGeneration(2)) << m.log();
  EXPECT_TRUE(m.waitForLog("generation 1 finished", 5000)) << m.log();
  EXPECT_TRUE(waitForWorkers(m, 2, {survivor}, 2000)) << m.log();
  EXPECT_EQ(countFailures(port, 20, 1500), 0) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreProcess, ConfigTestAcceptsAGoodFile) {
  std::string dir = makeTempDir();
  run("mkdir -p " + dir + "/www");
  int port = freePort();  // never bound: -t only reads the file
  std::string good = dir + "/good.ini";
  writeFile(good,
            "[master]\nworkers = 2\npidfile = " + dir +
                "/m.pid\nshm_size = 160M\n"
                "shutdown_timeout = 5s\n\n[http:a]\nlisten = 127.0.0.1:" +
                std::to_string(port) + "\nroot = " + dir +
                "/www\n\n"
                "[http:b]\nlisten = 127.0.0.1:" +
                std::to_string(port) + "\nroot = " + dir +
                "/www\n");  // two virtual hosts on the same address
  int rc = -1;
  std::string out = run(manifoldCommand("-t -c " + good), &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("test is successful"), std::string::npos) << out;
  EXPECT_FALSE(fileExists(dir + "/m.pid")) << "-t must not start anything";
  run("rm -rf " + dir);
}

TEST(CoreProcess, ConfigTestRejectsBadFilesWithFileLineKeyAndWhy) {
  std::string dir = makeTempDir();
  run("mkdir -p " + dir + "/www");
  std::string port = std::to_string(freePort());  // never bound: -t only reads the files
  struct Case {
    const char* name;
    std::string body;
    std::string expect;  // regex searched in the output
  };
  std::vector<Case> cases = {
      {"unknown-key", "[master]\nworkers = 1\nbogus_key = 1\n",
       R"(unknown-key\.ini:3: bogus_key: .*unknown)"},
      {"bad-size", "[master]\nworkers = 1\nshm_size = 12Q\n", R"(bad-size\.ini:3: shm_size: \S.*)"},
      {"unknown-kind", "[master]\nworkers = 1\n\n[nosuch:x]\nlisten = 127.0.0.1:" + port + "\n",
       R"(unknown-kind\.ini:4: .*unknown section kind)"},
      // #11.8: two sites' default 64M xcaches cannot fit in 64M: refused at -t, naming the keys,
      // as the start would refuse it ("shm segment full").
      {"shm-budget",
       "[master]\nworkers = 1\nshm_size = 64M\n\n[http:a]\nlisten = 127.0.0.1:" + port +
           "\nroot = " + dir + "/www\n",
       R"(shm-budget\.ini:3: shm_size: .*\[http:a\] xcache_size 64\.0M)"},
      {"listen-conflict",
       "[master]\nworkers = 1\n\n[http:a]\nlisten = 127.0.0.1:" + port + "\nroot = " + dir +
           "/www\n\n[status:b]\nlisten = 127.0.0.1:" + port + "\n",
       R"(listen-conflict\.ini:9: listen: .*conflict.*127\.0\.0\.1:)" + port},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string file = dir + "/" + c.name + ".ini";
    writeFile(file, c.body);
    int rc = -1;
    std::string out = run(manifoldCommand("-t -c " + file), &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(c.expect)))
        << "expected /" << c.expect << "/ in:\n"
        << out;
    EXPECT_EQ(out.find("test is successful"), std::string::npos) << out;
  }
  run("rm -rf " + dir);
}

TEST(CoreProcess, SignalOptionUsesThePidfile) {
  Instance m(httpSite(), "", 1);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  ASSERT_EQ(readFile(m.path("manifold.pid")), std::to_string(m.pid()) + "\n");
  int rc = -1;
  std::string out = run(manifoldCommand("-s reload -c " + m.configPath()), &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(m.waitForGeneration(2)) << m.log();
  EXPECT_EQ(countFailures(port, 5), 0);
  out = run(manifoldCommand("-s quit -c " + m.configPath()), &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(waitForZombie(m.pid(), 5000)) << m.log();
  EXPECT_NE(m.log().find("graceful stop"), std::string::npos) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
  // Nobody running any more: -s says so and fails.
  out = run(manifoldCommand("-s reload -c " + m.configPath()), &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("manifold.pid"), std::string::npos) << out;
}

TEST(CoreProcess, SecondInstanceWithTheSamePidfileRefusesToStart) {
  Instance m(httpSite(), "", 1);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  Background second(binPath("manifold") + " -c " + m.configPath());
  int status = second.wait(5000);
  ASSERT_NE(status, -1) << "the second instance did not exit\n" << m.log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << "status " << status;
  EXPECT_NE(m.log().find("already running: pid " + std::to_string(m.pid())), std::string::npos)
      << m.log();
  // The first one is untouched: same pidfile, same shm, still serving.
  EXPECT_EQ(readFile(m.path("manifold.pid")), std::to_string(m.pid()) + "\n");
  EXPECT_TRUE(fileExists("/dev/shm/manifold." + m.shmName()));
  EXPECT_EQ(countFailures(port, 5), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreProcess, GarbageShmSegmentIsReplacedAsStale) {
  Instance m(httpSite(), "", 1);
  makeSite(m);
  std::string shmPath = "/dev/shm/manifold." + m.shmName();
  writeFile(shmPath, "this is not a manifold segment");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  EXPECT_NE(m.log().find("stale"), std::string::npos) << m.log();
  EXPECT_EQ(countFailures(port, 5), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
  EXPECT_FALSE(fileExists(shmPath));
}

TEST(CoreProcess, SegmentLeftByAKilledMasterIsReplacedAsStale) {
  Instance m(httpSite(), "", 2);
  makeSite(m);
  std::string shmPath = "/dev/shm/manifold." + m.shmName();
  ASSERT_TRUE(m.start()) << m.log();
  EXPECT_EQ(m.log().find("stale"), std::string::npos) << m.log();
  auto workers = m.workerPids();
  ASSERT_EQ(workers.size(), 2u);
  m.signal(SIGKILL);
  for (pid_t pid : workers) kill(pid, SIGKILL);
  m.stop();                    // reaps the killed master
  for (pid_t pid : workers) {  // wait until they are gone (reparented, reaped by init)
    for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) sleepMs(10);
  }
  ASSERT_TRUE(fileExists(shmPath)) << "a killed master cannot clean up";
  ASSERT_TRUE(fileExists(m.path("manifold.pid")));
  ASSERT_TRUE(m.start()) << m.log();
  ASSERT_TRUE(m.waitForLog("generation 1 ready", 5000, 2)) << m.log();
  EXPECT_TRUE(m.waitForLog("stale", 1000)) << m.log();
  EXPECT_EQ(countFailures(m.port("www"), 10), 0) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreProcess, CleanStopRemovesShmAndPidfile) {
  Instance m(httpSite(), "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  auto workers = m.workerPids();
  EXPECT_TRUE(fileExists("/dev/shm/manifold." + m.shmName()));
  EXPECT_TRUE(fileExists(m.path("manifold.pid")));
  EXPECT_EQ(m.stop(), 0) << m.log();
  EXPECT_FALSE(fileExists("/dev/shm/manifold." + m.shmName()));
  EXPECT_FALSE(fileExists(m.path("manifold.pid")));
  for (pid_t pid : workers)
    EXPECT_NE(kill(pid, 0), 0) << "worker " << pid << " outlived the master";
  EXPECT_EQ(getStatus(port), 0) << "nothing may listen after a stop";
}

TEST(CoreProcess, TermIsAFastStopEvenWithADownloadInFlight) {
  Instance m(httpSite(), "", 2);
  makeSite(m);
  run("truncate -s 64M " + m.path("www/big"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  Background download(
      "curl -s -o /dev/null --limit-rate 1M http://127.0.0.1:" + std::to_string(port) + "/big");
  sleepMs(500);
  ASSERT_EQ(download.wait(0), -1) << "the download must still be in flight";
  auto start = Clock::now();
  m.signal(SIGTERM);
  EXPECT_TRUE(waitForZombie(m.pid(), 5000)) << m.log();
  double elapsed = secondsSince(start);
  int status = m.stop(3000);  // reaps it (the QUIT it sends is too late to matter)
  EXPECT_EQ(status, 0) << m.log();
  EXPECT_LT(elapsed, 3.0) << m.log();
  std::string log = m.log();
  EXPECT_NE(log.find("fast stop"), std::string::npos) << log;
  // The busy worker was terminated, not drained (QUIT would wait for the 64 s download).
  EXPECT_NE(log.find("killed by signal 15"), std::string::npos) << log;
  EXPECT_EQ(log.find("gracefully stopping"), std::string::npos) << log;
  EXPECT_FALSE(fileExists("/dev/shm/manifold." + m.shmName()));
  EXPECT_FALSE(fileExists(m.path("manifold.pid")));
  // (Whether curl notices at once depends on how much the loopback buffers still hold; it is
  // killed by pid when `download` goes out of scope.)
}

TEST(CoreProcess, Usr1ReopensTheErrorLog) {
  Instance m(httpSite(), "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  std::string logPath = m.path("error.log");
  ASSERT_EQ(rename(logPath.c_str(), (logPath + ".1").c_str()), 0);
  m.signal(SIGUSR1);
  // The master writes "reopening logs" to the old file, then opens the new one.
  for (int i = 0; i < 200 && readFile(logPath + ".1").find("reopening logs") == std::string::npos;
       ++i)
    sleepMs(10);
  ASSERT_NE(readFile(logPath + ".1").find("reopening logs"), std::string::npos);
  auto oldWorkers = m.workerPids();
  sleepMs(200);  // let the workers handle their 'L' too
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << readFile(logPath + ".1");
  // The new file holds the master's reload lines and the old workers' drain lines.
  EXPECT_TRUE(m.waitForLog("reloading configuration", 1000)) << m.log();
  std::string masterTag = std::to_string(m.pid()) + "#master";
  EXPECT_NE(m.log().find(masterTag), std::string::npos) << m.log();
  for (pid_t pid : oldWorkers)
    EXPECT_TRUE(m.waitForLog(std::to_string(pid) + "#worker", 3000))
        << "old worker " << pid << " kept writing to the renamed file\n"
        << m.log();
  EXPECT_EQ(readFile(logPath + ".1").find("reloading configuration"), std::string::npos);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
