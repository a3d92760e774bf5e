// Tier: end-to-end — process settings the master applies to its workers: privilege drop after
// binding, CPU affinity. Run as root (CI and developers are root here); skipped otherwise.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

std::string statusField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  return "";
}

std::string firstNumber(const std::string& text) {
  size_t start = text.find_first_of("0123456789");
  size_t end = text.find_first_not_of("0123456789", start);
  return start == std::string::npos ? "" : text.substr(start, end - start);
}

}  // namespace

TEST(CorePrivileges, WorkersDropToTheConfiguredUserAfterBinding) {
  ASSERT_EQ(geteuid(), 0u) << "needs root to drop privileges (make test runs as root)";
  passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  Instance m("[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}/www\n", "user = nobody\n", 2);
  run("mkdir -p " + m.path("www") + " && chmod 755 " + m.dir() + " " + m.path("www"));
  writeFile(m.path("www/hello.txt"), "hello\n");
  run("chmod 644 " + m.path("www/hello.txt"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  // The master keeps its identity (it may need to bind again on reload); workers do not.
  EXPECT_EQ(firstNumber(statusField(m.pid(), "Uid")), "0");
  auto workers = m.workerPids();
  ASSERT_EQ(workers.size(), 2u);
  for (pid_t worker : workers) {
    EXPECT_EQ(firstNumber(statusField(worker, "Uid")), std::to_string(nobody->pw_uid));
    EXPECT_EQ(firstNumber(statusField(worker, "Gid")), std::to_string(nobody->pw_gid));
  }
  EXPECT_EQ(curl(port, "/hello.txt").body, "hello\n");
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(CorePrivileges, UnknownUserIsReportedAndTheInstanceDoesNotStart) {
  ASSERT_EQ(geteuid(), 0u) << "needs root to drop privileges (make test runs as root)";
  Instance m("[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}\n",
             "user = no-such-user-here\n", 1);
  EXPECT_FALSE(m.start(3000));
  EXPECT_NE(m.log().find("user \"no-such-user-here\" not found"), std::string::npos) << m.log();
}

TEST(CorePrivileges, CpuAffinityPinsEachWorkerToItsCpu) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  Instance m("[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}\n", "cpu_affinity = on\n", 2);
  ASSERT_TRUE(m.start()) << m.log();
  std::set<std::string> allowed;
  for (pid_t worker : m.workerPids()) {
    std::string list = statusField(worker, "Cpus_allowed_list");
    list.erase(0, list.find_first_not_of(" \t"));
    allowed.insert(list);
  }
  // Worker i runs on CPU i mod cpus: with 2 workers and 2+ CPUs, "0" and "1".
  if (cpus >= 2) {
    EXPECT_EQ(allowed, (std::set<std::string>{"0", "1"}));
  } else {
    EXPECT_EQ(allowed, (std::set<std::string>{"0"}));
  }
  EXPECT_EQ(m.stop(), 0) << m.log();
}
