// The config reader a service needs: the INI file (inih) read into sections with line numbers,
// pure value parsers, and SectionReader, typed access to one section with the helpers every
// service parses (durations, sizes, lists, listen and remote addresses, networks, directories).
// Every error names `file:line: key: why`. Control plane only: errors are exceptions.
// The whole-file load() (master section, services, listen conflicts) is in master/config.hpp.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "worker/peer_address.hpp"

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

// One `[kind:name]` (or `[master]`) section, in file order. A key may occur more than once (each
// occurrence is an entry); SectionReader decides whether that is allowed.
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

// Reads and splits the file; syntax errors, over-long lines and duplicate sections are
// ConfigErrors. Repeated keys are kept in file order.
IniFile readIni(const std::string& path);

// A socket address from "host:port", "[v6]:port", "*:port" or "port".
struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // normalised "127.0.0.1:8080" / "[::1]:8080"
  int line = 0;      // config line that named it (0: not from a config key)
  bool tls = false;  // `listen = ADDR:PORT tls`: connections start with a TLS handshake
  int family() const { return addr.ss_family; }
  uint16_t port() const;
  bool isWildcard() const;
  // Same family and port, and same address or one side a wildcard: cannot both be bound.
  bool overlaps(const ListenAddress& other) const;
  bool operator==(const ListenAddress& other) const { return text == other.text; }
};

// Pure value parsers; return false (and set why) on a bad value.
bool parseSize(std::string_view text, uint64_t& out, std::string& why);    // 512, 64k, 256M, 1G
bool parseDuration(std::string_view text, Millis& out, std::string& why);  // 500ms, 30s, 5m, 1h
bool parseFlag(std::string_view text, bool& out, std::string& why);  // on/off yes/no true/false 1/0
bool parseInteger(std::string_view text, int64_t& out, std::string& why);
bool parseListenAddress(std::string_view text, ListenAddress& out, std::string& why);
// A peer to talk to: "ADDR" (then defaultPort), "ADDR:PORT", "[V6]" or "[V6]:PORT"; numeric,
// never a wildcard.
bool parseRemoteAddress(std::string_view text, uint16_t defaultPort, ListenAddress& out,
                        std::string& why);
// The words of a value (views into it; separated by spaces, tabs or commas), for keys with their
// own syntax.
std::vector<std::string_view> splitWords(std::string_view text);
// The inverse of parseSize / parseDuration for messages: "64k", "30s".
std::string formatSize(uint64_t bytes);
std::string formatDuration(Millis d);
// Relative to the current directory, lexically normalised.
std::string absolutePath(std::string_view path);

// Typed access to one section. Each getter marks its key used; finish() refuses unknown keys.
// Scalar getters refuse a repeated key ("duplicate key (first at line N)" at the repeat's line);
// list getters (list, listen, networks, addresses) take every occurrence, in file order, so a
// long list may be split over several lines.
class SectionReader {
 public:
  SectionReader(const IniFile& file, const Section& section);

  const Section& section() const { return section_; }
  const std::string& file() const { return file_.path; }
  bool has(std::string_view key) const;
  int lineOf(std::string_view key) const;  // first occurrence; the section's line when absent

  std::string text(std::string_view key, std::string_view fallback);
  bool flag(std::string_view key, bool fallback);
  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  uint64_t size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max);
  Millis duration(std::string_view key, Millis fallback, Millis min, Millis max);
  // The same duration in (fractional) seconds, as the loop's timers take it.
  double seconds(std::string_view key, Millis fallback, Millis min, Millis max);
  // One of `choices`; the error lists them.
  std::string choice(std::string_view key, std::string_view fallback,
                     std::initializer_list<std::string_view> choices);
  // A path; relative paths are made absolute against the current directory at load.
  std::string path(std::string_view key, std::string_view fallback);
  // A path that names an existing directory when mustExist; "" when absent without fallback,
  // "required" when mustExist and nothing is given.
  std::string directory(std::string_view key, std::string_view fallback, bool mustExist);

  // Whitespace- or comma-separated words.
  std::vector<std::string> list(std::string_view key, std::string_view fallback);
  // One or more listen addresses (space/comma separated); required. With allowTls, the word
  // `tls` after an address marks it (ListenAddress::tls); otherwise that word is refused.
  std::vector<ListenAddress> listen(std::string_view key, bool allowTls = false);
  // CIDR networks or single addresses, IPv4 or IPv6; "none" alone is the empty list.
  std::vector<net::Cidr> networks(std::string_view key, std::string_view fallback);
  // Peers to talk to (see parseRemoteAddress); empty when absent.
  std::vector<ListenAddress> addresses(std::string_view key, uint16_t defaultPort);
  // Every key starting with one of `prefixes` (pool.NAME, view.NAME ...), in file order, marked
  // used; a repeated key is refused as by the scalar getters.
  std::vector<std::reference_wrapper<const Entry>> prefixed(
      std::initializer_list<std::string_view> prefixes);

  // Every occurrence of a repeatable key with its own syntax (one tunnel peer per line), in
  // file order, marked used.
  std::vector<std::reference_wrapper<const Entry>> each(std::string_view key);

  [[noreturn]] void fail(std::string_view key, const std::string& why) const;
  [[noreturn]] void failAt(int line, std::string_view key, const std::string& why) const;
  // Refuses any key no getter asked for, and a repeated key no list getter took.
  void finish() const;

 private:
  const Entry* find(std::string_view key) const;
  // The only occurrence of key, marked used; nullptr when absent; a repeat is an error.
  const Entry* single(std::string_view key) const;
  // Every word of every occurrence of key with its line, marked used.
  struct Word {
    std::string text;
    int line;
  };
  std::vector<Word> words(std::string_view key, std::string_view fallback);
  void refuseRepeat(const Entry& first) const;

  const IniFile& file_;
  const Section& section_;
  std::vector<std::string> listKeys_;  // keys a list getter took: repeats allowed
};

}  // namespace manifold::config
