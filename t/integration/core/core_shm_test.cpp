// Tier: end-to-end, shared memory — bin/manifold-shm reads the live segment (workers and moving
// counters), fails clearly for an unknown instance, and a worker killed mid-traffic (possibly
// holding a shm lock) does not wedge the others.
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

constexpr int kFiles = 300;

// makeSite, and many small files: requests for them keep inserting into the shared file cache.
void makeSiteWithFiles(const Instance& m) {
  makeSite(m);
  for (int i = 0; i < kFiles; ++i)
    writeFile(m.path("www/f" + std::to_string(i)), std::string(100 + i, 'a' + i % 26));
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

}  // namespace

TEST(CoreShm, ToolListsWorkersAndCountersMove) {
  ASSERT_TRUE(haveShmTool()) << "bin/manifold-shm is not built (make all)";
  Instance m(httpSite(), "", 3);
  makeSiteWithFiles(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
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
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  ASSERT_TRUE(m.waitForLog("generation 1 finished", 5000)) << m.log();
  std::string reloaded = shmJson(m, &rc);
  pids = m.workerPids();
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(jsonWorkerPids(reloaded), pids) << reloaded;
  EXPECT_NE(reloaded.find("\"generation\":2"), std::string::npos) << reloaded;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CoreShm, ToolFailsClearlyForAnUnknownInstance) {
  ASSERT_TRUE(haveShmTool()) << "bin/manifold-shm is not built (make all)";
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
  Instance m(httpSite(), "", 2);
  makeSiteWithFiles(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  std::string script = m.path("paths.lua");
  writeFile(script,
            "counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            "  return wrk.format(\"GET\", \"/f\" .. (counter % " +
                std::to_string(kFiles) +
                "))\n"
                "end\n");
  std::vector<pid_t> killed;
  {
    Background load("wrk -t2 -c16 -d4s -s " + script + " http://127.0.0.1:" + std::to_string(port) +
                    "/ > /dev/null 2>&1");
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
