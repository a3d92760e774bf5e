// Helpers shared by the http_*_test.cpp and core_*_test.cpp integration tests: config sections
// and sites, test data, a raw HTTP/1.x client and response parser, request builders, counters
// from the status endpoint or manifold-shm, and a background child process. Everything talks
// to 127.0.0.1; the harness (harness.hpp) starts and stops the server.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "t/integration/lib/harness.hpp"

namespace manifold::testing {

std::string str(long long n);

// ---- config sections and sites ----
// One [http:NAME] section on 127.0.0.1:port.
std::string httpSection(const std::string& name, int port, const std::string& root,
                        const std::string& extra = "");
std::string statusSection(int port);
// The same on {port:NAME} ({port:status} for the status section): the Instance picks the port,
// re-picks it if taken, and tells it with port(NAME).
std::string httpSection(const std::string& name, const std::string& root,
                        const std::string& extra = "");
std::string statusSection();
// One [http:NAME] section on 127.0.0.1:port serving {dir}/www (see makeSite).
std::string httpSite(int port, const std::string& name = "www");
// The same on {port:NAME}.
std::string httpSite(const std::string& name = "www");
// {dir}/www with one file, /file.
void makeSite(const Instance& m);

// ---- test data ----
// A deterministic byte pattern (all 256 values, NULs included) so ranges are checkable.
std::string pattern(size_t size, unsigned seed = 1);
// Compressible text: numbered lines.
std::string textOf(size_t size, const std::string& word = "line");
std::string sha256(const std::string& path);  // of a file, hex
std::string gunzip(const std::string& data);

// ---- HTTP responses ----
struct Reply {
  int status = 0;
  std::string head;  // status line and header lines, without the blank line
  std::string body;
  std::string statusLine() const { return head.substr(0, head.find("\r\n")); }
  // Values of every header line called `name` (case-insensitive), trimmed.
  std::vector<std::string> all(const std::string& name) const;
  std::string header(const std::string& name) const;  // the first one, "" when absent
  bool has(const std::string& name) const { return !all(name).empty(); }
};

// Parses one response from the front of `data`. Returns the bytes it used, 0 when incomplete.
// A response without Content-Length (and which may have a body) runs to the end of the data
// only when `eof` is set.
size_t parseReply(std::string_view data, Reply& out, bool noBody = false, bool eof = false);
// Every response in `data` (e.g. what rawExchange returned); noBody[i] marks HEAD answers.
std::vector<Reply> parseReplies(std::string_view data, std::vector<bool> noBody = {});
// One request on a fresh connection (half-closed after sending), its response.
Reply one(int port, const std::string& request, bool noBody = false, int timeoutMs = 3000);

// ---- HTTP requests ----
std::string get(const std::string& path, const std::string& extra = "",
                const std::string& host = "localhost");
std::string getClose(const std::string& path, const std::string& extra = "");
// Status code of one GET on a fresh connection (0: no answer within the timeout).
int getStatus(int port, const std::string& path = "/file", int timeoutMs = 2000);
// Number of fresh-connection GETs of /file that did not answer 200.
int countFailures(int port, int requests, int timeoutMs = 2000);

// A raw TCP client that keeps its connection.
class RawClient {
 public:
  explicit RawClient(int port, int receiveBuffer = 0);
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close();
  bool send(std::string_view data);
  // Waits up to timeoutMs for bytes: >0 read, 0 EOF, -1 timeout, -2 error (reset).
  int readSome(int timeoutMs);
  // One response; false on timeout or when the connection ends first.
  bool read(Reply& reply, int timeoutMs = 3000, bool noBody = false);
  Reply exchange(const std::string& request, bool noBody = false);
  // True when the peer closes (EOF or reset) within timeoutMs; bytes read meanwhile are kept.
  bool waitClosed(int timeoutMs);
  std::string& buffer() { return buffer_; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// ---- counters ----
// A counter of `service` from /metrics.json of a [status] section; -1 when absent.
long long counter(int statusPort, const std::string& service, const std::string& name);
// One counter of one service in a /metrics.json or manifold-shm --json document; -1 when absent.
long long jsonCounter(const std::string& json, const std::string& title, const std::string& name);

}  // namespace manifold::testing
