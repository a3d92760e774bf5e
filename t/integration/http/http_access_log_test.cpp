// Tier: integration — the access log of the static web server: combined format, buffered
// flushing, and reopening on USR1.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {
// Lines of `path` once it holds at least `count` of them (the log is flushed about once a
// second); returns what it has after `waitMs` otherwise.
std::vector<std::string> waitForLines(const std::string& path, size_t count, int waitMs = 3000) {
  auto start = Clock::now();
  std::vector<std::string> lines;
  while (true) {
    lines.clear();
    std::string text = readFile(path);
    size_t at = 0;
    for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
      lines.push_back(text.substr(at, nl - at));
    if (lines.size() >= count || msSince(start) > waitMs) return lines;
    sleepMs(50);
  }
}
const char* kStamp =
    "\\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\\]";
}  // namespace

TEST(HttpAccessLog, WritesCombinedFormatLines) {
  Instance m(httpSection("www", "{dir}/www",
                         "access_log = {dir}/access.log\nwebdav = on\ncreate_full_put_path = on"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/hello.txt"), "hello\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  auto start = Clock::now();
  EXPECT_EQ(curl(port, "/hello.txt?x=1", "-A 'TestAgent/1.0' -e 'http://ref.example/page'").status,
            200);
  EXPECT_EQ(curl(port, "/missing", "-A 'Quote\"Agent'").status, 404);
  EXPECT_EQ(one(port, "HEAD /hello.txt HTTP/1.0\r\n\r\n", true).status, 200);
  EXPECT_EQ(one(port, "GARBAGE\r\n\r\n").status, 400);
  // An upload: the body replaces the head in the input buffer before the line is logged.
  writeFile(m.path("upload.bin"), pattern(200000, 4));
  EXPECT_EQ(curl(port, "/up/loaded.bin",
                 "-T " + m.path("upload.bin") + " -A 'Uploader/2.0' -e 'http://ref.example/up'")
                .status,
            201);
  // A bad request after a good one on the same connection logs no stale fields.
  RawClient client(port);
  EXPECT_EQ(
      client.exchange(get("/hello.txt", "User-Agent: Keeper/1.0\r\nReferer: http://keep/\r\n"))
          .status,
      200);
  client.send("BAD\x01\r\n\r\n");
  Reply bad;
  EXPECT_TRUE(client.read(bad));
  EXPECT_EQ(bad.status, 400);
  auto lines = waitForLines(m.path("access.log"), 7);
  EXPECT_LT(msSince(start), 2500) << "the access log was not flushed within about a second";
  ASSERT_EQ(lines.size(), 7u) << readFile(m.path("access.log"));
  std::sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
    return a.substr(a.find('"')) < b.substr(b.find('"'));  // the workers flush in any order
  });
  std::string stamp = kStamp;
  for (int i : {0, 1}) {  // the two bad requests, without request line, referer or agent
    EXPECT_TRUE(std::regex_match(
        lines[i], std::regex("127\\.0\\.0\\.1 - - " + stamp + " \"\" 400 [0-9]+ \"-\" \"-\"")))
        << lines[i];
  }
  lines.erase(lines.begin());
  EXPECT_TRUE(std::regex_match(lines[1], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                                    " \"GET /hello.txt HTTP/1.1\" 200 6 "
                                                    "\"http://keep/\" \"Keeper/1.0\"")))
      << lines[1];
  lines.erase(lines.begin() + 1);
  EXPECT_TRUE(std::regex_match(lines[4], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                                    " \"PUT /up/loaded.bin HTTP/1.1\" 201 0 "
                                                    "\"http://ref.example/up\" \"Uploader/2.0\"")))
      << lines[4];
  EXPECT_TRUE(
      std::regex_match(lines[1], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                            " \"GET /hello.txt\\?x=1 HTTP/1.1\" 200 6 "
                                            "\"http://ref.example/page\" \"TestAgent/1.0\"")))
      << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                                    " \"GET /missing HTTP/1.1\" 404 [0-9]+ \"-\" "
                                                    "\"Quote\\\\x22Agent\"")))
      << lines[2];
  EXPECT_TRUE(
      std::regex_match(lines[3], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                            " \"HEAD /hello.txt HTTP/1.0\" 200 0 \"-\" \"-\"")))
      << lines[3];
}

TEST(HttpAccessLog, Usr1ReopensTheLog) {
  Instance m(httpSection("www", "{dir}/www", "access_log = {dir}/access.log"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/before.txt"), "before\n");
  writeFile(m.path("www/after.txt"), "after\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("www");
  for (int i = 0; i < 4; ++i) ASSERT_EQ(one(port, getClose("/before.txt")).status, 200);
  ASSERT_EQ(waitForLines(m.path("access.log"), 4).size(), 4u);
  ASSERT_EQ(rename(m.path("access.log").c_str(), m.path("access.log.1").c_str()), 0);
  m.signal(SIGUSR1);
  ASSERT_TRUE(m.waitForLog("reopening logs"));
  auto start = Clock::now();  // the workers create the new file when they reopen
  while (!fileExists(m.path("access.log")) && msSince(start) < 2000) sleepMs(20);
  ASSERT_TRUE(fileExists(m.path("access.log"))) << m.log();
  // Both workers reopened: each holds the new file (a worker that did not would go on writing
  // to the renamed one).
  auto reopened = [&] {
    for (pid_t pid : m.workerPids()) {
      bool holds = false;
      std::error_code ec;
      for (auto& fd : std::filesystem::directory_iterator("/proc/" + str(pid) + "/fd", ec))
        holds = holds || std::filesystem::read_symlink(fd.path(), ec) == m.path("access.log");
      if (!holds) return false;
    }
    return true;
  };
  ASSERT_TRUE(pollUntil(reopened, 5000)) << m.log();
  for (int i = 0; i < 6; ++i) ASSERT_EQ(one(port, getClose("/after.txt")).status, 200);
  auto lines = waitForLines(m.path("access.log"), 6);
  ASSERT_EQ(lines.size(), 6u) << readFile(m.path("access.log"));
  for (auto& line : lines)
    EXPECT_NE(line.find("\"GET /after.txt HTTP/1.1\" 200 6"), std::string::npos) << line;
  sleepMs(1200);
  std::string old = readFile(m.path("access.log.1"));
  EXPECT_EQ(waitForLines(m.path("access.log.1"), 4).size(), 4u) << old;
  EXPECT_EQ(old.find("after.txt"), std::string::npos) << "written to the renamed file after USR1";
  EXPECT_EQ(m.log().find("reopen error"), std::string::npos) << m.log();
}
