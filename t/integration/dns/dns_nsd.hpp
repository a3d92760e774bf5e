// NSD (Debian's nsd) as a reference server for the dns_* tests: one zone, one process, on
// loopback, NSD's default answers (minimal-responses: no), no rate limit; run in the foreground and
// stopped by pid on every exit path. And `dig` output normalised for comparing two servers line by
// line.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace manifold::testing {

class Nsd {
 public:
  // Files go in `dir` (created); the zone file is served as `origin`. `zoneExtra` lines go in the
  // zone's clause (e.g. "provide-xfr: 127.0.0.1 NOKEY", or request-xfr for a secondary).
  Nsd(const std::string& dir, const std::string& origin, const std::string& zoneFile,
      const std::string& zoneExtra = "");
  ~Nsd();
  Nsd(const Nsd&) = delete;

  static bool installed();
  // Lines added to NSD's server clause (e.g. "minimal-responses: yes"); call before start().
  void serverOptions(const std::string& lines) { serverExtra_ += lines; }
  // Starts NSD and waits until it answers `origin` SOA (a secondary: once it has transferred the
  // zone); false (see output()) when it does not within `waitMs`.
  bool start(int waitMs = 5000);
  int port() const { return port_; }
  std::string output() const;  // what NSD printed

 private:
  std::string dir_, origin_, zoneFile_, zoneExtra_, serverExtra_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// `dig +norec` for `query` against 127.0.0.1:port, without the lines that differ between servers
// and runs (ids, times, sizes, cookies). answerOnly drops the additional section and its count.
std::string normalizedDig(int port, const std::string& query, bool answerOnly = false);

// The RRs of a dig transfer's output, one per line, sorted (servers may order them differently).
std::vector<std::string> sortedRecords(const std::string& digOutput);

}  // namespace manifold::testing
