// Unit tests for master/config: value parsers, the INI reader, SectionReader, load().
#include "master/config.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "protocols/http/limits_config.hpp"
#include "protocols/service.hpp"

namespace manifold::config {
namespace {

// --- a tiny protocol so load() has something to dispatch to ---------------------------------
// [testproto:NAME] listen = ADDRS, transport = tcp | udp | both.
class TestProtoConfig : public ServiceConfig {
 public:
  std::vector<ListenAddress> addresses;
  std::string transport;
  int listenLine = 0;

  std::vector<ListenRequest> listeners() const override {
    std::vector<ListenRequest> out;
    for (const ListenAddress& a : addresses) {
      if (transport != "udp") out.push_back(ListenRequest{a, Transport::Tcp, listenLine});
      if (transport != "tcp") out.push_back(ListenRequest{a, Transport::Udp, listenLine});
    }
    return out;
  }
  std::vector<CounterSpec> counters() const override { return {}; }
  std::unique_ptr<Service> createService(ServiceContext&) const override { return nullptr; }
};

std::unique_ptr<ServiceConfig> parseTestProto(SectionReader& r) {
  auto cfg = std::make_unique<TestProtoConfig>();
  cfg->addresses = r.listen("listen");
  cfg->listenLine = r.lineOf("listen");
  cfg->transport = r.choice("transport", "tcp", {"tcp", "udp", "both"});
  return cfg;
}
MANIFOLD_PROTOCOL("testproto", parseTestProto);

// --- helpers -----------------------------------------------------------------------------------

class TempIni {
 public:
  explicit TempIni(const std::string& content) {
    char name[] = "/tmp/manifold-config-test-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) std::abort();
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = write(fd, content.data() + done, content.size() - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    close(fd);
    path_ = name;
  }
  ~TempIni() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// what() of the ConfigError load() throws, or "no error".
std::string loadError(const std::string& content, std::string* path = nullptr) {
  TempIni file(content);
  if (path) *path = file.path();
  try {
    load(file.path());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// Expects load(content) to fail with exactly "FILE:" + rest.
void expectError(const std::string& content, const std::string& rest) {
  std::string path;
  std::string what = loadError(content, &path);
  EXPECT_EQ(what, path + ":" + rest) << "config:\n" << content;
}

std::unique_ptr<Config> loadText(const std::string& content) {
  TempIni file(content);
  return load(file.path());
}

std::string cwd() { return std::filesystem::current_path().string(); }

unsigned onlineCpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return static_cast<unsigned>(n < 1 ? 1 : n > 256 ? 256 : n);
}

uint64_t size(std::string_view text) {
  uint64_t out = 0;
  std::string why;
  EXPECT_TRUE(parseSize(text, out, why)) << text << ": " << why;
  return out;
}

bool badSize(std::string_view text, std::string* whyOut = nullptr) {
  uint64_t out = 0;
  std::string why;
  bool bad = !parseSize(text, out, why);
  if (whyOut) *whyOut = why;
  return bad && !why.empty();
}

int64_t ms(std::string_view text) {
  Millis out{};
  std::string why;
  EXPECT_TRUE(parseDuration(text, out, why)) << text << ": " << why;
  return out.count();
}

bool badDuration(std::string_view text) {
  Millis out{};
  std::string why;
  return !parseDuration(text, out, why) && !why.empty();
}

ListenAddress addr(std::string_view text) {
  ListenAddress out;
  std::string why;
  EXPECT_TRUE(parseListenAddress(text, out, why)) << text << ": " << why;
  return out;
}

std::string badAddr(std::string_view text) {
  ListenAddress out;
  std::string why;
  if (parseListenAddress(text, out, why)) return "accepted as " + out.text;
  return why;
}

// --- value parsers -------------------------------------------------------------------------

TEST(ConfigValues, Sizes) {
  EXPECT_EQ(size("0"), 0u);
  EXPECT_EQ(size("512"), 512u);
  EXPECT_EQ(size("64k"), 64u << 10);
  EXPECT_EQ(size("64K"), 64u << 10);
  EXPECT_EQ(size("256M"), 256u << 20);
  EXPECT_EQ(size("256m"), 256u << 20);
  EXPECT_EQ(size("1G"), 1ull << 30);
  EXPECT_EQ(size("1g"), 1ull << 30);
  EXPECT_EQ(size("007k"), 7u << 10);
  EXPECT_EQ(size("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(size("17179869183G"), 17179869183ull << 30);

  std::string why;
  EXPECT_TRUE(badSize("", &why));
  EXPECT_EQ(why, "expected a size like 512, 64k, 256M, 1G");
  for (auto text : {"k", "-1", "+1", "1b", "1kb", "1 k", " 1", "1.5M", "1T", "1KK", "0x10"}) {
    EXPECT_TRUE(badSize(text)) << text;
  }
  EXPECT_TRUE(badSize("18446744073709551616", &why));
  EXPECT_EQ(why, "size is too large");
  EXPECT_TRUE(badSize("17179869184G", &why));  // 2^34 G = 2^64
  EXPECT_EQ(why, "size is too large");
  EXPECT_TRUE(badSize("99999999999999999999999k"));
}

TEST(ConfigValues, Durations) {
  EXPECT_EQ(ms("500ms"), 500);
  EXPECT_EQ(ms("30s"), 30000);
  EXPECT_EQ(ms("30"), 30000);  // bare number: seconds
  EXPECT_EQ(ms("0"), 0);
  EXPECT_EQ(ms("0ms"), 0);
  EXPECT_EQ(ms("5m"), 300000);
  EXPECT_EQ(ms("1h"), 3600000);
  EXPECT_EQ(ms("9223372036854775807ms"), INT64_MAX);
  for (auto text :
       {"", "ms", "s", "1d", "1S", "1MS", "1.5s", "-1s", "+1s", "1 s", "1sec", "1m30s", "1hh"}) {
    EXPECT_TRUE(badDuration(text)) << text;
  }
  EXPECT_TRUE(badDuration("9223372036854775808ms"));
  EXPECT_TRUE(badDuration("9223372036854776s"));
  EXPECT_TRUE(badDuration("2562047788015216h"));
  EXPECT_TRUE(badDuration("99999999999999999999999"));

  Millis out{};
  std::string why;
  EXPECT_FALSE(parseDuration("1d", out, why));
  EXPECT_EQ(why, "expected a duration like 500ms, 30s, 5m, 1h");
}

TEST(ConfigValues, Flags) {
  for (auto text : {"on", "yes", "true", "1", "ON", "Yes", "TRUE"}) {
    bool out = false;
    std::string why;
    EXPECT_TRUE(parseFlag(text, out, why)) << text;
    EXPECT_TRUE(out) << text;
  }
  for (auto text : {"off", "no", "false", "0", "OFF", "No"}) {
    bool out = true;
    std::string why;
    EXPECT_TRUE(parseFlag(text, out, why)) << text;
    EXPECT_FALSE(out) << text;
  }
  for (auto text : {"", "2", "onn", "y", "enabled", " on"}) {
    bool out = false;
    std::string why;
    EXPECT_FALSE(parseFlag(text, out, why)) << text;
    EXPECT_EQ(why, "expected on or off (or yes/no, true/false, 1/0)");
  }
}

TEST(ConfigValues, Integers) {
  auto ok = [](std::string_view text) {
    int64_t out = 0;
    std::string why;
    EXPECT_TRUE(parseInteger(text, out, why)) << text << ": " << why;
    return out;
  };
  auto bad = [](std::string_view text) {
    int64_t out = 0;
    std::string why;
    EXPECT_FALSE(parseInteger(text, out, why)) << text;
    return why;
  };
  EXPECT_EQ(ok("0"), 0);
  EXPECT_EQ(ok("42"), 42);
  EXPECT_EQ(ok("-5"), -5);
  EXPECT_EQ(ok("-0"), 0);
  EXPECT_EQ(ok("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ok("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(bad("9223372036854775808"), "integer is out of range");
  EXPECT_EQ(bad("-9223372036854775809"), "integer is out of range");
  EXPECT_EQ(bad("99999999999999999999999"), "integer is out of range");
  for (auto text : {"", "-", "+1", "1x", "0x10", "1k", " 1", "1 ", "--1", "1.0"}) {
    EXPECT_EQ(bad(text), "expected an integer") << text;
  }
}

TEST(ConfigValues, ListenAddresses) {
  ListenAddress a = addr("127.0.0.1:8080");
  EXPECT_EQ(a.text, "127.0.0.1:8080");
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.port(), 8080);
  EXPECT_EQ(a.len, sizeof(sockaddr_in));
  EXPECT_FALSE(a.isWildcard());
  auto* sin = reinterpret_cast<const sockaddr_in*>(&a.addr);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0x7f000001u);
  EXPECT_EQ(ntohs(sin->sin_port), 8080);

  ListenAddress v6 = addr("[::1]:8080");
  EXPECT_EQ(v6.text, "[::1]:8080");
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_EQ(v6.port(), 8080);
  EXPECT_EQ(v6.len, sizeof(sockaddr_in6));
  EXPECT_FALSE(v6.isWildcard());
  EXPECT_EQ(addr("[0:0:0:0:0:0:0:1]:80").text, "[::1]:80");
  EXPECT_EQ(addr("[2001:DB8::A]:53").text, "[2001:db8::a]:53");

  ListenAddress star = addr("*:8080");
  EXPECT_EQ(star.text, "0.0.0.0:8080");
  EXPECT_EQ(star.family(), AF_INET);
  EXPECT_TRUE(star.isWildcard());
  EXPECT_EQ(addr("8080").text, "0.0.0.0:8080");
  EXPECT_TRUE(addr("8080").isWildcard());
  EXPECT_TRUE(addr("0.0.0.0:1").isWildcard());
  EXPECT_EQ(addr("1").port(), 1);
  EXPECT_EQ(addr("65535").port(), 65535);

  ListenAddress any6 = addr("[::]:8080");
  EXPECT_EQ(any6.text, "[::]:8080");
  EXPECT_EQ(any6.family(), AF_INET6);
  EXPECT_TRUE(any6.isWildcard());

  EXPECT_EQ(badAddr("0"), "port must be between 1 and 65535");
  EXPECT_EQ(badAddr("127.0.0.1:0"), "port must be between 1 and 65535");
  EXPECT_EQ(badAddr("65536"), "port must be between 1 and 65535");
  EXPECT_EQ(badAddr("127.0.0.1:99999999999999999999999"), "port must be between 1 and 65535");
  EXPECT_EQ(badAddr("127.0.0.1:"), "expected a port number after ':'");
  EXPECT_EQ(badAddr("127.0.0.1:http"), "expected a port number after ':'");
  EXPECT_EQ(badAddr("127.0.0.1:-1"), "expected a port number after ':'");
  EXPECT_EQ(badAddr("localhost:80"),
            "'localhost' is not a numeric IPv4 address (hostnames are not resolved)");
  EXPECT_EQ(badAddr("example.com:80"),
            "'example.com' is not a numeric IPv4 address (hostnames are not resolved)");
  EXPECT_EQ(badAddr("::1:80"), "IPv6 addresses need brackets, like [::1]:8080");
  EXPECT_EQ(badAddr("[localhost]:80"),
            "'localhost' is not a numeric IPv6 address (hostnames are not resolved)");
  EXPECT_EQ(badAddr("[fe80::1%lo]:80"),
            "'fe80::1%lo' is not a numeric IPv6 address (hostnames are not resolved)");
  EXPECT_EQ(badAddr("[::ffff:127.0.0.1]:80"),
            "IPv4-mapped IPv6 addresses are not supported: write the IPv4 address");
  const std::string example = "expected an address like 127.0.0.1:8080, [::1]:8080, *:8080 or 8080";
  for (auto text : {"", "127.0.0.1", "[::1]", "[::1]80", "[::1", "[::1]:", "localhost"}) {
    std::string why = badAddr(text);
    EXPECT_TRUE(why == example || why == "expected a port number after ':'") << text << ": " << why;
  }
  for (auto text : {"256.0.0.1:80", "1.2.3:80", "1.2.3.4.5:80", " 1.2.3.4:80", "*:*", ":80"}) {
    EXPECT_NE(badAddr(text).rfind("accepted", 0), 0u) << text;
  }
}

TEST(ConfigValues, Overlaps) {
  EXPECT_TRUE(addr("127.0.0.1:80").overlaps(addr("127.0.0.1:80")));
  EXPECT_TRUE(addr("127.0.0.1:80").overlaps(addr("*:80")));
  EXPECT_TRUE(addr("80").overlaps(addr("10.1.2.3:80")));
  EXPECT_FALSE(addr("127.0.0.1:80").overlaps(addr("127.0.0.2:80")));
  EXPECT_FALSE(addr("127.0.0.1:80").overlaps(addr("127.0.0.1:81")));
  EXPECT_FALSE(addr("*:80").overlaps(addr("*:81")));
  EXPECT_TRUE(addr("[::]:80").overlaps(addr("[::1]:80")));
  EXPECT_TRUE(addr("[::1]:80").overlaps(addr("[::1]:80")));
  EXPECT_FALSE(addr("[::1]:80").overlaps(addr("[::2]:80")));
  // IPV6_V6ONLY on every v6 socket: the families never overlap.
  EXPECT_FALSE(addr("[::]:80").overlaps(addr("*:80")));
  EXPECT_FALSE(addr("*:80").overlaps(addr("[::]:80")));
  EXPECT_FALSE(addr("[::]:80").overlaps(addr("127.0.0.1:80")));
  EXPECT_TRUE(addr("*:80") == addr("0.0.0.0:80"));
  EXPECT_FALSE(addr("*:80") == addr("[::]:80"));
}

// --- readIni -------------------------------------------------------------------------------

TEST(ConfigIni, SectionsEntriesAndLines) {
  TempIni file(
      "\xEF\xBB\xBF; leading comment\n"   // 1 (BOM skipped)
      "# another\n"                       // 2
      "[master]\n"                        // 3
      "workers = 2   ; inline comment\n"  // 4
      "\n"                                // 5
      "   pidfile=  x.pid  \r\n"          // 6: indented, CRLF
      "[http:www]\r\n"                    // 7
      "root: ./www\n"                     // 8
      "note = a;b # not a comment\n"      // 9
      "[tftp:empty] ; no keys\n"          // 10
      "\t[dns:main]\n"                    // 11
      "  listen = 1 , 2\n");              // 12, no trailing newline needed
  IniFile ini = readIni(file.path());
  EXPECT_EQ(ini.path, file.path());
  ASSERT_EQ(ini.sections.size(), 4u);

  const Section& m = ini.sections[0];
  EXPECT_EQ(m.title, "master");
  EXPECT_EQ(m.kind, "master");
  EXPECT_EQ(m.name, "");
  EXPECT_EQ(m.line, 3);
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[0].key, "workers");
  EXPECT_EQ(m.entries[0].value, "2");
  EXPECT_EQ(m.entries[0].line, 4);
  EXPECT_EQ(m.entries[1].key, "pidfile");
  EXPECT_EQ(m.entries[1].value, "x.pid");
  EXPECT_EQ(m.entries[1].line, 6);

  const Section& h = ini.sections[1];
  EXPECT_EQ(h.title, "http:www");
  EXPECT_EQ(h.kind, "http");
  EXPECT_EQ(h.name, "www");
  EXPECT_EQ(h.line, 7);
  ASSERT_EQ(h.entries.size(), 2u);
  EXPECT_EQ(h.entries[0].key, "root");
  EXPECT_EQ(h.entries[0].value, "./www");
  EXPECT_EQ(h.entries[0].line, 8);
  EXPECT_EQ(h.entries[1].value, "a;b # not a comment");
  EXPECT_EQ(h.entries[1].line, 9);

  EXPECT_EQ(ini.sections[2].title, "tftp:empty");
  EXPECT_EQ(ini.sections[2].line, 10);
  EXPECT_TRUE(ini.sections[2].entries.empty());

  EXPECT_EQ(ini.sections[3].title, "dns:main");
  EXPECT_EQ(ini.sections[3].line, 11);
  ASSERT_EQ(ini.sections[3].entries.size(), 1u);
  EXPECT_EQ(ini.sections[3].entries[0].value, "1 , 2");
  EXPECT_EQ(ini.sections[3].entries[0].line, 12);
}

TEST(ConfigIni, IndentedLinesAreNotContinuations) {
  TempIni file("[a:b]\nx = 1\n  y = 2\n    z\n");
  try {
    readIni(file.path());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), file.path() + ":4: syntax error: expected key = value");
  }
  TempIni ok("[a:b]\nx = 1\n  y = 2\n");
  IniFile ini = readIni(ok.path());
  ASSERT_EQ(ini.sections[0].entries.size(), 2u);
  EXPECT_EQ(ini.sections[0].entries[1].key, "y");
  EXPECT_EQ(ini.sections[0].entries[1].value, "2");
}

TEST(ConfigIni, EmptyFile) {
  TempIni file("");
  EXPECT_TRUE(readIni(file.path()).sections.empty());
}

TEST(ConfigIni, Errors) {
  expectError("[master]\nworkers = 1\nworkers = 2\n",
              "3: workers: duplicate key (first at line 2)");
  expectError("[master]\n[testproto:a]\nlisten = 9\n[testproto:a]\n",
              "4: duplicate section [testproto:a] (first at line 2)");
  expectError("[master]\n\n[master]\n", "3: duplicate section [master] (first at line 1)");
  expectError("workers = 1\n[master]\n",
              "1: workers: key outside any section (put it under [master] or [kind:name])");
  expectError("[master]\nworkers\n", "2: syntax error: expected key = value");
  expectError("[master]\nworkers ; = 1\n", "2: syntax error: expected key = value");
  expectError("[master\nworkers = 1\n", "1: syntax error: section title without ']'");
  expectError("[master]\n= 1\n", "2: missing key before '='");
  expectError("[master] junk\n", "1: unexpected text after the section title");
  std::string withNul = "[master]\nuser = a";
  withNul.push_back('\0');
  withNul += "b\n";
  expectError(withNul, "2: NUL byte in line");
  expectError("[master]\nuser = " + std::string(300, 'a') + "\n",
              "2: line is too long (at most 199 characters after indentation)");
  // A 199-character line is fine.
  EXPECT_EQ(loadError("[master]\nuser = " + std::string(199 - 7, 'a') + "\n"), "no error");

  const std::string titleWhy =
      "]' (expected [master] or [kind:name], each part 1-64 of a-z 0-9 _ -)";
  for (std::string title : {"Master", "http", "http:", ":www", "http:w:w", "master:x", " master ",
                            "a b:c", "HTTP:www", "http:WWW", "", "http:www.x"}) {
    expectError("\n[" + title + "]\n", "2: bad section title '[" + title + titleWhy);
  }
  expectError("[a:" + std::string(65, 'b') + "]\n",
              "1: bad section title '[a:" + std::string(65, 'b') + titleWhy);
  EXPECT_EQ(loadError("[testproto:" + std::string(64, 'b') + "]\nlisten = 9\n"), "no error");
}

TEST(ConfigIni, MissingFile) {
  try {
    readIni("/nonexistent/manifold.ini");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/manifold.ini:0: No such file or directory");
  }
  try {
    load("/tmp");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/tmp:0: Is a directory");
  }
}

TEST(ConfigErrorText, Format) {
  EXPECT_STREQ(ConfigError("a.ini", 3, "workers", "bad").what(), "a.ini:3: workers: bad");
  EXPECT_STREQ(ConfigError("a.ini", 0, "", "gone").what(), "a.ini:0: gone");
}

// --- master section ------------------------------------------------------------------------

TEST(ConfigMaster, Defaults) {
  for (std::string content : {"", "[master]\n", "; only a comment\n"}) {
    auto cfg = loadText(content);
    const MasterConfig& m = cfg->master;
    EXPECT_EQ(m.workers, onlineCpus());
    EXPECT_FALSE(m.cpuAffinity);
    EXPECT_EQ(m.pidfile, cwd() + "/manifold.pid");
    EXPECT_FALSE(m.daemon);
    EXPECT_EQ(m.user, "");
    EXPECT_EQ(m.group, "");
    EXPECT_EQ(m.shmName, "manifold");
    EXPECT_EQ(m.shmSize, 256ull << 20);
    EXPECT_EQ(m.shutdownTimeout, Millis(30000));
    EXPECT_EQ(m.errorLog, "stderr");
    EXPECT_EQ(m.logLevel, "info");
    EXPECT_EQ(m.workerRlimitNofile, 0u);
    EXPECT_EQ(m.respawnDelayMax, Millis(5000));
    EXPECT_EQ(m.crashLoopLimit, 5u);
    EXPECT_EQ(m.crashLoopWindow, Millis(10000));
    EXPECT_TRUE(cfg->services.empty());
  }
}

TEST(ConfigMaster, AllKeys) {
  TempIni file(
      "[master]\n"
      "workers = 3\n"
      "cpu_affinity = on\n"
      "pidfile = /run/m.pid\n"
      "daemon = yes\n"
      "user = www-data\n"
      "group = nogroup\n"
      "shm_name = Test_1-x\n"
      "shm_size = 1G\n"
      "shutdown_timeout = 500ms\n"
      "error_log = /var/log/manifold.log\n"
      "log_level = debug\n"
      "worker_rlimit_nofile = 65536\n"
      "respawn_delay_max = 1m\n"
      "crash_loop_limit = 10\n"
      "crash_loop_window = 1h\n");
  auto cfg = load(file.path());
  const MasterConfig& m = cfg->master;
  EXPECT_EQ(cfg->path, file.path());
  EXPECT_EQ(m.workers, 3u);
  EXPECT_TRUE(m.cpuAffinity);
  EXPECT_EQ(m.pidfile, "/run/m.pid");
  EXPECT_TRUE(m.daemon);
  EXPECT_EQ(m.user, "www-data");
  EXPECT_EQ(m.group, "nogroup");
  EXPECT_EQ(m.shmName, "Test_1-x");
  EXPECT_EQ(m.shmSize, 1ull << 30);
  EXPECT_EQ(m.shutdownTimeout, Millis(500));
  EXPECT_EQ(m.errorLog, "/var/log/manifold.log");
  EXPECT_EQ(m.logLevel, "debug");
  EXPECT_EQ(m.workerRlimitNofile, 65536u);
  EXPECT_EQ(m.respawnDelayMax, Millis(60000));
  EXPECT_EQ(m.crashLoopLimit, 10u);
  EXPECT_EQ(m.crashLoopWindow, Millis(3600000));
}

TEST(ConfigMaster, Workers) {
  EXPECT_EQ(loadText("[master]\nworkers = auto\n")->master.workers, onlineCpus());
  EXPECT_EQ(loadText("[master]\nworkers = 1\n")->master.workers, 1u);
  EXPECT_EQ(loadText("[master]\nworkers = 256\n")->master.workers, 256u);
  const std::string why = "2: workers: expected auto or a number between 1 and 256";
  expectError("[master]\nworkers = 0\n", why);
  expectError("[master]\nworkers = 257\n", why);
  expectError("[master]\nworkers = -1\n", why);
  expectError("[master]\nworkers = many\n", why);
  expectError("[master]\nworkers =\n", why);
}

TEST(ConfigMaster, RelativePathsBecomeAbsolute) {
  auto cfg = loadText("[master]\npidfile = run/m.pid\nerror_log = ./logs/../error.log\n");
  EXPECT_EQ(cfg->master.pidfile, cwd() + "/run/m.pid");
  EXPECT_EQ(cfg->master.errorLog, cwd() + "/error.log");
  EXPECT_EQ(loadText("[master]\nerror_log = stderr\n")->master.errorLog, "stderr");
  EXPECT_EQ(loadText("[master]\nerror_log =\n")->master.errorLog, "stderr");
  expectError("[master]\npidfile =\n", "2: pidfile: expected a path");
}

TEST(ConfigMaster, BadValues) {
  expectError("[master]\n\ndaemon = maybe\n",
              "3: daemon: expected on or off (or yes/no, true/false, 1/0)");
  expectError("[master]\nshm_size = 512k\n", "2: shm_size: must be between 1M and 64G");
  expectError("[master]\nshm_size = 65G\n", "2: shm_size: must be between 1M and 64G");
  expectError("[master]\nshm_size = lots\n",
              "2: shm_size: expected a size like 512, 64k, 256M, 1G");
  expectError("[master]\nshm_size = 99999999999G\n", "2: shm_size: size is too large");
  expectError("[master]\nshutdown_timeout = 2h\n",
              "2: shutdown_timeout: must be between 0s and 1h");
  expectError("[master]\nshutdown_timeout = soon\n",
              "2: shutdown_timeout: expected a duration like 500ms, 30s, 5m, 1h");
  expectError("[master]\ncrash_loop_window = 500ms\n",
              "2: crash_loop_window: must be between 1s and 1h");
  expectError("[master]\ncrash_loop_limit = 0\n",
              "2: crash_loop_limit: must be between 1 and 1000");
  expectError("[master]\nworker_rlimit_nofile = 16777217\n",
              "2: worker_rlimit_nofile: must be between 0 and 16777216");
  expectError("[master]\nworker_rlimit_nofile = x\n",
              "2: worker_rlimit_nofile: expected an integer");
  expectError("[master]\nlog_level = verbose\n",
              "2: log_level: expected one of: debug, info, notice, warn, error, crit");
  expectError("[master]\nshm_name = a/b\n", "2: shm_name: expected 1-32 of A-Z a-z 0-9 _ -");
  expectError("[master]\nshm_name = " + std::string(33, 'a') + "\n",
              "2: shm_name: expected 1-32 of A-Z a-z 0-9 _ -");
  expectError("[master]\nshm_name =\n", "2: shm_name: expected 1-32 of A-Z a-z 0-9 _ -");
  expectError("[master]\nworkers = 2\nworkres = 3\n", "3: workres: unknown key in [master]");
}

// --- SectionReader -------------------------------------------------------------------------

class SectionReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = std::make_unique<TempIni>(
        "[x:y]\n"                            // 1
        "name = hello world\n"               // 2
        "words = a, b,,c  d ,\n"             // 3
        "empty =\n"                          // 4
        "rel = data/files\n"                 // 5
        "abs = /srv//data/\n"                // 6
        "listen = 127.0.0.1:1 [::1]:1, 2\n"  // 7
        "dup = 1.2.3.4:5 1.2.3.4:5\n"        // 8
        "over = 1.2.3.4:5 *:5\n"             // 9
        "badaddr = 1.2.3.4:5 localhost:6\n"  // 10
        "mode = fast\n"                      // 11
        "n = 12\n");                         // 12
    ini_ = readIni(file_->path());
    reader_ = std::make_unique<SectionReader>(ini_, ini_.sections.at(0));
  }
  std::string errorOf(const std::function<void()>& f) {
    try {
      f();
    } catch (const ConfigError& e) {
      std::string what = e.what();
      std::string prefix = file_->path() + ":";
      return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
    }
    return "no error";
  }
  std::unique_ptr<TempIni> file_;
  IniFile ini_;
  std::unique_ptr<SectionReader> reader_;
};

TEST_F(SectionReaderTest, Getters) {
  SectionReader& r = *reader_;
  EXPECT_EQ(r.file(), file_->path());
  EXPECT_EQ(r.section().title, "x:y");
  EXPECT_TRUE(r.has("name"));
  EXPECT_FALSE(r.has("missing"));
  EXPECT_EQ(r.lineOf("words"), 3);
  EXPECT_EQ(r.lineOf("missing"), 1);

  EXPECT_EQ(r.text("name", "fallback"), "hello world");
  EXPECT_EQ(r.text("missing", "fallback"), "fallback");
  EXPECT_EQ(r.text("empty", "fallback"), "");
  EXPECT_EQ(r.list("words", ""), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(r.list("missing", "p, q r"), (std::vector<std::string>{"p", "q", "r"}));
  EXPECT_EQ(r.path("rel", ""), cwd() + "/data/files");
  EXPECT_EQ(r.path("abs", ""), "/srv/data/");
  EXPECT_EQ(r.path("missing", "./fallback"), cwd() + "/fallback");
  EXPECT_EQ(r.path("missing", ""), "");
  EXPECT_EQ(r.integer("n", 0, 0, 100), 12);
  EXPECT_EQ(r.integer("missing", 7, 0, 100), 7);
  EXPECT_EQ(r.size("missing", 99, 0, 100), 99u);
  EXPECT_EQ(r.duration("missing", Millis(5), Millis(0), Millis(10)), Millis(5));
  EXPECT_TRUE(r.flag("missing", true));
  EXPECT_EQ(r.choice("mode", "slow", {"slow", "fast"}), "fast");
  EXPECT_EQ(r.choice("missing", "slow", {"slow", "fast"}), "slow");

  std::vector<ListenAddress> listen = r.listen("listen");
  ASSERT_EQ(listen.size(), 3u);
  EXPECT_EQ(listen[0].text, "127.0.0.1:1");
  EXPECT_EQ(listen[1].text, "[::1]:1");
  EXPECT_EQ(listen[2].text, "0.0.0.0:2");

  // Not yet read: dup, over, badaddr.
  EXPECT_EQ(errorOf([&] { r.finish(); }), "8: dup: unknown key in [x:y]");
}

TEST_F(SectionReaderTest, Errors) {
  SectionReader& r = *reader_;
  EXPECT_EQ(errorOf([&] { r.listen("missing"); }),
            "1: missing: required (for example: missing = 127.0.0.1:8080)");
  EXPECT_EQ(errorOf([&] { r.listen("empty"); }),
            "4: empty: expected one or more addresses like 127.0.0.1:8080");
  EXPECT_EQ(errorOf([&] { r.listen("dup"); }), "8: dup: duplicate address 1.2.3.4:5");
  EXPECT_EQ(errorOf([&] { r.listen("over"); }), "9: over: 0.0.0.0:5 overlaps 1.2.3.4:5");
  EXPECT_EQ(errorOf([&] { r.listen("badaddr"); }),
            "10: badaddr: 'localhost:6': 'localhost' is not a numeric IPv4 address (hostnames "
            "are not resolved)");
  EXPECT_EQ(errorOf([&] {
              r.choice("mode", "a", {"a", "b", "c"});
            }),
            "11: mode: expected one of: a, b, c");
  EXPECT_EQ(errorOf([&] { r.integer("n", 0, 1, 10); }), "12: n: must be between 1 and 10");
  EXPECT_EQ(errorOf([&] { r.integer("name", 0, 1, 10); }), "2: name: expected an integer");
  EXPECT_EQ(errorOf([&] { r.size("n", 0, 1 << 10, 1 << 20); }), "12: n: must be between 1k and 1M");
  EXPECT_EQ(errorOf([&] { r.size("n", 0, 13, 100); }), "12: n: must be between 13 and 100");
  EXPECT_EQ(errorOf([&] { r.duration("n", Millis(0), Millis(1500), Millis(10000)); }),
            "12: n: must be between 1500ms and 10s");
  EXPECT_EQ(errorOf([&] { r.duration("n", Millis(0), Millis(60000), Millis(300000)); }),
            "12: n: must be between 1m and 5m");
  EXPECT_EQ(errorOf([&] { r.flag("mode", false); }),
            "11: mode: expected on or off (or yes/no, true/false, 1/0)");
  EXPECT_EQ(errorOf([&] { r.path("empty", "x"); }), "4: empty: expected a path");
  EXPECT_EQ(errorOf([&] { r.fail("n", "custom"); }), "12: n: custom");
  EXPECT_EQ(errorOf([&] { r.fail("absent", "needed"); }), "1: absent: needed");
}

// --- repeated keys and the shared helpers -------------------------------------------------------

// One file with one section, read, and a reader on it; errorOf() strips "FILE:".
class Reader {
 public:
  explicit Reader(const std::string& content)
      : file_(content), ini_(readIni(file_.path())), reader_(ini_, ini_.sections.at(0)) {}
  SectionReader& operator*() { return reader_; }
  SectionReader* operator->() { return &reader_; }
  std::string errorOf(const std::function<void(SectionReader&)>& f) {
    try {
      f(reader_);
    } catch (const ConfigError& e) {
      std::string what = e.what();
      std::string prefix = file_.path() + ":";
      return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
    }
    return "no error";
  }

 private:
  TempIni file_;
  IniFile ini_;
  SectionReader reader_;
};

TEST(ConfigRepeatedKeys, ListsConcatenateInFileOrder) {
  Reader r(
      "[x:y]\n"                             // 1
      "listen = 127.0.0.1:1 127.0.0.1:2\n"  // 2
      "names = a b\n"                       // 3
      "listen = [::1]:1\n"                  // 4
      "names = c\n"                         // 5
      "nets = 192.0.2.0/24\n"               // 6
      "nets = 2001:db8::/32, 10.0.0.1\n"    // 7
      "peers = 192.0.2.53\n"                // 8
      "peers = [::1]:5300\n");              // 9
  std::vector<ListenAddress> listen = r->listen("listen");
  ASSERT_EQ(listen.size(), 3u);
  EXPECT_EQ(listen[0].text, "127.0.0.1:1");
  EXPECT_EQ(listen[1].line, 2);
  EXPECT_EQ(listen[2].text, "[::1]:1");
  EXPECT_EQ(listen[2].line, 4);
  EXPECT_EQ(r->list("names", ""), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r->networks("nets", "").size(), 3u);
  std::vector<ListenAddress> peers = r->addresses("peers", 53);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0].text, "192.0.2.53:53");
  EXPECT_EQ(peers[1].text, "[::1]:5300");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.finish(); }), "no error");

  // Each address's own line reaches the listen requests (and so conflict errors).
  std::vector<ListenRequest> requests = listenRequests(listen, 2, false, true);
  EXPECT_EQ(requests[2].line, 4);
}

TEST(ConfigRepeatedKeys, ListErrorsNameTheLineOfTheWord) {
  Reader r("[x:y]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:1\nnets = ::1\nnets = 10.0.0.0/33\n");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.listen("listen"); }),
            "3: listen: duplicate address 127.0.0.1:1");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.networks("nets", ""); }),
            "5: nets: bad network '10.0.0.0/33'");
}

TEST(ConfigRepeatedKeys, ScalarsRefuseRepeats) {
  Reader r("[x:y]\nmode = a\nn = 1\nmode = b\nother = 1\nother = 2\npool.a = 1\npool.a = 2\n");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.text("mode", ""); }),
            "4: mode: duplicate key (first at line 2)");
  EXPECT_EQ(r.errorOf([](SectionReader& in) {
    in.choice("mode", "a", {"a", "b"});
  }),
            "4: mode: duplicate key (first at line 2)");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.integer("n", 0, 0, 9); }), "no error");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.prefixed({"pool."}); }),
            "8: pool.a: duplicate key (first at line 7)");
  // A repeat no getter asked for is refused by finish() before unknown keys.
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.finish(); }),
            "4: mode: duplicate key (first at line 2)");
  // Through load(), in a service section.
  expectError("[testproto:a]\nlisten = 1\ntransport = tcp\ntransport = udp\n",
              "4: transport: duplicate key (first at line 3)");
}

TEST(ConfigRepeatedKeys, LongListOverRepeatedKeysWhileALongLineIsRefused) {
  std::string many, line;
  for (int port = 7001; port <= 7040; ++port) {
    std::string word = "127.0.0.1:" + std::to_string(port) + " ";
    if (line.size() + word.size() > 150) {
      many += "listen = " + line + "\n";
      line.clear();
    }
    line += word;
  }
  many += "listen = " + line + "\n";
  auto cfg = loadText("[testproto:a]\n" + many);
  EXPECT_EQ(cfg->services.at(0)->listeners().size(), 40u);

  std::string one = "listen =";
  for (int port = 7001; port <= 7040; ++port) one += " 127.0.0.1:" + std::to_string(port);
  expectError("[testproto:a]\n" + one + "\n",
              "2: line is too long (at most 199 characters after indentation)");
}

TEST(ConfigHelpers, Directory) {
  std::string dir = "/tmp/manifold-config-dir-" + std::to_string(getpid());
  std::filesystem::create_directory(dir);
  Reader r("[x:y]\nroot = " + dir + "/./\nfile = /etc/hostname\nnone = " + dir + "/missing\n");
  EXPECT_EQ(r->directory("root", "", true), dir + "/");
  EXPECT_EQ(r->directory("absent", "rel", false), cwd() + "/rel");
  EXPECT_EQ(r->directory("absent", "", false), "");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.directory("absent", "", true); }),
            "1: absent: required");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.directory("file", "", true); }),
            "3: file: \"/etc/hostname\" is not a directory");
  EXPECT_EQ(r.errorOf([&](SectionReader& in) { in.directory("none", "", true); }),
            "4: none: \"" + dir + "/missing\" is not a directory");
  std::filesystem::remove(dir);
}

TEST(ConfigHelpers, Seconds) {
  Reader r("[x:y]\nt = 1500ms\n");
  EXPECT_EQ(r->seconds("t", Millis(0), Millis(0), Millis(10000)), 1.5);
  EXPECT_EQ(r->seconds("absent", Millis(250), Millis(0), Millis(10000)), 0.25);
  EXPECT_EQ(
      r.errorOf([](SectionReader& in) { in.seconds("t", Millis(0), Millis(0), Millis(1000)); }),
      "2: t: must be between 0s and 1s");
}

TEST(ConfigHelpers, Networks) {
  Reader r("[x:y]\nnets = 192.0.2.0/24 2001:db8::1\nnone = none\nbad = 10.0.0.0/8 host.example\n");
  std::vector<net::Cidr> nets = r->networks("nets", "");
  ASSERT_EQ(nets.size(), 2u);
  net::PeerAddress inside, outside, host;
  ASSERT_TRUE(net::parseAddress("192.0.2.77", inside));
  ASSERT_TRUE(net::parseAddress("192.0.3.1", outside));
  ASSERT_TRUE(net::parseAddress("2001:db8::1", host));
  EXPECT_TRUE(nets[0].contains(inside));
  EXPECT_FALSE(nets[0].contains(outside));
  EXPECT_TRUE(nets[1].contains(host));
  EXPECT_EQ(nets[1].prefix, 128);
  EXPECT_TRUE(r->networks("none", "").empty());
  EXPECT_TRUE(r->networks("absent", "").empty());
  EXPECT_EQ(r->networks("absent", "127.0.0.0/8").size(), 1u);
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.networks("bad", ""); }),
            "4: bad: bad network 'host.example'");
}

TEST(ConfigHelpers, RemoteAddresses) {
  ListenAddress a;
  std::string why;
  ASSERT_TRUE(parseRemoteAddress("192.0.2.53", 53, a, why)) << why;
  EXPECT_EQ(a.text, "192.0.2.53:53");
  ASSERT_TRUE(parseRemoteAddress("127.0.0.1:5300", 53, a, why)) << why;
  EXPECT_EQ(a.port(), 5300);
  ASSERT_TRUE(parseRemoteAddress("2001:db8::1", 53, a, why)) << why;
  EXPECT_EQ(a.text, "[2001:db8::1]:53");
  ASSERT_TRUE(parseRemoteAddress("[::1]", 80, a, why)) << why;
  EXPECT_EQ(a.text, "[::1]:80");
  for (const char* bad : {"*:53", "53", "nonsense", "", "[::]:53", "1.2.3.4:0"}) {
    EXPECT_FALSE(parseRemoteAddress(bad, 53, a, why)) << bad;
    EXPECT_EQ(why, "expected ADDR, ADDR:PORT or [IPv6]:PORT, not '" + std::string(bad) + "'");
  }
  Reader r("[x:y]\nnotify = 192.0.2.1 *:53\n");
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.addresses("notify", 53); }),
            "2: notify: expected ADDR, ADDR:PORT or [IPv6]:PORT, not '*:53'");
}

TEST(ConfigHelpers, HttpConnectionLimits) {
  Reader defaults("[x:y]\n");
  http::ServerLimits d = http::readConnectionLimits(*defaults);
  http::ServerLimits engine;
  EXPECT_EQ(d.keepaliveTimeout, engine.keepaliveTimeout);
  EXPECT_EQ(d.headerTimeout, engine.headerTimeout);
  EXPECT_EQ(d.bodyTimeout, engine.bodyTimeout);
  EXPECT_EQ(d.sendTimeout, engine.sendTimeout);
  EXPECT_EQ(d.bodyMinRate, engine.bodyMinRate);
  EXPECT_EQ(d.keepaliveRequests, engine.keepaliveRequests);
  EXPECT_EQ(d.parse.maxRequestLine, engine.parse.maxRequestLine);
  EXPECT_EQ(d.parse.maxHeaderBytes, engine.parse.maxHeaderBytes);

  Reader r(
      "[x:y]\n"
      "keepalive_timeout = 0\n"
      "client_header_timeout = 500ms\n"
      "client_body_timeout = 2m\n"
      "client_body_min_rate = 2k\n"
      "send_timeout = 7s\n"
      "keepalive_requests = 3\n"
      "max_request_line = 1k\n"
      "max_header_size = 4k\n");
  http::ServerLimits given;
  given.maxBodySize = 12345;
  http::ServerLimits l = http::readConnectionLimits(*r, given);
  EXPECT_EQ(l.keepaliveTimeout, 0.0);
  EXPECT_EQ(l.headerTimeout, 0.5);
  EXPECT_EQ(l.bodyTimeout, 120.0);
  EXPECT_EQ(l.sendTimeout, 7.0);
  EXPECT_EQ(l.bodyMinRate, 2048u);
  EXPECT_EQ(l.keepaliveRequests, 3u);
  EXPECT_EQ(l.parse.maxRequestLine, 1024u);
  EXPECT_EQ(l.parse.maxHeaderBytes, 4096u);
  EXPECT_EQ(l.maxBodySize, 12345u);
  EXPECT_EQ(r.errorOf([](SectionReader& in) { in.finish(); }), "no error");

  // The same keys, ranges and messages in every section on the HTTP engine.
  for (std::string section : {"tracker:t", "status:s"}) {
    expectError("[" + section + "]\nlisten = 127.0.0.1:7001\nkeepalive_timeout = 2h\n",
                "3: keepalive_timeout: must be between 0s and 1h");
    expectError("[" + section + "]\nlisten = 127.0.0.1:7001\nclient_header_timeout = 50ms\n",
                "3: client_header_timeout: must be between 100ms and 1h");
    expectError("[" + section + "]\nlisten = 127.0.0.1:7001\nmax_header_size = 512\n",
                "3: max_header_size: must be between 1k and 1M");
  }
}

// --- services --------------------------------------------------------------------------------

TEST(ConfigLoad, Services) {
  auto cfg = loadText(
      "[testproto:a]\n"
      "listen = 127.0.0.1:7001\n"
      "[master]\n"
      "workers = 2\n"
      "[testproto:b]\n"
      "listen = [::1]:7001, 7002\n"
      "transport = both\n");
  EXPECT_EQ(cfg->master.workers, 2u);
  ASSERT_EQ(cfg->services.size(), 2u);
  EXPECT_EQ(cfg->services[0]->protocol, "testproto");
  EXPECT_EQ(cfg->services[0]->name, "a");
  EXPECT_EQ(cfg->services[0]->title(), "testproto:a");
  EXPECT_EQ(cfg->services[1]->name, "b");
  auto listeners = cfg->services[1]->listeners();
  ASSERT_EQ(listeners.size(), 4u);
  EXPECT_EQ(listeners[0].address.text, "[::1]:7001");
  EXPECT_EQ(listeners[0].line, 6);
  auto* b = dynamic_cast<TestProtoConfig*>(cfg->services[1].get());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->transport, "both");
}

TEST(ConfigLoad, UnknownKind) {
  std::string path;
  std::string what = loadError("[master]\n\n[nope:x]\nlisten = 1\n", &path);
  std::string prefix = path + ":3: unknown section kind 'nope' (known: ";
  EXPECT_EQ(what.rfind(prefix, 0), 0u) << what;
  EXPECT_NE(what.find("testproto"), std::string::npos) << what;
  EXPECT_EQ(what.back(), ')');
}

TEST(ConfigLoad, ServiceErrors) {
  expectError("[testproto:a]\nlisten = 1\nlisen = 2\n", "3: lisen: unknown key in [testproto:a]");
  expectError("[testproto:a]\ntransport = udp\n",
              "1: listen: required (for example: listen = 127.0.0.1:8080)");
  expectError("[testproto:a]\nlisten = 1\ntransport = sctp\n",
              "3: transport: expected one of: tcp, udp, both");
  expectError("[testproto:a]\nlisten = 0\n", "2: listen: '0': port must be between 1 and 65535");
  expectError("[testproto:a]\nlisten = localhost:80\n",
              "2: listen: 'localhost:80': 'localhost' is not a numeric IPv4 address (hostnames "
              "are not resolved)");
}

TEST(ConfigLoad, ListenConflicts) {
  expectError(
      "[testproto:a]\n"
      "listen = 127.0.0.1:7001\n"
      "[testproto:b]\n"
      "transport = tcp\n"
      "listen = *:7001\n",
      "5: listen: conflicts with 127.0.0.1:7001 in [testproto:a] at line 2");
  expectError(
      "[testproto:a]\n"
      "listen = [::]:7001\n"
      "[testproto:b]\n"
      "listen = 7002 [::1]:7001\n",
      "4: listen: conflicts with [::]:7001 in [testproto:a] at line 2");
  expectError(
      "[testproto:a]\n"
      "transport = both\n"
      "listen = 7001\n"
      "[testproto:b]\n"
      "listen = 7001\n"
      "transport = udp\n",
      "5: listen: conflicts with 0.0.0.0:7001 in [testproto:a] at line 3");

  // Same address, different transports (the tracker's UDP+TCP pair): fine.
  EXPECT_EQ(loadError("[testproto:a]\nlisten = 7001\n"
                      "[testproto:b]\nlisten = 7001\ntransport = udp\n"),
            "no error");
  // v4 and v6 wildcards on one port: fine (IPV6_V6ONLY).
  EXPECT_EQ(loadError("[testproto:a]\nlisten = *:7001\n[testproto:b]\nlisten = [::]:7001\n"),
            "no error");
  // Different addresses or ports: fine.
  EXPECT_EQ(loadError("[testproto:a]\nlisten = 127.0.0.1:7001\n"
                      "[testproto:b]\nlisten = 127.0.0.2:7001 127.0.0.1:7002\n"),
            "no error");
}

// The WebTorrent keys of [tracker:NAME]: refusals name file, line and key; with ws = on the
// tracker asks for its WebSocket swarms and one relay ring per worker slot.
TEST(ConfigTracker, WebSocketKeys) {
  const std::string head = "[master]\nworkers = 2\n[tracker:t]\nlisten = 127.0.0.1:7001\nws = on\n";
  expectError(head + "ws_relay_ring = 100k\n", "6: ws_relay_ring: must be a power of two");
  expectError(head + "ws_max_frame = 32k\nws_max_message = 16k\n",
              "6: ws_max_frame: is larger than ws_max_message");
  expectError(head + "ws_relay_ring = 128k\nws_max_message = 64k\n",
              "6: ws_relay_ring: must be at least 4 x (ws_max_message + 512)");
  expectError(head + "max_offers = 65\n", "6: max_offers: must be between 0 and 64");
  expectError(head + "max_offer_age = 50ms\n", "6: max_offer_age: must be between 100ms and 1h");
  expectError(head + "ws_memory = 1M\nws_swarm_peers = 4096\n",
              "6: ws_memory: too small for 64 shards of ws_swarm_peers-sized swarms");
  auto cfg = loadText(head + "ws_relay_ring = 128k\nws_max_message = 16k\n");
  ASSERT_EQ(cfg->services.size(), 1u);
  EXPECT_EQ(cfg->services[0]->workerSlots, 6u);  // 3 stats slots per worker
  auto regions = cfg->services[0]->regions();
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_EQ(regions[1].name, "tracker:t/ws");
  EXPECT_EQ(regions[2].name, "tracker:t/relay");
  EXPECT_NE(regions[2].layout.find("rings=6 capacity=131072"), std::string::npos);
  EXPECT_EQ(loadText("[tracker:t]\nlisten = 127.0.0.1:7001\n")->services[0]->regions().size(), 1u);
}

}  // namespace
}  // namespace manifold::config
