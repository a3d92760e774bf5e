// Tier: end-to-end — log files that workers append to live where only root may write (issue
// #11.10): the master creates them and gives them to the worker user, at start and before the
// workers reopen them after a rotation (USR1), as nginx's master does. Needs root, as CI runs.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {
bool waitForContent(const std::string& path, const std::string& needle, int waitMs) {
  auto start = Clock::now();
  while (msSince(start) < waitMs) {
    if (fileExists(path) && readFile(path).find(needle) != std::string::npos) return true;
    sleepMs(100);
  }
  return false;
}
}  // namespace

TEST(CoreLogFiles, AccessLogInARootOnlyDirectoryAndRotated) {
  ASSERT_EQ(geteuid(), 0u) << "needs root to drop privileges (make test runs as root)";
  passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  int port = freePort();
  Instance m("[http:www]\nlisten = 127.0.0.1:" + std::to_string(port) +
                 "\nroot = {dir}/www\naccess_log = {dir}/logs/access.log\n",
             "user = nobody\n", 2);
  run("mkdir -p " + m.path("www") + " " + m.path("logs") + " && chmod 755 " + m.dir() + " " +
      m.path("www") + " " + m.path("logs"));  // logs/: root's, not writable by nobody
  writeFile(m.path("www/hello.txt"), "hello\n");
  run("chmod 644 " + m.path("www/hello.txt"));
  ASSERT_TRUE(m.start()) << m.log();
  EXPECT_EQ(curl(port, "/hello.txt?first").status, 200);
  EXPECT_TRUE(waitForContent(m.path("logs/access.log"), "GET /hello.txt?first", 4000)) << m.log();
  struct stat st {};
  ASSERT_EQ(stat(m.path("logs/access.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid);

  // Rotation: move the file away, USR1; the new file is created and written.
  ASSERT_EQ(rename(m.path("logs/access.log").c_str(), m.path("logs/access.log.1").c_str()), 0);
  m.signal(SIGUSR1);
  sleepMs(500);
  EXPECT_EQ(curl(port, "/hello.txt?second").status, 200);
  EXPECT_TRUE(waitForContent(m.path("logs/access.log"), "GET /hello.txt?second", 4000)) << m.log();
  EXPECT_EQ(readFile(m.path("logs/access.log.1")).find("second"), std::string::npos);
  EXPECT_EQ(m.log().find("reopen access_log"), std::string::npos) << m.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}
