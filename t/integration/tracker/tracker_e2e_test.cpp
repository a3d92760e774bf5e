// Tier: end-to-end with real clients — Debian's transmission-cli seeds a file, aria2c (with DHT,
// local peer discovery and peer exchange off, so the tracker is its only source of peers)
// downloads it through a Manifold tracker, and the bytes must match. Both clients announce
// over HTTP.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/lib/harness.hpp"

extern char** environ;

using namespace manifold::testing;

namespace {

// Starts argv in the background with stdout/stderr to logPath; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& logPath) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

void reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

bool installed(const std::string& tool) {
  int rc = 0;
  run("command -v " + tool + " >/dev/null 2>&1", &rc);
  return rc == 0;
}

}  // namespace

TEST(TrackerEndToEnd, TransmissionSeedsAria2Downloads) {
  for (const char* tool :
       {"transmission-create", "transmission-cli", "transmission-show", "aria2c"})
    ASSERT_TRUE(installed(tool)) << tool << " missing: apt-get install transmission-cli aria2";
  // The peers' own ports are theirs to bind: those stay freePort().
  const int seedPort = freePort(), getPort = freePort();
  Instance m("[tracker:t]\nlisten = 127.0.0.1:{port:t}\nhttp = on\nudp = off\n");
  run("mkdir -p " + m.path("seed") + " " + m.path("get") + " " + m.path("cfg"));
  run("head -c 1500000 /dev/urandom > " + m.path("seed/data.bin"));
  // Keep transmission's discovery off too: the tracker must be how the peers meet.
  writeFile(m.path("cfg/settings.json"),
            "{\"dht-enabled\": false, \"lpd-enabled\": false, \"pex-enabled\": false,"
            " \"port-forwarding-enabled\": false, \"peer-port\": " +
                std::to_string(seedPort) + "}\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("t");
  const std::string torrent = m.path("data.torrent");
  int rc = 0;
  run("transmission-create -o " + torrent + " -s 32 -t http://127.0.0.1:" + std::to_string(port) +
          "/announce " + m.path("seed/data.bin") + " 2>&1",
      &rc);
  ASSERT_EQ(rc, 0);
  std::string hash = run("transmission-show " + torrent + " | awk '/Hash:/{print $2}'");
  while (!hash.empty() && hash.back() == '\n') hash.pop_back();
  ASSERT_EQ(hash.size(), 40u);

  pid_t seeder = spawn({"transmission-cli", "-w", m.path("seed"), "-g", m.path("cfg"), "-p",
                        std::to_string(seedPort), torrent},
                       m.path("seed.log"));
  ASSERT_GT(seeder, 0);
  // Wait until the seeder has announced itself.
  bool seeded = false;
  for (int i = 0; i < 200 && !seeded; ++i) {
    seeded = curl(port, "/swarm?info_hash=" + hash).body.find("seeders 1") != std::string::npos;
    if (!seeded) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!seeded) {
    reap(seeder);
    FAIL() << "transmission never announced\n" << readFile(m.path("seed.log"));
  }
  std::string out =
      run("timeout 60 aria2c --dir=" + m.path("get") +
              " --seed-time=0 --enable-dht=false --enable-dht6=false --bt-enable-lpd=false"
              " --enable-peer-exchange=false --listen-port=" +
              std::to_string(getPort) + " --summary-interval=0 --console-log-level=warn " +
              torrent + " 2>&1",
          &rc);
  reap(seeder);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(readFile(m.path("get/data.bin")), readFile(m.path("seed/data.bin")));
  std::string swarm = curl(port, "/swarm?info_hash=" + hash).body;
  // aria2c said "stopped" when it left (whether it also sent "completed" depends on timing).
  EXPECT_NE(swarm.find("seeders 1\nleechers 0\n"), std::string::npos) << swarm;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
