// Tier: integration — robustness of the HTTP server under hostile clients: slowloris, header
// and send timeouts, the worker connection cap, and malformed input.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {
// Sends one byte every `stepMs` on each connection; records when each one is closed by the
// server (EOF, reset, or a failed send). Runs for at most `totalMs`.
struct SlowSenders {
  std::vector<std::unique_ptr<RawClient>> clients;
  std::vector<double> closedAtMs;  // -1: still open
  std::string request;
  SlowSenders(int port, int count) {
    request = "GET /index.html HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200, 'p') + "\r\n\r\n";
    for (int i = 0; i < count; ++i) clients.push_back(std::make_unique<RawClient>(port));
    closedAtMs.assign(count, -1);
  }
  int open() const {
    int n = 0;
    for (double t : closedAtMs) n += t < 0;
    return n;
  }
  void run(int totalMs, int stepMs) {
    auto start = Clock::now();
    for (size_t sent = 0; msSince(start) < totalMs && sent < request.size(); ++sent) {
      for (size_t i = 0; i < clients.size(); ++i) {
        if (closedAtMs[i] >= 0) continue;
        int fd = clients[i]->fd();
        pollfd p{fd, POLLIN, 0};
        char byte;
        bool closed = poll(&p, 1, 0) > 0 && recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
        if (!closed) closed = ::send(fd, &request[sent], 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1;
        if (closed) closedAtMs[i] = msSince(start);
      }
      if (open() == 0) break;
      sleepMs(stepMs);
    }
  }
};
}  // namespace

TEST(HttpRobustness, SlowlorisDoesNotStarveOtherClients) {
  Instance m(httpSection("www", "{dir}/www"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/index.html"), "<p>fast</p>\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  SlowSenders slow(port, 50);
  std::thread sender([&] { slow.run(2600, 200); });
  sleepMs(300);
  double worst = 0;
  int answered = 0;
  auto start = Clock::now();
  while (msSince(start) < 2000) {
    auto t = Clock::now();
    Reply r = one(port, getClose("/index.html"), false, 2000);
    worst = std::max(worst, msSince(t));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "<p>fast</p>\n");
    answered += r.status == 200;
    sleepMs(50);
  }
  sender.join();
  EXPECT_GE(answered, 10);
  EXPECT_LT(worst, 500) << "a normal client waited behind slow senders";
  // With the default 10 s header timeout the slow ones were all still connected.
  EXPECT_EQ(slow.open(), 50);
}

TEST(HttpRobustness, HeaderTimeoutClosesSlowSendersThatKeepSending) {
  Instance m(httpSection("www", "{dir}/www", "client_header_timeout = 1s") + statusSection());
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/index.html"), "<p>fast</p>\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  const int status = m.port("status");
  SlowSenders slow(port, 20);
  slow.run(4000, 100);
  EXPECT_EQ(slow.open(), 0) << "slow senders still connected after 4 s";
  for (double t : slow.closedAtMs) {
    EXPECT_GE(t, 800);
    EXPECT_LE(t, 2000);
  }
  EXPECT_EQ(counter(status, "http:www", "connections_open"), 0);
  EXPECT_EQ(counter(status, "http:www", "requests_incomplete"), 20);
  // A request that arrives whole in time is unaffected, and so is an idle keep-alive connection.
  RawClient idle(port);
  EXPECT_EQ(idle.exchange(get("/index.html")).status, 200);
  EXPECT_FALSE(idle.waitClosed(1600)) << "an idle keep-alive connection hit the header timeout";
  EXPECT_EQ(idle.exchange(get("/index.html")).status, 200);
  // A request sent in two parts within the timeout is answered.
  RawClient split(port);
  split.send("GET /index.html HTTP/1.1\r\n");
  sleepMs(500);
  EXPECT_EQ(split.exchange("Host: x\r\n\r\n").status, 200);
}

TEST(HttpRobustness, SendTimeoutDropsAClientThatStopsReading) {
  Instance m(httpSection("www", "{dir}/www", "send_timeout = 1s") + statusSection());
  run("mkdir -p " + m.path("www") + " && truncate -s 256M " + m.path("www/huge.bin"));
  writeFile(m.path("www/index.html"), "<p>fast</p>\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  const int status = m.port("status");
  RawClient stalled(port, 4096);
  ASSERT_TRUE(stalled.send(get("/huge.bin")));
  auto start = Clock::now();
  while (counter(status, "http:www", "connections_open") != 1 && msSince(start) < 1000) sleepMs(20);
  EXPECT_EQ(counter(status, "http:www", "connections_open"), 1);
  sleepMs(500);
  EXPECT_EQ(counter(status, "http:www", "connections_open"), 1) << "dropped before send_timeout";
  while (counter(status, "http:www", "connections_open") != 0 && msSince(start) < 5000) sleepMs(50);
  double took = msSince(start);
  EXPECT_EQ(counter(status, "http:www", "connections_open"), 0) << "a stalled reader is kept";
  EXPECT_GE(took, 900);
  EXPECT_LE(took, 3500);
  // The client sees the end (EOF or reset) after what was already in flight.
  size_t got = 0;
  bool ended = false;
  auto drain = Clock::now();
  while (msSince(drain) < 5000) {
    int n = stalled.readSome(1000);
    if (n == 0 || n == -2) {
      ended = true;
      break;
    }
    if (n > 0) got += n;
    stalled.buffer().clear();
  }
  EXPECT_TRUE(ended);
  EXPECT_LT(got, 256u << 20);
  // Others are served all along.
  EXPECT_EQ(one(port, getClose("/index.html")).status, 200);
}

TEST(HttpRobustness, WorkerConnectionsCapsConcurrentConnections) {
  Instance m(httpSection("www", "{dir}/www"), "worker_connections = 16", 1);
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/index.html"), "<p>fast</p>\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 16; ++i) {
    held.push_back(std::make_unique<RawClient>(port));
    Reply r = held.back()->exchange(get("/index.html"));  // accepted and served: counted
    ASSERT_EQ(r.status, 200) << "connection " << i;
  }
  RawClient extra(port);  // connects (the kernel queues it) but is not served
  ASSERT_TRUE(extra.ok());
  extra.send(get("/index.html"));
  Reply r;
  EXPECT_FALSE(extra.read(r, 800)) << "the 17th connection was served";
  // The held ones still work.
  EXPECT_EQ(held[3]->exchange(get("/index.html")).status, 200);
  auto start = Clock::now();
  held[0]->close();
  EXPECT_TRUE(extra.read(r, 2000)) << "the 17th connection was never served";
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(msSince(start), 1000);
  // At the cap again: a newcomer waits for the next close.
  RawClient another(port);
  another.send(get("/index.html"));
  EXPECT_FALSE(another.read(r, 500));
  held[1]->close();
  EXPECT_TRUE(another.read(r, 2000));
  EXPECT_EQ(r.status, 200);
}

TEST(HttpRobustness, MalformedInputNeverCrashesAWorker) {
  Instance m(httpSection("www", "{dir}/www", "webdav = on\nclient_max_body_size = 1M") +
             statusSection());
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/index.html"), "<p>fast</p>\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  const int status = m.port("status");
  auto workers = m.workerPids();
  ASSERT_EQ(workers.size(), 2u);

  struct Case {
    std::string request;
    int status;  // 0: any (or none)
  };
  std::string nul("\0", 1);
  std::vector<Case> cases = {
      {nul + nul + nul + nul, 400},
      {"GET /" + nul + " HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a" + nul + "b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x" + nul + "\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775807\r\n\r\n", 200},
      {"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775807\r\n\r\n", 413},
      {"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400},
      {"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       400},
      {"PUT /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       400},
      {"PUT /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\nffffffffffffffffffffff\r\nx",
       400},
      {"PUT /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"PUT /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\n Folded: yes\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=" + std::string(5000, '1') + "-\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=" +
           [] {
             std::string many;
             for (int i = 0; i < 1000; ++i)
               many += std::to_string(i) + "-" + std::to_string(i) + ",";
             return many + "0-0";
           }() +
           "\r\n\r\n",
       200},
      {"GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"" + std::string(5000, 'W') + "\r\n\r\n", 0},
      {"GET / HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Mon, 99 Xyz 99999 99:99:99 GMT\r\n\r\n",
       200},
      {"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=" + std::string(3000, '9') +
           "\r\n\r\n",
       200},
      {"GET /%%%%/%ff%fe%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /" + std::string(100000, '/') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"\r\n\r\n\r\n" + std::string(20000, '\n'), 400},
      {"GET / HTTP/1.1\r" + std::string("\rHost: x\r\n\r\n"), 400},
      {"GET / HTTP/1.1\r\n" +
           [] {
             std::string many;
             for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
             return many;
           }() +
           "Host: x\r\n\r\n",
       431},
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string("\xff\xfe\xfd garbage after a good one"),
       200},
      {"OPTIONS / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + std::string(5000, 'x'),
       200},
      {"GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n", 0},  // lenient: an unclosed IPv6 literal
      {"CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n", 405},
  };
  for (auto& c : cases) {
    std::string raw = rawExchange(port, c.request, 2000);
    Reply r;
    parseReply(raw, r, false, true);
    if (c.status) {
      EXPECT_EQ(r.status, c.status) << c.request.substr(0, 80);
    }
  }
  // Random bytes, alone and after a valid request line or head, and byte flips of a request.
  std::mt19937 random(12345);
  auto bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& ch : s) ch = static_cast<char>(random());
    return s;
  };
  std::string valid =
      "PUT /fuzz.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nRange: bytes=0-1\r\n"
      "Transfer-Encoding: chunked\r\nIf-None-Match: \"a\"\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  for (int i = 0; i < 300; ++i) {
    std::string request;
    switch (i % 4) {
      case 0:
        request = bytes(1 + random() % 3000);
        break;
      case 1:
        request = "GET / HTTP/1.1\r\n" + bytes(1 + random() % 500);
        break;
      case 2:
        request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(1 + random() % 500);
        break;
      default:
        request = valid;
        for (int flips = 1 + random() % 4; flips > 0; --flips)
          request[random() % request.size()] = static_cast<char>(random());
    }
    rawExchange(port, request, 500);
  }
  // Connections that just go away at every point of a request.
  for (size_t cut = 1; cut < valid.size(); cut += 7) rawExchange(port, valid.substr(0, cut), 300);

  // The input did reach the parser: every connection with bytes counted a request or an
  // incomplete one.
  EXPECT_GE(
      counter(status, "http:www", "requests") + counter(status, "http:www", "requests_incomplete"),
      static_cast<long long>(cases.size() + 300));
  EXPECT_GE(counter(status, "http:www", "responses_4xx"), static_cast<long long>(cases.size()));
  EXPECT_EQ(m.workerPids(), workers) << m.log();
  EXPECT_EQ(m.log().find("killed by signal"), std::string::npos) << m.log();
  EXPECT_EQ(m.log().find("exited with"), std::string::npos) << m.log();
  Reply fine = one(port, getClose("/index.html"));
  EXPECT_EQ(fine.status, 200);
  EXPECT_EQ(fine.body, "<p>fast</p>\n");
  auto start = Clock::now();
  while (counter(status, "http:www", "connections_open") != 0 && msSince(start) < 3000) sleepMs(50);
  EXPECT_EQ(counter(status, "http:www", "connections_open"), 0);
}
