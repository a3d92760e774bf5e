// Tier: end-to-end smoke — the binary starts, serves a file, and stops cleanly; the harness
// gets a new port when the one it picked is taken before the master binds it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

TEST(Smoke, ServesAFileAndStopsCleanly) {
  Instance m("[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}/www\n");
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/hello.txt"), "hello\n");
  ASSERT_TRUE(m.start()) << m.log();
  auto response = curl(m.port("www"), "/hello.txt");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello\n");
  EXPECT_EQ(m.workerPids().size(), 2u);
  EXPECT_EQ(m.stop(), 0) << m.log();
  EXPECT_FALSE(fileExists("/dev/shm/manifold." + m.shmName()));
}

// Another process takes the picked port between the pick and the master's bind (the race a
// released port 0 always has): start() picks again and the test reads the new port back.
TEST(Smoke, StartRetriesOnAnotherPortWhenThePickedOneIsTaken) {
  Instance m("[http:www]\nlisten = 127.0.0.1:{port:www}\nroot = {dir}/www\n");
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/hello.txt"), "hello\n");
  const int taken = m.port("www");
  ASSERT_GT(taken, 0);
  int squatter = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(taken));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(squatter, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(squatter, 1), 0);
  ASSERT_TRUE(m.start()) << m.log();
  EXPECT_NE(m.port("www"), taken);
  EXPECT_EQ(curl(m.port("www"), "/hello.txt").body, "hello\n");
  EXPECT_EQ(m.stop(), 0) << m.log();
  close(squatter);
}
