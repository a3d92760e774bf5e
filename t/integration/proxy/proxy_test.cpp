// Tier: end-to-end — [proxy:NAME] against real origins: Manifold's own static server (same
// instance or a second one) and nginx, plus a scripted origin for faults.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"
#include "t/integration/proxy/proxy_origins.hpp"

using namespace manifold::testing;

namespace {

std::string backendLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "backend = " + l + "\n";
  return out;
}

std::string proxySection(const std::string& name, const std::vector<std::string>& backends,
                         const std::string& extra = "") {
  return "[proxy:" + name + "]\nlisten = 127.0.0.1:{port:edge}\n" + backendLines(backends) + extra +
         "\n";
}

std::string addr(int port) { return "127.0.0.1:" + std::to_string(port); }

long long shmCounter(const Instance& m, const std::string& title, const std::string& name) {
  return jsonCounter(run(binPath("manifold-shm") + " -n " + m.shmName() + " --json"), title, name);
}

// The origin name nginx answered with (the first field of its echo).
std::string who(int port, const std::string& path) {
  Reply r = one(port, getClose(path));
  return r.status == 200 ? r.body.substr(0, r.body.find('|')) : "status " + str(r.status);
}

}  // namespace

// GET, HEAD, HTTP/1.0, a large body streamed with its checksum, keep-alive reuse upstream, and a
// [proxy:] sharing its listen address with an [http:] site chosen by Host.
TEST(Proxy, ForwardsToTheStaticServerAndSharesTheListener) {
  Instance m(httpSection("origin", "{dir}/www", "webdav = on\n") +
                 proxySection("edge", {"127.0.0.1:{port:origin}"}) +
                 "[http:local]\nlisten = 127.0.0.1:{port:edge}\nserver_name = local.test\n"
                 "root = {dir}/local\n",
             "", 2);
  run("mkdir -p " + m.path("www") + " " + m.path("local"));
  writeFile(m.path("www/file"), "origin file\n");
  writeFile(m.path("local/file"), "local file\n");
  std::string big = pattern(8 << 20, 7);
  writeFile(m.path("www/big.bin"), big);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");

  Reply r = one(edge, getClose("/file"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "origin file\n");
  EXPECT_TRUE(r.has("ETag"));
  Reply local = one(edge, "GET /file HTTP/1.1\r\nHost: local.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(local.body, "local file\n");

  Reply head = one(edge, "HEAD /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), str(big.size()));

  Reply old = one(edge, "GET /file HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.status, 200);
  EXPECT_EQ(old.statusLine().substr(0, 8), "HTTP/1.0");
  EXPECT_EQ(old.body, "origin file\n");

  std::string out = m.path("got.bin");
  run("curl -s -o " + out + " http://127.0.0.1:" + str(edge) + "/big.bin");
  EXPECT_EQ(sha256(out), sha256(m.path("www/big.bin")));

  // Sequential requests on one client connection reuse one upstream connection.
  RawClient client(edge);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client.exchange(get("/file")).status, 200);
  EXPECT_GE(shmCounter(m, "proxy:edge", "upstream_reused"), 15);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A large PUT streamed to a WebDAV origin (Content-Length and chunked), checked by checksum.
TEST(Proxy, StreamsRequestBodiesToWebdav) {
  Instance m(httpSection("origin", "{dir}/www", "webdav = on\nclient_max_body_size = 256M\n") +
                 proxySection("edge", {"127.0.0.1:{port:origin}"}),
             "", 2);
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("upload.bin"), pattern(24 << 20, 3));
  ASSERT_TRUE(m.start()) << m.log();
  std::string url = "http://127.0.0.1:" + str(m.port("edge"));
  EXPECT_EQ(run("curl -s -o /dev/null -w '%{http_code}' -T " + m.path("upload.bin") + " " + url +
                "/a.bin"),
            "201");
  EXPECT_EQ(sha256(m.path("www/a.bin")), sha256(m.path("upload.bin")));
  EXPECT_EQ(run("curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' -T " +
                m.path("upload.bin") + " " + url + "/b.bin"),
            "201");
  EXPECT_EQ(sha256(m.path("www/b.bin")), sha256(m.path("upload.bin")));
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A slow client downloading a large file: the proxy worker's memory does not grow by the file.
TEST(Proxy, StreamsResponsesWithBoundedMemory) {
  Instance m(httpSection("origin", "{dir}/www") + proxySection("edge", {"127.0.0.1:{port:origin}"}),
             "", 1);
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/big.bin"), pattern(64 << 20, 5));
  ASSERT_TRUE(m.start()) << m.log();
  auto rss = [&] {
    long kb = 0;
    for (pid_t pid : m.workerPids()) {
      std::string status = readFile("/proc/" + std::to_string(pid) + "/status");
      size_t at = status.find("VmRSS:");
      if (at != std::string::npos) kb += std::stol(status.substr(at + 6));
    }
    return kb;
  };
  long before = rss();
  Background slow("curl -s --limit-rate 8M -o " + m.path("got.bin") +
                  " http://127.0.0.1:" + str(m.port("edge")) + "/big.bin");
  long peak = before;
  for (int i = 0; i < 30; ++i) {
    sleepMs(100);
    peak = std::max(peak, rss());
  }
  EXPECT_LT(peak - before, 24 * 1024) << "worker RSS grew from " << before << " kB to " << peak;
  EXPECT_EQ(slow.wait(30000), 0);
  EXPECT_EQ(sha256(m.path("got.bin")), sha256(m.path("www/big.bin")));
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Forwarding headers as nginx sees them; hop-by-hop fields never reach it.
TEST(Proxy, ForwardingHeadersAndHopByHopRemoval) {
  NginxOrigins nginx({"n1"});
  ASSERT_TRUE(nginx.ok());
  Instance m(proxySection("edge", {addr(nginx.ports()[0])}), "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  Reply r = one(m.port("edge"),
                "GET /x HTTP/1.1\r\nHost: site.test\r\nX-Forwarded-For: 192.0.2.9\r\n"
                "Connection: close, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n"
                "TE: trailers\r\n\r\n");
  ASSERT_EQ(r.status, 200) << r.head;
  // name|XFF|XFP|Forwarded|Connection|Keep-Alive|TE|X-Hop|Host
  EXPECT_EQ(r.body,
            "n1|192.0.2.9, 127.0.0.1|http|for=127.0.0.1;proto=http;host=\"site.test\"|||||"
            "site.test\n");
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Smooth weighted round robin: over 400 requests exactly the weights' shares, interleaved.
TEST(Proxy, BalancesByWeight) {
  NginxOrigins nginx({"a", "b"});
  ASSERT_TRUE(nginx.ok());
  Instance m(proxySection("edge", {addr(nginx.ports()[0]) + " weight=3", addr(nginx.ports()[1])}),
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  std::map<std::string, int> seen;
  RawClient client(m.port("edge"));
  for (int i = 0; i < 400; ++i) {
    Reply r = client.exchange(get("/"));
    seen[r.body.substr(0, r.body.find('|'))]++;
  }
  EXPECT_EQ(seen["a"], 300);
  EXPECT_EQ(seen["b"], 100);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// balance = hash: adding a backend (a reload) moves only the URIs the new backend now owns.
TEST(Proxy, ConsistentHashMovesOnlyTheNewBackendsShare) {
  NginxOrigins nginx({"h1", "h2", "h3", "h4"});
  ASSERT_TRUE(nginx.ok());
  std::vector<std::string> three;
  for (int i = 0; i < 3; ++i) three.push_back(addr(nginx.ports()[i]));
  Instance m(proxySection("edge", three, "balance = hash\n"), "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  std::map<std::string, std::string> before;
  for (int i = 0; i < 300; ++i) before["/k/" + str(i)] = who(edge, "/k/" + str(i));
  std::vector<std::string> four = three;
  four.push_back(addr(nginx.ports()[3]));
  m.rewriteConfig(proxySection("edge", four, "balance = hash\n"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  sleepMs(300);  // the old generation stops accepting
  int moved = 0;
  for (auto& [path, was] : before) {
    std::string now = who(edge, path);
    if (now != was) {
      ++moved;
      EXPECT_EQ(now, "h4") << path << " moved from " << was;
    }
  }
  // About a quarter; bounds loose enough for any hash, tight enough to catch a reshuffle.
  EXPECT_GT(moved, 30);
  EXPECT_LT(moved, 130);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A backend killed mid-run: requests keep succeeding (retried on the other), passive health
// marks it, and the active health check brings it back once it is up again for `rise` checks.
TEST(Proxy, BackendKilledRetriedMarkedAndBroughtBack) {
  int downPort = freePort();
  auto second = std::make_unique<Instance>(
      "[http:o2]\nlisten = 127.0.0.1:" + str(downPort) + "\nroot = {dir}\n", "", 1);
  writeFile(second->path("file"), "two\n");
  ASSERT_TRUE(second->start()) << second->log();
  Instance m(
      httpSection("o1", "{dir}/www") +
          proxySection("edge",
                       {"127.0.0.1:{port:o1}", addr(downPort) + " max_fails=1 fail_timeout=30s"},
                       "health_check = GET /file interval=300ms rise=2 fall=2 timeout=1s\n"),
      "", 2);
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/file"), "one\n");
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  std::set<std::string> bodies;
  for (int i = 0; i < 20; ++i) bodies.insert(one(edge, getClose("/file")).body);
  EXPECT_EQ(bodies, (std::set<std::string>{"one\n", "two\n"}));

  second.reset();  // killed (QUIT, then KILL)
  int failures = 0;
  for (int i = 0; i < 40; ++i) failures += one(edge, getClose("/file")).status != 200;
  EXPECT_EQ(failures, 0);
  EXPECT_GE(shmCounter(m, "proxy:edge", "backend_1_failures"), 1);
  ASSERT_TRUE(m.waitForLog("backend " + addr(downPort) + " is down", 5000)) << m.log();
  EXPECT_EQ(shmCounter(m, "proxy:edge", "backend_1_down"), 1);

  Instance again("[http:o2]\nlisten = 127.0.0.1:" + str(downPort) + "\nroot = {dir}\n", "", 1);
  writeFile(again.path("file"), "two\n");
  ASSERT_TRUE(again.start()) << again.log();
  ASSERT_TRUE(m.waitForLog("backend " + addr(downPort) + " is up", 5000)) << m.log();
  sleepMs(400);
  EXPECT_EQ(shmCounter(m, "proxy:edge", "backend_1_down"), 0);
  bodies.clear();
  for (int i = 0; i < 20; ++i) bodies.insert(one(edge, getClose("/file")).body);
  EXPECT_TRUE(bodies.count("two\n"));
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// 503 when no backend is available, 502 for a refused connect or a malformed head, 504 when
// the backend does not answer within read_timeout.
TEST(Proxy, GatewayErrors) {
  ScriptedOrigin garbage(
      [](int fd, const std::string&) { sendAll(fd, "HTTP/1.1 2xx what\r\n\r\n"); });
  ScriptedOrigin smuggler([](int fd, const std::string&) {
    sendAll(fd,
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  });
  ScriptedOrigin silent([](int, const std::string&) {}, true);
  int refused = freePort();
  Instance m("[proxy:none]\nlisten = 127.0.0.1:{port:none}\nbackend = " + addr(refused) +
                 " down\n\n[proxy:refused]\nlisten = 127.0.0.1:{port:refused}\nbackend = " +
                 addr(refused) +
                 " max_fails=0\n\n[proxy:garbage]\nlisten = 127.0.0.1:{port:garbage}\n"
                 "backend = " +
                 addr(garbage.port()) +
                 "\n\n[proxy:smuggler]\n"
                 "listen = 127.0.0.1:{port:smuggler}\nbackend = " +
                 addr(smuggler.port()) +
                 "\n\n[proxy:silent]\nlisten = 127.0.0.1:{port:silent}\nbackend = " +
                 addr(silent.port()) + "\nread_timeout = 500ms\nretries = 0\n",
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  EXPECT_EQ(one(m.port("none"), getClose("/")).status, 503);
  EXPECT_EQ(one(m.port("refused"), getClose("/")).status, 502);
  EXPECT_EQ(one(m.port("garbage"), getClose("/")).status, 502);
  EXPECT_EQ(one(m.port("smuggler"), getClose("/")).status, 502);
  auto start = Clock::now();
  EXPECT_EQ(one(m.port("silent"), getClose("/"), false, 5000).status, 504);
  EXPECT_GE(msSince(start), 400);
  EXPECT_EQ(shmCounter(m, "proxy:none", "proxy_503"), 1);
  EXPECT_EQ(shmCounter(m, "proxy:silent", "proxy_504"), 1);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A backend that dies mid-body: the client sees the connection cut, never a complete 200.
TEST(Proxy, BackendDyingMidBodyCutsTheClient) {
  ScriptedOrigin dying([](int fd, const std::string&) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(5000, 'x'));
  });
  ScriptedOrigin dyingChunked([](int fd, const std::string&) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  });
  Instance m("[proxy:a]\nlisten = 127.0.0.1:{port:a}\nbackend = " + addr(dying.port()) +
                 "\n\n[proxy:b]\nlisten = 127.0.0.1:{port:b}\nbackend = " +
                 addr(dyingChunked.port()) + "\n",
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int rc = 0;
  run("curl -s -o /dev/null http://127.0.0.1:" + str(m.port("a")) + "/", &rc);
  EXPECT_EQ(rc, 18);  // CURLE_PARTIAL_FILE
  run("curl -s -o /dev/null http://127.0.0.1:" + str(m.port("b")) + "/", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_EQ(shmCounter(m, "proxy:a", "proxy_cut"), 1);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Smuggling attempts are refused at the proxy and never reach the backend.
TEST(Proxy, SmugglingRefused) {
  ScriptedOrigin origin([](int fd, const std::string&) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  });
  Instance m(
      "[proxy:edge]\nlisten = 127.0.0.1:{port:edge}\nbackend = " + addr(origin.port()) + "\n", "",
      1);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  EXPECT_EQ(one(edge, getClose("/")).status, 200);
  int before = origin.connections();
  for (const char* attack : {
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
           "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd",
           "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded: yes\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
       })
    EXPECT_EQ(one(edge, attack).status, 400) << attack;
  sleepMs(200);
  EXPECT_EQ(origin.connections(), before);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A pooled connection the backend closes as the next request arrives (a keep-alive race): the
// request is sent again once on a fresh connection, and the client never sees the failure.
TEST(Proxy, StalePooledConnectionRetriedOnAFreshOne) {
  ScriptedOrigin origin([](int fd, const std::string&) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    char buf[4096];
    ::recv(fd, buf, sizeof buf, 0);  // the next request on this connection: closed unanswered
  });
  Instance m("[proxy:edge]\nlisten = 127.0.0.1:{port:edge}\nbackend = " + addr(origin.port()) +
                 " max_fails=0\nretries = 0\n",
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  RawClient client(m.port("edge"));
  for (int i = 0; i < 3; ++i) {
    Reply r = client.exchange(get("/"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok");
  }
  EXPECT_EQ(shmCounter(m, "proxy:edge", "proxy_stale_retries"), 2);
  EXPECT_EQ(shmCounter(m, "proxy:edge", "proxy_502"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
