// Tier: end-to-end, shared memory — bin/manifold-shm reads the live segment (workers and moving
// counters), fails clearly for an unknown instance, and a worker killed mid-traffic (possibly
// holding a shm lock) does not wedge the others.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/harness.hpp"

using namespace manifold::testing;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

constexpr int kFiles = 300;

std::string httpSite(int port) {
  return "[http:www]\nlisten = 127.0.0.1:" + std::to_string(port) + "\nroot = {dir}/www\n";
}

void makeSite(const Instance& m) {
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/file"), "hello from manifold\n");
  // Many small files: requests for them keep inserting into the shared file cache.
  for (int i = 0; i < kFiles; ++i)
    writeFile(m.path("www/f" + std::to_string(i)), std::string(100 + i, 'a' + i % 26));
}

int getStatus(int port, const std::string& path = "/file", int timeoutMs = 2000) {
  std::string response = rawExchange(
      port, "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", timeoutMs);
  int status = 0;
  if (sscanf(response.c_str(), "HTTP/1.%*d %d", &status) != 1) return 0;
  return status;
}

bool haveShmTool() { return access(binPath("manifold-shm").c_str(), X_OK) == 0; }

std::string shmJson(const Instance& m, int* rc) {
  return run(binPath("manifold-shm") + " -c " + m.configPath() + " --json", rc);
}

// The "pid" values of the "workers" array of a manifold-shm --json document.
std::vector<pid_t> jsonWorkerPids(const std::string& json) {
  std::vector<pid_t> pids;
  size_t begin = json.find("\"workers\":[");
  if (begin == std::string::npos) return pids;
  size_t end = json.find(']', begin);
  std::string workers = json.substr(begin, end - begin);
  static const std::regex pid("\"pid\":(\\d+)");
  for (std::sregex_iterator it(workers.begin(), workers.end(), pid), stop; it != stop; ++it)
    pids.push_back(std::stoi((*it)[1]));
  std::sort(pids.begin(), pids.end());
  return pids;
}

long long jsonCounter(const std::string& json, const std::string& title, const std::string& name) {
  size_t at = json.find("\"title\":\"" + title + "\"");
  if (at == std::string::npos) return -1;
  std::smatch match;
  std::string rest = json.substr(at);
  if (!std::regex_search(rest, match, std::regex("\"" + name + "\":(\\d+)"))) return -1;
  return std::stoll(match[1]);
}

class Background {
 public:
  explicit Background(const std::string& command) {
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + command + " > /dev/null 2>&1").c_str(), nullptr);
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace

TEST(CoreShm, ToolListsWorkersAndCountersMove) {
  if (!haveShmTool()) GTEST_SKIP() << "bin/manifold-shm is not built yet";
  int port = freePort();
  Instance m(httpSite(port), "", 3);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  int rc = -1;
  std::string before = shmJson(m, &rc);
  ASSERT_EQ(rc, 0) << before;
  auto pids = m.workerPids();
  std::sort(pids.begin(), pids.end());
  ASSERT_EQ(pids.size(), 3u);
  EXPECT_EQ(jsonWorkerPids(before), pids) << before;
  long long requestsBefore = jsonCounter(before, "http:www", "requests");
  ASSERT_GE(requestsBefore, 0) << before;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(getStatus(port), 200);
  std::string after = shmJson(m, &rc);
  ASSERT_EQ(rc, 0) << after;
  EXPECT_GE(jsonCounter(after, "http:www", "requests"), requestsBefore + 20) << after;
  EXPECT_GE(jsonCounter(after, "http:www", "responses_2xx"), 20) << after;
  // After a reload the tool follows the new generation's workers.
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForLog("generation 2 ready", 5000)) << m.log();
  ASSERT_TRUE(m.waitForLog("generation 1 finished", 5000)) << m.log();
  std::string reloaded = shmJson(m, &rc);
  pids = m.workerPids();
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(jsonWorkerPids(reloaded), pids) << reloaded;
  EXPECT_NE(reloaded.find("\"generation\":2"), std::string::npos) << reloaded;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreShm, ToolFailsClearlyForAnUnknownInstance) {
  if (!haveShmTool()) GTEST_SKIP() << "bin/manifold-shm is not built yet";
  int rc = 0;
  std::string out = run(binPath("manifold-shm") + " -n doesnotexist 2>&1", &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("doesnotexist"), std::string::npos) << out;
  EXPECT_NE(out.find("manifold-shm:"), std::string::npos) << out;
}

// Workers share the file cache through locked shm tables; SIGKILL in the middle of traffic can
// land while one holds a stripe lock. The others must carry on (robust locks), and so must the
// respawned worker.
TEST(CoreShm, WorkerKilledUnderTrafficDoesNotWedgeTheOthers) {
  int port = freePort();
  Instance m(httpSite(port), "", 2);
  makeSite(m);
  ASSERT_TRUE(m.start()) << m.log();
  std::string script = m.path("paths.lua");
  writeFile(script,
            "counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            "  return wrk.format(\"GET\", \"/f\" .. (counter % " + std::to_string(kFiles) + "))\n"
            "end\n");
  std::vector<pid_t> killed;
  {
    Background load("wrk -t2 -c16 -d4s -s " + script + " http://127.0.0.1:" + std::to_string(port) +
                    "/");
    sleepMs(500);
    // Kill whichever worker serves, three times, while the load runs.
    for (int round = 0; round < 3; ++round) {
      auto pids = m.workerPids();
      ASSERT_FALSE(pids.empty()) << m.log();
      pid_t victim = pids[round % pids.size()];
      kill(victim, SIGKILL);
      killed.push_back(victim);
      sleepMs(400);
    }
  }  // the load generator is killed here
  // Every worker is back (respawned), and for two seconds every request is answered.
  for (int i = 0; i < 100 && m.workerPids().size() != 2; ++i) sleepMs(10);
  auto pids = m.workerPids();
  ASSERT_EQ(pids.size(), 2u) << m.log();
  for (pid_t pid : killed) EXPECT_EQ(std::count(pids.begin(), pids.end(), pid), 0);
  auto start = Clock::now();
  int requests = 0, failures = 0;
  while (secondsSince(start) < 2.0) {
    std::string path = "/f" + std::to_string(requests % kFiles);
    if (getStatus(port, path, 1500) != 200) ++failures;
    ++requests;
  }
  EXPECT_EQ(failures, 0) << "of " << requests << "\n" << m.log();
  EXPECT_GT(requests, 50);
  EXPECT_EQ(m.log().find("crash-looping"), std::string::npos) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}
