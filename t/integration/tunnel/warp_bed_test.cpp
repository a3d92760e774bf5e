// mode = warp end to end: two Manifold instances, one in each outer namespace of a test bed
// (t/integration/tunnel/bed.hpp) whose emulator drops 5% of the frames each way, with 20 ms
// one-way delay and a 20 Mbit/s limit. A file crosses the tunnel over TCP and must arrive
// whole (same size, same SHA-256), although the link lost hundreds of its frames.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "t/integration/tunnel/bed.hpp"

using namespace manifold::testing;

namespace {

// One tunnel end: manifold -c INI inside a namespace, stopped with SIGTERM (the master then
// stops its workers and removes its shm) when the test ends.
class TunnelEnd {
 public:
  TunnelEnd(const Bed& bed, const std::string& side, const std::string& ini, const std::string& log)
      : process_(bed.exec(side, binPath("manifold") + " -c " + ini), log) {}
  ~TunnelEnd() {
    if (process_.running()) kill(process_.pid(), SIGTERM);
    process_.wait(10000);
  }
  bool running() { return process_.running(); }

 private:
  Background process_;
};

std::string tunnelIni(const std::string& dir, const std::string& side, const std::string& peerKey,
                      const std::string& outer, const std::string& peerOuter,
                      const std::string& inner, const std::string& peerInner) {
  return "[master]\nworkers = 2\npidfile = " + dir + "/" + side + ".pid\nshm_name = warpbed-" +
         side + std::to_string(getpid()) + "\nshm_size = 16M\nerror_log = " + dir + "/" + side +
         ".log\n\n[tunnel:site]\nlisten = " + outer + ":51900\nprivate_key = " + dir + "/" + side +
         ".key\npeer = " + peerKey + " endpoint=" + peerOuter + ":51900 allowed=" + peerInner +
         "/32\ndevice = mf0\naddress = " + inner + "/24\nmtu = 1400\nmode = warp\n";
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TEST(TunnelWarp, FileCrossesAFivePercentLossLinkIntact) {
  Bed bed("wp", "--delay 20 --loss 5 --rate 20 --seed 3");
  ASSERT_TRUE(bed.up());
  std::string dir = makeTempDir();
  std::string tool = binPath("manifold-tunnel");
  run(tool + " genkey > " + dir + "/a.key && " + tool + " genkey > " + dir + "/b.key");
  std::string pubA = trim(run(tool + " pubkey < " + dir + "/a.key"));
  std::string pubB = trim(run(tool + " pubkey < " + dir + "/b.key"));
  ASSERT_EQ(pubA.size(), 44u);
  writeFile(dir + "/a.ini",
            tunnelIni(dir, "a", pubB, "10.201.0.1", "10.201.0.2", "10.99.0.1", "10.99.0.2"));
  writeFile(dir + "/b.ini",
            tunnelIni(dir, "b", pubA, "10.201.0.2", "10.201.0.1", "10.99.0.2", "10.99.0.1"));
  TunnelEnd a(bed, "a", dir + "/a.ini", dir + "/a.out");
  TunnelEnd b(bed, "b", dir + "/b.ini", dir + "/b.out");

  // The inner addresses appear once each master has made its device.
  bool devices = false;
  for (int i = 0; i < 100 && !devices; ++i) {
    sleepMs(100);
    devices = run(bed.exec("a", "ip addr show mf0 2>/dev/null")).find("10.99.0.1/24") !=
                  std::string::npos &&
              run(bed.exec("b", "ip addr show mf0 2>/dev/null")).find("10.99.0.2/24") !=
                  std::string::npos;
  }
  ASSERT_TRUE(devices) << readFile(dir + "/a.log") << readFile(dir + "/b.log");

  // 8 MiB of random bytes over TCP, A to B, through the tunnel.
  writeFile(dir + "/recv.py",
            "import hashlib, socket\n"
            "s = socket.socket()\n"
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind(('10.99.0.2', 9000)); s.listen(1)\n"
            "print('listening', flush=True)\n"
            "c, _ = s.accept(); h = hashlib.sha256(); n = 0\n"
            "while True:\n"
            "    b = c.recv(1 << 16)\n"
            "    if not b: break\n"
            "    h.update(b); n += len(b)\n"
            "print(n, h.hexdigest(), flush=True)\n");
  writeFile(
      dir + "/send.py",
      "import socket, sys, time\n"
      "data = open(sys.argv[1], 'rb').read()\n"
      "for _ in range(100):\n"
      "    try:\n"
      "        c = socket.create_connection(('10.99.0.2', 9000), timeout=5); break\n"
      "    except OSError: time.sleep(0.2)\n"
      "c.settimeout(60); c.sendall(data); c.shutdown(socket.SHUT_WR); c.recv(1); c.close()\n");
  run("head -c 8388608 /dev/urandom > " + dir + "/file");
  std::string want = run("sha256sum " + dir + "/file | cut -d' ' -f1");
  Background receiver(bed.exec("b", "python3 " + dir + "/recv.py"), dir + "/recv.out");
  for (int i = 0; i < 50 && readFile(dir + "/recv.out").find("listening") == std::string::npos; ++i)
    sleepMs(100);
  auto start = Clock::now();
  int rc = 0;
  std::string out = run(bed.exec("a", "python3 " + dir + "/send.py " + dir + "/file 2>&1"), &rc);
  EXPECT_EQ(rc, 0) << out;
  ASSERT_EQ(receiver.wait(30000), 0);
  double seconds = secondsSince(start);
  std::string got = readFile(dir + "/recv.out");
  EXPECT_NE(got.find("8388608 " + trim(want)), std::string::npos)
      << "received: " << got << " want: " << want;
  // The link really lost frames both ways, and the tunnel still carried 8 MiB in well under the
  // time a plain TCP flow needs at 5% loss (which collapses to a few hundred kbit/s).
  std::string stats = bed.stats();
  auto lost = [&](const std::string& dir) {
    size_t at = stats.find(dir);
    size_t l = stats.find("lost ", at);
    return at == std::string::npos || l == std::string::npos ? 0 : std::stol(stats.substr(l + 5));
  };
  EXPECT_GT(lost("a->b"), 200) << stats;
  EXPECT_GT(lost("b->a"), 20) << stats;
  EXPECT_LT(seconds, 25.0);
  std::printf("8 MiB through warp at 5%% loss in %.1f s (%.1f Mbit/s)\n%s", seconds,
              8 * 8.388608 / seconds, stats.c_str());
  EXPECT_TRUE(a.running());
  EXPECT_TRUE(b.running());
  run("rm -rf " + dir);
}
