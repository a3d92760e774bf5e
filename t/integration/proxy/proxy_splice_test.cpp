// Tier: end-to-end — large Content-Length bodies relayed with splice(2) (protocols/proxy/
// splice_body.hpp): byte-identical whole and in ranges, keep-alive kept on both sides, HEAD and
// HTTP/1.0, and a client that stops reading dropped after send_timeout without harm to others.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

long long shmCounter(const Instance& m, const std::string& title, const std::string& name) {
  return jsonCounter(run(binPath("manifold-shm") + " -n " + m.shmName() + " --json"), title, name);
}

std::string edgeSection(const std::string& extra = "") {
  return "[proxy:edge]\nlisten = 127.0.0.1:{port:edge}\nbackend = 127.0.0.1:{port:origin}\n" +
         extra + "\n";
}

}  // namespace

TEST(ProxySplice, LargeBodiesByteIdenticalWholeAndInRangesOnKeptAliveConnections) {
  Instance m(httpSection("origin", "{dir}/www") + edgeSection(), "", 1);
  run("mkdir -p " + m.path("www"));
  const std::string big = pattern((3 << 20) + 123, 11);
  writeFile(m.path("www/big.bin"), big);
  writeFile(m.path("www/small.txt"), "small\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int edge = m.port("edge");

  RawClient client(edge);
  for (int i = 0; i < 3; ++i) {
    Reply whole = client.exchange(get("/big.bin"));
    EXPECT_EQ(whole.status, 200);
    EXPECT_EQ(whole.body.size(), big.size());
    EXPECT_TRUE(whole.body == big) << "whole body differs, round " << i;
    Reply range = client.exchange(get("/big.bin", "Range: bytes=100000-2000000\r\n"));
    EXPECT_EQ(range.status, 206);
    EXPECT_TRUE(range.body == big.substr(100000, 1900001)) << "range differs, round " << i;
    Reply tail = client.exchange(get("/big.bin", "Range: bytes=-70000\r\n"));
    EXPECT_EQ(tail.status, 206);
    EXPECT_TRUE(tail.body == big.substr(big.size() - 70000)) << "suffix range differs";
    Reply small = client.exchange(get("/small.txt"));  // the buffer path, same connections
    EXPECT_EQ(small.status, 200);
    EXPECT_EQ(small.body, "small\n");
  }
  Reply head = client.exchange("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), str(big.size()));
  Reply old = one(edge, "GET /big.bin HTTP/1.0\r\n\r\n", false, 10000);
  EXPECT_EQ(old.status, 200);
  EXPECT_TRUE(old.body == big) << "HTTP/1.0 body differs";

  EXPECT_GE(shmCounter(m, "proxy:edge", "upstream_spliced"), 10);
  // The 13 requests of the kept-alive client used one upstream connection, and one more for
  // the HTTP/1.0 client at most: a spliced body leaves the connection reusable.
  EXPECT_LE(shmCounter(m, "proxy:edge", "upstream_connects"), 2);
  EXPECT_EQ(shmCounter(m, "proxy:edge", "proxy_cut"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(ProxySplice, ClientThatStopsReadingIsDroppedAfterSendTimeout) {
  Instance m(httpSection("origin", "{dir}/www") + edgeSection("send_timeout = 1s\n"), "", 1);
  run("mkdir -p " + m.path("www"));
  const std::string big = pattern(64 << 20, 12);
  writeFile(m.path("www/big.bin"), big);
  ASSERT_TRUE(m.start()) << m.log();
  const int edge = m.port("edge");

  RawClient stalled(edge, 4096);
  ASSERT_TRUE(stalled.send(get("/big.bin")));
  // Another client is served in full meanwhile.
  std::string out = m.path("got.bin");
  run("curl -s -o " + out + " http://127.0.0.1:" + str(edge) + "/big.bin");
  EXPECT_EQ(sha256(out), sha256(m.path("www/big.bin")));
  // The stalled one is cut once send_timeout passed without progress (generous bound).
  for (int i = 0; i < 100 && shmCounter(m, "proxy:edge", "proxy_cut") < 1; ++i) sleepMs(100);
  EXPECT_EQ(shmCounter(m, "proxy:edge", "proxy_cut"), 1);
  EXPECT_EQ(shmCounter(m, "proxy:edge", "upstream_active"), 0);
  EXPECT_TRUE(stalled.waitClosed(10000));
  EXPECT_LT(stalled.buffer().size(), big.size());
  EXPECT_GE(shmCounter(m, "proxy:edge", "upstream_spliced"), 2);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(ProxySplice, OffRelaysTheSameBytesThroughBuffers) {
  Instance m(httpSection("origin", "{dir}/www") + edgeSection("upstream_splice = off\n"), "", 1);
  run("mkdir -p " + m.path("www"));
  const std::string big = pattern((2 << 20) + 5, 13);
  writeFile(m.path("www/big.bin"), big);
  ASSERT_TRUE(m.start()) << m.log();
  RawClient client(m.port("edge"));
  Reply whole = client.exchange(get("/big.bin"));
  EXPECT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == big);
  Reply range = client.exchange(get("/big.bin", "Range: bytes=70000-\r\n"));
  EXPECT_EQ(range.status, 206);
  EXPECT_TRUE(range.body == big.substr(70000));
  EXPECT_EQ(shmCounter(m, "proxy:edge", "upstream_spliced"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
