// Config: INI (inih) read into sections with line numbers, then typed and validated.
// Every error names `file:line: key: why`. Control plane only: errors are exceptions.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace manifold {
class ServiceConfig;
}

namespace manifold::config {

using Millis = std::chrono::milliseconds;

class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, const std::string& key, const std::string& why);
};

struct Entry {
  std::string key;
  std::string value;
  int line = 0;
  mutable bool used = false;
};

// One `[kind:name]` (or `[master]`) section, in file order.
struct Section {
  std::string title;  // as written: "http:www"
  std::string kind;   // "http"
  std::string name;   // "www" (empty for [master])
  int line = 0;
  std::vector<Entry> entries;
};

struct IniFile {
  std::string path;
  std::vector<Section> sections;
};

// Reads and splits the file; syntax errors and duplicate sections/keys are ConfigErrors.
IniFile readIni(const std::string& path);

// A socket address from "host:port", "[v6]:port", "*:port" or "port".
struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // normalised "127.0.0.1:8080" / "[::1]:8080"
  int family() const { return addr.ss_family; }
  uint16_t port() const;
  bool isWildcard() const;
  // Same family and port, and same address or one side a wildcard: cannot both be bound.
  bool overlaps(const ListenAddress& other) const;
  bool operator==(const ListenAddress& other) const { return text == other.text; }
};

// Pure value parsers; return false (and set why) on a bad value.
bool parseSize(std::string_view text, uint64_t& out, std::string& why);        // 512, 64k, 256M, 1G
bool parseDuration(std::string_view text, Millis& out, std::string& why);     // 500ms, 30s, 5m, 1h
bool parseFlag(std::string_view text, bool& out, std::string& why);           // on/off yes/no true/false 1/0
bool parseInteger(std::string_view text, int64_t& out, std::string& why);
bool parseListenAddress(std::string_view text, ListenAddress& out, std::string& why);

// Typed access to one section. Each getter marks its key used; finish() refuses unknown keys.
class SectionReader {
 public:
  SectionReader(const IniFile& file, const Section& section);

  const Section& section() const { return section_; }
  const std::string& file() const { return file_.path; }
  bool has(std::string_view key) const;
  int lineOf(std::string_view key) const;  // the section's line when the key is absent

  std::string text(std::string_view key, std::string_view fallback);
  bool flag(std::string_view key, bool fallback);
  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  uint64_t size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max);
  Millis duration(std::string_view key, Millis fallback, Millis min, Millis max);
  // One of `choices`; the error lists them.
  std::string choice(std::string_view key, std::string_view fallback,
                     std::initializer_list<std::string_view> choices);
  // Whitespace- or comma-separated words.
  std::vector<std::string> list(std::string_view key, std::string_view fallback);
  // A path; relative paths are made absolute against the current directory at load.
  std::string path(std::string_view key, std::string_view fallback);
  // One or more listen addresses (space/comma separated); required.
  std::vector<ListenAddress> listen(std::string_view key);

  [[noreturn]] void fail(std::string_view key, const std::string& why) const;
  // Refuses any key no getter asked for.
  void finish() const;

 private:
  const Entry* find(std::string_view key) const;
  const IniFile& file_;
  const Section& section_;
};

struct MasterConfig {
  unsigned workers = 1;  // resolved: auto = online CPUs
  bool cpuAffinity = false;
  std::string pidfile;
  bool daemon = false;
  std::string user;   // empty: keep the current user
  std::string group;  // empty: the user's primary group
  std::string shmName = "manifold";
  uint64_t shmSize = 256ull << 20;
  Millis shutdownTimeout{30000};
  std::string errorLog;  // empty or "stderr": standard error
  std::string logLevel = "info";
  uint64_t workerRlimitNofile = 0;  // 0: leave as is
  unsigned workerConnections = 16384;  // TCP connection cap per worker (all services)
  Millis respawnDelayMax{5000};     // back-off ceiling for a crashing worker
  unsigned crashLoopLimit = 5;      // deaths within crashLoopWindow that stop respawning
  Millis crashLoopWindow{10000};
};

struct Config {
  std::string path;
  MasterConfig master;
  std::vector<std::unique_ptr<ServiceConfig>> services;
  ~Config();
};

// Reads, types and validates the whole file (master section, every service section through
// its protocol, listen-address conflicts across services).
std::unique_ptr<Config> load(const std::string& path);

}  // namespace manifold::config
