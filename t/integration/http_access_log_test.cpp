// Tier: integration — the access log of the static web server: combined format, buffered
// flushing, and reopening on USR1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "protocols/http/gzip.hpp"
#include "t/integration/harness.hpp"

// ---- helpers shared by the http_*_test.cpp files (kept local: the harness is not ours) ----
namespace {

using namespace manifold::testing;
using Clock = std::chrono::steady_clock;

inline double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}
inline void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
inline std::string str(long long n) { return std::to_string(n); }

// One [http:NAME] section on 127.0.0.1:port.
inline std::string httpSection(const std::string& name, int port, const std::string& root,
                               const std::string& extra = "") {
  return "[http:" + name + "]\nlisten = 127.0.0.1:" + str(port) + "\nroot = " + root + "\n" +
         extra + "\n";
}
inline std::string statusSection(int port) {
  return "[status:m]\nlisten = 127.0.0.1:" + str(port) + "\n";
}

// A deterministic byte pattern (all 256 values, NULs included) so ranges are checkable.
inline std::string pattern(size_t size, unsigned seed = 1) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 16);
  }
  return out;
}
// Compressible text: numbered lines.
inline std::string textOf(size_t size, const std::string& word = "line") {
  std::string out;
  for (size_t i = 0; out.size() < size; ++i) out += word + " " + std::to_string(i) + " of the text\n";
  out.resize(size);
  return out;
}

struct Reply {
  int status = 0;
  std::string head;  // status line and header lines, without the blank line
  std::string body;
  std::string statusLine() const { return head.substr(0, head.find("\r\n")); }
  // Values of every header line called `name` (case-insensitive), trimmed.
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> values;
    size_t at = head.find("\r\n");
    while (at != std::string::npos) {
      size_t start = at + 2;
      size_t end = head.find("\r\n", start);
      std::string line = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
      size_t colon = line.find(':');
      if (colon == name.size() && strncasecmp(line.c_str(), name.c_str(), colon) == 0) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        while (!value.empty() && value.back() == ' ') value.pop_back();
        values.push_back(value);
      }
      at = end;
    }
    return values;
  }
  std::string header(const std::string& name) const {
    auto values = all(name);
    return values.empty() ? std::string() : values[0];
  }
  bool has(const std::string& name) const { return !all(name).empty(); }
};

// Parses one response from the front of `data`. Returns the bytes it used, 0 when incomplete.
// A response without Content-Length (and which may have a body) runs to the end of the data
// only when `eof` is set.
inline size_t parseReply(std::string_view data, Reply& out, bool noBody = false, bool eof = false) {
  size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  out.head.assign(data.substr(0, end));
  out.status = 0;
  sscanf(out.head.c_str(), "HTTP/%*s %d", &out.status);
  size_t used = end + 4;
  out.body.clear();
  if (noBody || out.status / 100 == 1 || out.status == 204 || out.status == 304) return used;
  std::string length = out.header("Content-Length");
  if (length.empty()) {
    if (!eof) return 0;
    out.body.assign(data.substr(used));
    return data.size();
  }
  size_t n = std::stoull(length);
  if (data.size() - used < n) return 0;
  out.body.assign(data.substr(used, n));
  return used + n;
}

// Every response in `data` (e.g. what rawExchange returned); noBody[i] marks HEAD answers.
inline std::vector<Reply> parseReplies(std::string_view data, std::vector<bool> noBody = {}) {
  std::vector<Reply> replies;
  while (!data.empty()) {
    Reply r;
    bool head = replies.size() < noBody.size() && noBody[replies.size()];
    size_t used = parseReply(data, r, head, true);
    if (used == 0) break;
    replies.push_back(r);
    data.remove_prefix(used);
  }
  return replies;
}

inline Reply one(int port, const std::string& request, bool noBody = false, int timeoutMs = 3000) {
  Reply r;
  parseReply(rawExchange(port, request, timeoutMs), r, noBody, true);
  return r;
}

// A raw TCP client that keeps its connection.
class RawClient {
 public:
  explicit RawClient(int port, int receiveBuffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receiveBuffer) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) close();
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(n);
    }
    return true;
  }
  // Waits up to timeoutMs for bytes: >0 read, 0 EOF, -1 timeout, -2 error (reset).
  int readSome(int timeoutMs) {
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, timeoutMs);
    if (rc <= 0) return -1;
    char buffer[65536];
    ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0) return -2;
    buffer_.append(buffer, n);
    return static_cast<int>(n);
  }
  // One response; false on timeout or when the connection ends first.
  bool read(Reply& reply, int timeoutMs = 3000, bool noBody = false) {
    auto start = Clock::now();
    while (true) {
      if (size_t used = parseReply(buffer_, reply, noBody, false)) {
        buffer_.erase(0, used);
        return true;
      }
      int left = timeoutMs - static_cast<int>(msSince(start));
      if (left <= 0) return false;
      int n = readSome(left);
      if (n == 0 || n == -2) {
        if (size_t used = parseReply(buffer_, reply, noBody, true)) {
          buffer_.erase(0, used);
          return true;
        }
        return false;
      }
    }
  }
  Reply exchange(const std::string& request, bool noBody = false) {
    Reply reply;
    send(request);
    read(reply, 3000, noBody);
    return reply;
  }
  // True when the peer closes (EOF or reset) within timeoutMs; bytes read meanwhile are kept.
  bool waitClosed(int timeoutMs) {
    auto start = Clock::now();
    while (true) {
      int left = timeoutMs - static_cast<int>(msSince(start));
      if (left <= 0) return false;
      int n = readSome(left);
      if (n == 0 || n == -2) return true;
    }
  }
  std::string& buffer() { return buffer_; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

inline std::string get(const std::string& path, const std::string& extra = "",
                       const std::string& host = "localhost") {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}
inline std::string getClose(const std::string& path, const std::string& extra = "") {
  return get(path, "Connection: close\r\n" + extra);
}

// A counter of `service` from /metrics.json of a [status] section; -1 when absent.
inline long long counter(int statusPort, const std::string& service, const std::string& name) {
  Reply r = one(statusPort, getClose("/metrics.json"));
  size_t at = r.body.find("\"title\":\"" + service + "\"");
  if (at == std::string::npos) return -1;
  size_t end = r.body.find("}}", at);
  size_t key = r.body.find("\"" + name + "\":", at);
  if (key == std::string::npos || key > end) return -1;
  return atoll(r.body.c_str() + key + name.size() + 3);
}

inline std::string sha256(const std::string& path) {
  std::string out = run("sha256sum '" + path + "'");
  return out.substr(0, out.find(' '));
}

inline std::string gunzip(const std::string& data) {
  std::string out;
  manifold::http::gzipDecompress(data, out);
  return out;
}

}  // namespace
// ---- end of helpers ----
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
const char* kStamp = "\\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\\]";
}  // namespace

TEST(HttpAccessLog, WritesCombinedFormatLines) {
  int port = freePort();
  Instance m(httpSection("www", port, "{dir}/www",
                         "access_log = {dir}/access.log\nwebdav = on\ncreate_full_put_path = on"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/hello.txt"), "hello\n");
  ASSERT_TRUE(m.start()) << m.log();
  auto start = Clock::now();
  EXPECT_EQ(curl(port, "/hello.txt?x=1", "-A 'TestAgent/1.0' -e 'http://ref.example/page'").status, 200);
  EXPECT_EQ(curl(port, "/missing", "-A 'Quote\"Agent'").status, 404);
  EXPECT_EQ(one(port, "HEAD /hello.txt HTTP/1.0\r\n\r\n", true).status, 200);
  EXPECT_EQ(one(port, "GARBAGE\r\n\r\n").status, 400);
  // An upload: the body replaces the head in the input buffer before the line is logged.
  writeFile(m.path("upload.bin"), pattern(200000, 4));
  EXPECT_EQ(curl(port, "/up/loaded.bin", "-T " + m.path("upload.bin") + " -A 'Uploader/2.0' -e 'http://ref.example/up'").status, 201);
  // A bad request after a good one on the same connection logs no stale fields.
  RawClient client(port);
  EXPECT_EQ(client.exchange(get("/hello.txt", "User-Agent: Keeper/1.0\r\nReferer: http://keep/\r\n")).status, 200);
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
    EXPECT_TRUE(std::regex_match(lines[i], std::regex("127\\.0\\.0\\.1 - - " + stamp + " \"\" 400 [0-9]+ \"-\" \"-\"")))
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
  EXPECT_TRUE(std::regex_match(lines[1], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                                    " \"GET /hello.txt\\?x=1 HTTP/1.1\" 200 6 "
                                                    "\"http://ref.example/page\" \"TestAgent/1.0\"")))
      << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                                    " \"GET /missing HTTP/1.1\" 404 [0-9]+ \"-\" "
                                                    "\"Quote\\\\x22Agent\"")))
      << lines[2];
  EXPECT_TRUE(std::regex_match(lines[3], std::regex("127\\.0\\.0\\.1 - - " + stamp +
                                                    " \"HEAD /hello.txt HTTP/1.0\" 200 0 \"-\" \"-\"")))
      << lines[3];
}

TEST(HttpAccessLog, Usr1ReopensTheLog) {
  int port = freePort();
  Instance m(httpSection("www", port, "{dir}/www", "access_log = {dir}/access.log"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/before.txt"), "before\n");
  writeFile(m.path("www/after.txt"), "after\n");
  ASSERT_TRUE(m.start()) << m.log();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(one(port, getClose("/before.txt")).status, 200);
  ASSERT_EQ(waitForLines(m.path("access.log"), 4).size(), 4u);
  ASSERT_EQ(rename(m.path("access.log").c_str(), m.path("access.log.1").c_str()), 0);
  m.signal(SIGUSR1);
  ASSERT_TRUE(m.waitForLog("reopening logs"));
  auto start = Clock::now();  // the workers create the new file when they reopen
  while (!fileExists(m.path("access.log")) && msSince(start) < 2000) sleepMs(20);
  ASSERT_TRUE(fileExists(m.path("access.log"))) << m.log();
  sleepMs(300);  // both workers
  for (int i = 0; i < 6; ++i) ASSERT_EQ(one(port, getClose("/after.txt")).status, 200);
  auto lines = waitForLines(m.path("access.log"), 6);
  ASSERT_EQ(lines.size(), 6u) << readFile(m.path("access.log"));
  for (auto& line : lines) EXPECT_NE(line.find("\"GET /after.txt HTTP/1.1\" 200 6"), std::string::npos) << line;
  sleepMs(1200);
  std::string old = readFile(m.path("access.log.1"));
  EXPECT_EQ(waitForLines(m.path("access.log.1"), 4).size(), 4u) << old;
  EXPECT_EQ(old.find("after.txt"), std::string::npos) << "written to the renamed file after USR1";
  EXPECT_EQ(m.log().find("reopen error"), std::string::npos) << m.log();
}
