// Tier: integration — WebDAV defects an adversarial review found (issue #11 points 2, 3, 7, 9),
// against the real server: disk reserved before the body, partial PUT, writes through symlinks,
// over-long names and what they do to the log.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {
// Bytes of disk held by every unnamed upload file (O_TMPFILE, "/#NNN (deleted)") the given
// processes have open.
uint64_t uploadBlocks(const std::vector<pid_t>& pids) {
  uint64_t bytes = 0;
  for (pid_t pid : pids) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      std::string fd = dir + "/" + e->d_name;
      char target[512];
      ssize_t n = readlink(fd.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = 0;
      if (std::string(target).find("(deleted)") == std::string::npos) continue;
      struct stat st {};
      if (stat(fd.c_str(), &st) == 0 && S_ISREG(st.st_mode)) bytes += uint64_t(st.st_blocks) * 512;
    }
    closedir(d);
  }
  return bytes;
}
}  // namespace

class HttpWebdavHardening : public ::testing::Test {
 protected:
  void SetUp() override {
    port = freePort();
    m = std::make_unique<Instance>(
        httpSection("dav", port, "{dir}/www",
                    "webdav = on\nclient_max_body_size = 1G\nclient_body_timeout = 1s\n"
                    "client_body_min_rate = 1k\nupload_reserve_max = 8M"));
    run("mkdir -p " + m->path("www/dir") + " " + m->path("outside"));
    writeFile(m->path("www/existing.txt"), "old content\n");
    writeFile(m->path("outside/victim.txt"), "keep me\n");
    ASSERT_EQ(symlink(m->path("outside").c_str(), m->path("www/escape").c_str()), 0);
    ASSERT_TRUE(m->start()) << m->log();
  }
  std::unique_ptr<Instance> m;
  int port = 0;
};

// #2: headers announcing a large body reserve at most one step each, not the whole length.
TEST_F(HttpWebdavHardening, ReservationFollowsTheBodyNotTheAnnouncedLength) {
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<RawClient>(port));
    ASSERT_TRUE(clients.back()->send(
        "PUT /big" + str(i) + ".bin HTTP/1.1\r\nHost: x\r\nContent-Length: 268435456\r\n\r\n" +
        std::string(1000, 'x')));
  }
  sleepMs(300);
  const uint64_t held = uploadBlocks(m->workerPids());
  // Old code: 4 x 256 MiB. Now: at most one 1 MiB step each (and the 8M instance cap).
  EXPECT_LE(held, 4ull * (1 << 20) + (1 << 20)) << held;
}

// #2: a body dribbled a byte at a time is cut off once it falls below client_body_min_rate after
// client_body_timeout's grace, even though no single gap reaches the idle timeout.
TEST_F(HttpWebdavHardening, DribbledBodyIsCutOff) {
  RawClient c(port);
  ASSERT_TRUE(c.send("PUT /slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  auto start = Clock::now();
  bool closed = false;
  while (msSince(start) < 6000 && !closed) {
    if (!c.send("x")) closed = true;
    int r = c.readSome(300);
    if (r == 0 || r == -2 || c.buffer().find(" 408 ") != std::string::npos) closed = true;
  }
  EXPECT_TRUE(closed) << "a 3-bytes-a-second body still open after 6 s";
  EXPECT_FALSE(fileExists(m->path("www/slow.bin")));
}

// #3: a PUT with Content-Range is refused (RFC 9110 14.5), and the file is left alone.
TEST_F(HttpWebdavHardening, PartialPutIsRefused) {
  Reply r = one(port,
                "PUT /existing.txt HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-1/12\r\n"
                "Content-Length: 2\r\nConnection: close\r\n\r\nXY");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(readFile(m->path("www/existing.txt")), "old content\n");
}

// #7: writes never follow a symlink out of the root (reads may: follow_symlinks = on).
TEST_F(HttpWebdavHardening, WritesStayBeneathTheRoot) {
  EXPECT_EQ(one(port, getClose("/escape/victim.txt")).status, 200);  // reading is allowed
  Reply put = one(port,
                  "PUT /escape/new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  "Connection: close\r\n\r\nabc");
  EXPECT_EQ(put.status, 403);
  EXPECT_FALSE(fileExists(m->path("outside/new.txt")));
  Reply del =
      one(port, "DELETE /escape/victim.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(del.status, 403);
  EXPECT_TRUE(fileExists(m->path("outside/victim.txt")));
  Reply mk = one(port, "MKCOL /escape/sub HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(mk.status, 403);
  EXPECT_FALSE(fileExists(m->path("outside/sub")));
  // Inside the root writes still work.
  Reply ok = one(port,
                 "PUT /dir/in.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                 "Connection: close\r\n\r\nok");
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(readFile(m->path("www/dir/in.txt")), "ok");
}

// #9: a name longer than NAME_MAX is 414 and never written to the log whole.
TEST_F(HttpWebdavHardening, OverlongNameIs414AndNotLogged) {
  const std::string name(300, 'n');
  for (int i = 0; i < 3; ++i) {
    Reply r = one(port, "PUT /" + name +
                            " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                            "Connection: close\r\n\r\nx");
    EXPECT_EQ(r.status, 414);
  }
  EXPECT_EQ(m->log().find(name), std::string::npos);
}
