#include "t/integration/lib/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <thread>

#include "protocols/http/gzip.hpp"

namespace manifold::testing {

std::string str(long long n) { return std::to_string(n); }

// ---- config sections and sites ----

namespace {
std::string placeholder(const std::string& name) { return "{port:" + name + "}"; }
std::string httpSectionOn(const std::string& name, const std::string& port, const std::string& root,
                          const std::string& extra) {
  return "[http:" + name + "]\nlisten = 127.0.0.1:" + port + "\nroot = " + root + "\n" + extra +
         "\n";
}
}  // namespace

std::string httpSection(const std::string& name, int port, const std::string& root,
                        const std::string& extra) {
  return httpSectionOn(name, str(port), root, extra);
}

std::string httpSection(const std::string& name, const std::string& root,
                        const std::string& extra) {
  return httpSectionOn(name, placeholder(name), root, extra);
}

std::string statusSection(int port) { return "[status:m]\nlisten = 127.0.0.1:" + str(port) + "\n"; }

std::string statusSection() {
  return "[status:m]\nlisten = 127.0.0.1:" + placeholder("status") + "\n";
}

std::string httpSite(int port, const std::string& name) {
  return httpSection(name, port, "{dir}/www");
}

std::string httpSite(const std::string& name) { return httpSection(name, "{dir}/www"); }

void makeSite(const Instance& m) {
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/file"), "hello from manifold\n");
}

// ---- test data ----

std::string pattern(size_t size, unsigned seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 16);
  }
  return out;
}

std::string textOf(size_t size, const std::string& word) {
  std::string out;
  for (size_t i = 0; out.size() < size; ++i)
    out += word + " " + std::to_string(i) + " of the text\n";
  out.resize(size);
  return out;
}

std::string sha256(const std::string& path) {
  std::string out = run("sha256sum '" + path + "'");
  return out.substr(0, out.find(' '));
}

std::string gunzip(const std::string& data) {
  std::string out;
  manifold::http::gzipDecompress(data, out);
  return out;
}

// ---- HTTP responses ----

std::vector<std::string> Reply::all(const std::string& name) const {
  std::vector<std::string> values;
  size_t at = head.find("\r\n");
  while (at != std::string::npos) {
    size_t start = at + 2;
    size_t end = head.find("\r\n", start);
    std::string line =
        head.substr(start, end == std::string::npos ? std::string::npos : end - start);
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

std::string Reply::header(const std::string& name) const {
  auto values = all(name);
  return values.empty() ? std::string() : values[0];
}

size_t parseReply(std::string_view data, Reply& out, bool noBody, bool eof) {
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

std::vector<Reply> parseReplies(std::string_view data, std::vector<bool> noBody) {
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

Reply one(int port, const std::string& request, bool noBody, int timeoutMs) {
  Reply r;
  parseReply(rawExchange(port, request, timeoutMs), r, noBody, true);
  return r;
}

// ---- HTTP requests ----

std::string get(const std::string& path, const std::string& extra, const std::string& host) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}

std::string getClose(const std::string& path, const std::string& extra) {
  return get(path, "Connection: close\r\n" + extra);
}

int getStatus(int port, const std::string& path, int timeoutMs) {
  std::string response = rawExchange(
      port, "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", timeoutMs);
  int status = 0;
  if (sscanf(response.c_str(), "HTTP/1.%*d %d", &status) != 1) return 0;
  return status;
}

int countFailures(int port, int requests, int timeoutMs) {
  int failures = 0;
  for (int i = 0; i < requests; ++i)
    if (getStatus(port, "/file", timeoutMs) != 200) ++failures;
  return failures;
}

RawClient::RawClient(int port, int receiveBuffer) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receiveBuffer) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) close();
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawClient::send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(n);
  }
  return true;
}

int RawClient::readSome(int timeoutMs) {
  pollfd p{fd_, POLLIN, 0};
  int rc = poll(&p, 1, timeoutMs);
  if (rc <= 0) return -1;
  char buffer[65536];
  ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
  if (n < 0) return -2;
  buffer_.append(buffer, n);
  return static_cast<int>(n);
}

bool RawClient::read(Reply& reply, int timeoutMs, bool noBody) {
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

Reply RawClient::exchange(const std::string& request, bool noBody) {
  Reply reply;
  send(request);
  read(reply, 3000, noBody);
  return reply;
}

bool RawClient::waitClosed(int timeoutMs) {
  auto start = Clock::now();
  while (true) {
    int left = timeoutMs - static_cast<int>(msSince(start));
    if (left <= 0) return false;
    int n = readSome(left);
    if (n == 0 || n == -2) return true;
  }
}

// ---- counters ----

long long counter(int statusPort, const std::string& service, const std::string& name) {
  Reply r = one(statusPort, getClose("/metrics.json"));
  size_t at = r.body.find("\"title\":\"" + service + "\"");
  if (at == std::string::npos) return -1;
  size_t end = r.body.find("}}", at);
  size_t key = r.body.find("\"" + name + "\":", at);
  if (key == std::string::npos || key > end) return -1;
  return atoll(r.body.c_str() + key + name.size() + 3);
}

long long jsonCounter(const std::string& json, const std::string& title, const std::string& name) {
  size_t at = json.find("\"title\":\"" + title + "\"");
  if (at == std::string::npos) return -1;
  std::smatch match;
  std::string rest = json.substr(at);
  if (!std::regex_search(rest, match, std::regex("\"" + name + "\":(\\d+)"))) return -1;
  return std::stoll(match[1]);
}

}  // namespace manifold::testing
