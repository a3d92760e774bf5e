// Tier: integration — gzip content coding of the static web server: on the fly (xcache),
// gzip_static, the persistent gzip_store, and ranges over compressed bytes, with real curl.
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

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
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
// `curl --raw` (no decoding) of path with extra headers; status, headers and the exact bytes.
HttpResponse rawCurl(int port, const std::string& path, const std::string& args) {
  return curl(port, path, "--raw " + args);
}
const std::string kGzip = "-H 'Accept-Encoding: gzip'";
}  // namespace

class HttpGzip : public ::testing::Test {
 protected:
  void SetUp() override {
    port = freePort();
    status = freePort();
    m = std::make_unique<Instance>(
        httpSection("www", port, "{dir}/www", "gzip_store = {dir}/store") + statusSection(status));
    run("mkdir -p " + m->path("www/js"));
    text = textOf(20 * 1024);
    writeFile(m->path("www/page.txt"), text);
    writeFile(m->path("www/tiny.txt"), "too small to compress\n");
    png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(20000, 'A');  // compressible bytes
    writeFile(m->path("www/pic.png"), png);
    big = textOf(2 * 1024 * 1024, "big");
    writeFile(m->path("www/big.txt"), big);
  }
  std::unique_ptr<Instance> m;
  int port = 0, status = 0;
  std::string text, png, big;
};

TEST_F(HttpGzip, CompressibleTextIsGzippedAndRoundTrips) {
  ASSERT_TRUE(m->start()) << m->log();
  for (int round = 0; round < 3; ++round) {  // built, then from the xcache
    HttpResponse r = curl(port, "/page.txt", "--compressed");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(r.header("Content-Type"), "text/plain");
    EXPECT_TRUE(r.body == text) << "decoded body differs, round " << round;
    EXPECT_EQ(r.header("ETag").substr(r.header("ETag").size() - 4), "-gz\"");

    HttpResponse raw = rawCurl(port, "/page.txt", kGzip);
    EXPECT_EQ(raw.header("Content-Encoding"), "gzip");
    EXPECT_EQ(raw.header("Content-Length"), str(raw.body.size()));
    EXPECT_LT(raw.body.size(), text.size() / 4);
    EXPECT_TRUE(gunzip(raw.body) == text);
  }
  // The identity and gzip forms have different validators, and each revalidates to 304.
  HttpResponse plain = curl(port, "/page.txt");
  HttpResponse zipped = curl(port, "/page.txt", "--compressed");
  EXPECT_NE(plain.header("ETag"), zipped.header("ETag"));
  EXPECT_EQ(curl(port, "/page.txt", "--compressed -H 'If-None-Match: " + zipped.header("ETag") + "'").status, 304);
  EXPECT_EQ(curl(port, "/page.txt", "-H 'If-None-Match: " + plain.header("ETag") + "'").status, 304);
  EXPECT_GE(counter(status, "http:www", "gzip_responses"), 6);
}

TEST_F(HttpGzip, NoGzipUnlessAsked) {
  ASSERT_TRUE(m->start()) << m->log();
  for (int round = 0; round < 2; ++round) {
    HttpResponse none = rawCurl(port, "/page.txt", "");
    EXPECT_EQ(none.status, 200);
    EXPECT_FALSE(none.headers.find("Content-Encoding") != std::string::npos) << none.headers;
    EXPECT_EQ(none.header("Vary"), "Accept-Encoding");  // it could have been compressed
    EXPECT_EQ(none.header("Content-Length"), str(text.size()));
    EXPECT_TRUE(none.body == text);
    for (std::string refusal : {"gzip;q=0", "gzip; q=0.000", "identity", "br", "deflate, gzip;q=0"}) {
      HttpResponse r = rawCurl(port, "/page.txt", "-H 'Accept-Encoding: " + refusal + "'");
      EXPECT_EQ(r.status, 200) << refusal;
      EXPECT_EQ(r.header("Content-Encoding"), "") << refusal;
      EXPECT_TRUE(r.body == text) << refusal;
    }
    for (std::string accepted : {"gzip", "deflate, gzip", "GZIP;q=0.5", "*", "br;q=1, gzip;q=0.1"}) {
      HttpResponse r = rawCurl(port, "/page.txt", "-H 'Accept-Encoding: " + accepted + "'");
      EXPECT_EQ(r.header("Content-Encoding"), "gzip") << accepted;
      EXPECT_TRUE(gunzip(r.body) == text) << accepted;
    }
  }
}

TEST_F(HttpGzip, ImagesAndTinyFilesAreNotCompressed) {
  ASSERT_TRUE(m->start()) << m->log();
  for (int round = 0; round < 2; ++round) {
    HttpResponse image = rawCurl(port, "/pic.png", kGzip);
    EXPECT_EQ(image.status, 200);
    EXPECT_EQ(image.header("Content-Type"), "image/png");
    EXPECT_EQ(image.header("Content-Encoding"), "");
    EXPECT_EQ(image.header("Vary"), "");
    EXPECT_TRUE(image.body == png);
    HttpResponse tiny = rawCurl(port, "/tiny.txt", kGzip);  // below gzip_min_length
    EXPECT_EQ(tiny.header("Content-Encoding"), "");
    EXPECT_EQ(tiny.body, "too small to compress\n");
  }
}

TEST_F(HttpGzip, GzipStaticFileIsServedVerbatim) {
  // A hand-made .gz whose content differs from the source: proof it is not re-compressed.
  std::string source = textOf(4000, "source");
  writeFile(m->path("www/js/app.js"), source);
  std::string precompressed;
  ASSERT_TRUE(manifold::http::gzipCompress(textOf(3000, "precompressed"), precompressed, 9));
  writeFile(m->path("www/js/app.js.gz"), precompressed);
  // A stale .gz (older than its source) is ignored.
  writeFile(m->path("www/js/old.js"), source);
  writeFile(m->path("www/js/old.js.gz"), precompressed);
  run("touch -d '2001-01-01' " + m->path("www/js/old.js.gz"));
  ASSERT_TRUE(m->start()) << m->log();

  for (int round = 0; round < 2; ++round) {
    HttpResponse raw = rawCurl(port, "/js/app.js", kGzip);
    EXPECT_EQ(raw.status, 200);
    EXPECT_EQ(raw.header("Content-Encoding"), "gzip");
    EXPECT_EQ(raw.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(raw.header("Content-Type"), "text/javascript");
    EXPECT_EQ(raw.header("Content-Length"), str(precompressed.size()));
    EXPECT_TRUE(raw.body == precompressed) << "not the bytes of app.js.gz";

    HttpResponse plain = rawCurl(port, "/js/app.js", "");
    EXPECT_EQ(plain.header("Content-Encoding"), "");
    EXPECT_TRUE(plain.body == source);

    HttpResponse stale = rawCurl(port, "/js/old.js", kGzip);
    EXPECT_EQ(stale.header("Content-Encoding"), "gzip");
    EXPECT_TRUE(gunzip(stale.body) == source) << "a stale .gz was served";
  }
  // The .gz can be asked for by name too, as itself.
  HttpResponse direct = rawCurl(port, "/js/app.js.gz", "");
  EXPECT_EQ(direct.header("Content-Type"), "application/gzip");
  EXPECT_EQ(direct.header("Content-Encoding"), "");
  EXPECT_TRUE(direct.body == precompressed);
}

TEST_F(HttpGzip, GzipStoreKeepsCompressedCopiesOfLargeFiles) {
  ASSERT_TRUE(m->start()) << m->log();
  std::string stored = m->path("store/big.txt.gz");
  EXPECT_FALSE(fileExists(stored));
  HttpResponse decoded = curl(port, "/big.txt", "--compressed");
  EXPECT_EQ(decoded.status, 200);
  EXPECT_EQ(decoded.header("Content-Encoding"), "gzip");
  EXPECT_EQ(decoded.header("Vary"), "Accept-Encoding");
  EXPECT_TRUE(decoded.body == big) << "decoded " << decoded.body.size() << " bytes";
  ASSERT_TRUE(fileExists(stored));
  std::string storedBytes = readFile(stored);
  EXPECT_TRUE(gunzip(storedBytes) == big);
  HttpResponse raw = rawCurl(port, "/big.txt", kGzip);
  EXPECT_TRUE(raw.body == storedBytes) << "not sent from the store";
  EXPECT_EQ(raw.header("Content-Length"), str(storedBytes.size()));
  // Without Accept-Encoding: the original.
  HttpResponse plain = rawCurl(port, "/big.txt", "");
  EXPECT_EQ(plain.header("Content-Encoding"), "");
  EXPECT_TRUE(plain.body == big);
  // No temp files are left behind.
  EXPECT_EQ(run("ls -A " + m->path("store")), "big.txt.gz\n");

  // The source changes (same size, then another size): the store follows within the interval.
  // (Replaced by rename: a reader must never see a half-written source, or the store would
  // keep a copy of it.)
  std::string next = textOf(big.size(), "new");
  writeFile(m->path("www/big.txt.new"), next);
  rename(m->path("www/big.txt.new").c_str(), m->path("www/big.txt").c_str());
  auto start = Clock::now();
  std::string body;
  while (msSince(start) < 3000) {
    body = curl(port, "/big.txt", "--compressed").body;
    if (body == next) break;
    EXPECT_TRUE(body == big) << "neither old nor new content";
    sleepMs(50);
  }
  EXPECT_TRUE(body == next) << "the store kept the old content";
  EXPECT_LE(msSince(start), 1600);
  EXPECT_TRUE(gunzip(readFile(stored)) == next);
  std::string shorter = textOf(1500000, "shorter");
  writeFile(m->path("www/big.txt.new"), shorter);
  rename(m->path("www/big.txt.new").c_str(), m->path("www/big.txt").c_str());
  start = Clock::now();
  while (msSince(start) < 3000) {
    body = curl(port, "/big.txt", "--compressed").body;
    if (body == shorter) break;
    sleepMs(50);
  }
  EXPECT_TRUE(body == shorter) << "the store kept the old content";
  EXPECT_TRUE(gunzip(readFile(stored)) == shorter);
  EXPECT_EQ(run("ls -A " + m->path("store")), "big.txt.gz\n");
}

TEST_F(HttpGzip, RangesApplyToTheCompressedBytes) {
  ASSERT_TRUE(m->start()) << m->log();
  for (std::string path : {"/page.txt", "/big.txt"}) {  // in memory (xcache) and from the store
    HttpResponse whole = rawCurl(port, path, kGzip);
    ASSERT_EQ(whole.header("Content-Encoding"), "gzip") << path;
    std::string gz = whole.body;
    std::string etag = whole.header("ETag");

    HttpResponse first = rawCurl(port, path, kGzip + " -H 'Range: bytes=0-99'");
    EXPECT_EQ(first.status, 206) << path;
    EXPECT_EQ(first.header("Content-Encoding"), "gzip");
    EXPECT_EQ(first.header("Content-Range"), "bytes 0-99/" + str(gz.size())) << path;
    EXPECT_TRUE(first.body == gz.substr(0, 100)) << path;

    HttpResponse tail = rawCurl(port, path, kGzip + " -H 'Range: bytes=-50'");
    EXPECT_EQ(tail.status, 206);
    EXPECT_EQ(tail.header("Content-Range"),
              "bytes " + str(gz.size() - 50) + "-" + str(gz.size() - 1) + "/" + str(gz.size()));
    EXPECT_TRUE(tail.body == gz.substr(gz.size() - 50));

    HttpResponse matching = rawCurl(port, path, kGzip + " -H 'Range: bytes=10-19' -H 'If-Range: " + etag + "'");
    EXPECT_EQ(matching.status, 206);
    EXPECT_TRUE(matching.body == gz.substr(10, 10));

    // The identity representation's ranges are over the original bytes.
    const std::string& original = path == "/page.txt" ? text : big;
    HttpResponse identity = rawCurl(port, path, "-H 'Range: bytes=0-99'");
    EXPECT_EQ(identity.header("Content-Range"), "bytes 0-99/" + str(original.size()));
    EXPECT_EQ(identity.header("Content-Encoding"), "");
    EXPECT_TRUE(identity.body == original.substr(0, 100));
  }
}
