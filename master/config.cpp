// Config: the INI reader (inih), typed section access, and load() for the whole file.
//
// inih splits lines into sections, keys and values and strips comments; we feed it lines
// through our own reader so that we know the line number of every key and section (Debian
// builds inih without INI_HANDLER_LINENO), and so that we see section titles even when a
// section has no keys (inih only calls the handler for keys).
//
// Line rules, on top of inih's:
//  - leading whitespace is removed before inih sees a line, so indentation is free and inih's
//    multi-line continuation (an indented line continuing the previous value) is off: every
//    value is on one line, and an indented line is an ordinary `key = value` line;
//  - lines longer than inih's line buffer (199 characters on Debian) and NUL bytes are errors
//    instead of being silently split or cut;
//  - a UTF-8 byte-order mark at the start of the file is skipped;
//  - comments: ';' or '#' at the start of a line, or ' ;' after a value.
#include "master/config.hpp"
#include "master/shm_budget.hpp"

#include <ini.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "protocols/service.hpp"

namespace manifold::config {
namespace {

constexpr size_t kMaxFileBytes = 16u << 20;
constexpr size_t kMaxNameLength = 64;  // for each of kind and name in [kind:name]

std::string formatError(const std::string& file, int line, const std::string& key,
                        const std::string& why) {
  std::string text = file + ":" + std::to_string(line) + ": ";
  if (!key.empty()) text += key + ": ";
  return text + why;
}

bool isSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view trimLeft(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  return s;
}

// [a-z0-9_-]{1,64}
bool validName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

// Where inih's find_chars_or_comment() stops: the first of `chars`, or a ';' that follows
// whitespace (an inline comment), or the end.
size_t findCharsOrComment(std::string_view s, std::string_view chars) {
  bool wasSpace = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (chars.find(s[i]) != std::string_view::npos) return i;
    if (wasSpace && s[i] == ';') return i;
    wasSpace = isSpace(s[i]);
  }
  return s.size();
}

struct Failure {
  int line = 0;  // 0: none
  std::string key;
  std::string why;
};

// Shared by the reader and the handler. No exception may cross inih's C frames, so both
// record the first failure here and stop the parse (the reader returns EOF).
struct IniState {
  IniFile* file = nullptr;
  std::string data;
  size_t pos = 0;
  int lineNo = 0;
  std::vector<std::string> lines;  // each line as handed to inih, for syntax-error details
  Failure failure;

  bool failed() const { return failure.line != 0; }
  void fail(int line, std::string key, std::string why) {
    if (!failed()) failure = Failure{line, std::move(key), std::move(why)};
  }

  // A line starting with '['. Mirrors inih: the title ends at the first ']' (a line without
  // one is left to inih, which reports it as a syntax error).
  void sectionTitle(std::string_view line) {
    size_t close = findCharsOrComment(line.substr(1), "]") + 1;
    if (close >= line.size() || line[close] != ']') return;
    std::string_view rest = trimLeft(line.substr(close + 1));
    if (!rest.empty() && rest[0] != ';' && rest[0] != '#') {
      fail(lineNo, "", "unexpected text after the section title");
      return;
    }
    std::string title(line.substr(1, close - 1));
    Section section;
    section.title = title;
    section.line = lineNo;
    size_t colon = title.find(':');
    bool good;
    if (title == "master") {
      section.kind = "master";
      good = true;
    } else if (colon == std::string::npos) {
      good = false;
    } else {
      section.kind = title.substr(0, colon);
      section.name = title.substr(colon + 1);
      good = validName(section.kind) && validName(section.name) && section.kind != "master";
    }
    if (!good) {
      fail(lineNo, "",
           "bad section title '[" + title +
               "]' (expected [master] or [kind:name], each part 1-64 of a-z 0-9 _ -)");
      return;
    }
    for (const Section& other : file->sections) {
      if (other.title == title) {
        fail(
            lineNo, "",
            "duplicate section [" + title + "] (first at line " + std::to_string(other.line) + ")");
        return;
      }
    }
    file->sections.push_back(std::move(section));
  }
};

// fgets-style reader for ini_parse_stream: one line per call, leading whitespace removed.
char* readLine(char* str, int num, void* stream) {
  auto& st = *static_cast<IniState*>(stream);
  if (st.failed() || st.pos >= st.data.size()) return nullptr;
  size_t end = st.data.find('\n', st.pos);
  if (end == std::string::npos) end = st.data.size();
  std::string_view line(st.data.data() + st.pos, end - st.pos);
  st.pos = end + 1;
  ++st.lineNo;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  line = trimLeft(line);
  st.lines.emplace_back(line);
  if (line.find('\0') != std::string_view::npos) {
    st.fail(st.lineNo, "", "NUL byte in line");
    return nullptr;
  }
  if (num < 1 || line.size() > static_cast<size_t>(num - 1)) {
    st.fail(st.lineNo, "",
            "line is too long (at most " + std::to_string(num > 0 ? num - 1 : 0) +
                " characters after indentation)");
    return nullptr;
  }
  if (!line.empty() && line[0] == '[') {
    st.sectionTitle(line);
    if (st.failed()) return nullptr;
  }
  std::memcpy(str, line.data(), line.size());
  str[line.size()] = '\0';
  return str;
}

// inih handler: one `key = value` line. Always returns 1: our failures go through IniState.
int onKey(void* user, const char* /*section*/, const char* name, const char* value) {
  auto& st = *static_cast<IniState*>(user);
  if (st.failed()) return 1;
  std::string key(name);
  if (st.file->sections.empty()) {
    st.fail(st.lineNo, key, "key outside any section (put it under [master] or [kind:name])");
    return 1;
  }
  if (key.empty()) {
    st.fail(st.lineNo, "", "missing key before '='");
    return 1;
  }
  Section& section = st.file->sections.back();
  for (const Entry& entry : section.entries) {
    if (entry.key == key) {
      st.fail(st.lineNo, key, "duplicate key (first at line " + std::to_string(entry.line) + ")");
      return 1;
    }
  }
  section.entries.push_back(Entry{key, value, st.lineNo});
  return 1;
}

std::string syntaxWhy(std::string_view line) {
  if (!line.empty() && line[0] == '[') return "syntax error: section title without ']'";
  size_t stop = findCharsOrComment(line, "=:");
  if (stop >= line.size() || (line[stop] != '=' && line[stop] != ':')) {
    return "syntax error: expected key = value";
  }
  return "syntax error";
}

std::string humanSize(uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "G";
  if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes != 0 && bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "k";
  return std::to_string(bytes);
}

std::string humanDuration(Millis d) {
  auto ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::vector<std::string> splitWords(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (isSpace(text[i]) || text[i] == ',')) ++i;
    size_t start = i;
    while (i < text.size() && !isSpace(text[i]) && text[i] != ',') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

std::string absolutePath(std::string_view p) {
  std::filesystem::path path{std::string(p)};
  if (path.is_relative()) {
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (!ec) path = cwd / path;
  }
  return path.lexically_normal().string();
}

}  // namespace

ConfigError::ConfigError(const std::string& file, int line, const std::string& key,
                         const std::string& why)
    : std::runtime_error(formatError(file, line, key, why)) {}

IniFile readIni(const std::string& path) {
  IniFile file;
  file.path = path;
  IniState st;
  st.file = &file;

  std::unique_ptr<FILE, int (*)(FILE*)> fp(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!fp) throw ConfigError(path, 0, "", std::strerror(errno));
  char buf[8192];
  for (;;) {
    size_t n = std::fread(buf, 1, sizeof(buf), fp.get());
    st.data.append(buf, n);
    if (st.data.size() > kMaxFileBytes) {
      throw ConfigError(path, 0, "", "file is too large (over " + humanSize(kMaxFileBytes) + ")");
    }
    if (n < sizeof(buf)) break;
  }
  if (std::ferror(fp.get())) throw ConfigError(path, 0, "", std::strerror(errno));
  if (st.data.compare(0, 3, "\xEF\xBB\xBF") == 0) st.data.erase(0, 3);

  int rc = ini_parse_stream(&readLine, &st, &onKey, &st);
  if (rc > 0 && (!st.failed() || rc < st.failure.line)) {
    std::string_view line =
        static_cast<size_t>(rc) <= st.lines.size() ? st.lines[rc - 1] : std::string_view();
    throw ConfigError(path, rc, "", syntaxWhy(line));
  }
  if (st.failed()) throw ConfigError(path, st.failure.line, st.failure.key, st.failure.why);
  if (rc < 0)
    throw ConfigError(path, 0, "", "cannot parse (inih error " + std::to_string(rc) + ")");
  return file;
}

// --- SectionReader ------------------------------------------------------------------------

SectionReader::SectionReader(const IniFile& file, const Section& section)
    : file_(file), section_(section) {}

const Entry* SectionReader::find(std::string_view key) const {
  for (const Entry& entry : section_.entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

bool SectionReader::has(std::string_view key) const { return find(key) != nullptr; }

int SectionReader::lineOf(std::string_view key) const {
  const Entry* entry = find(key);
  return entry ? entry->line : section_.line;
}

void SectionReader::fail(std::string_view key, const std::string& why) const {
  throw ConfigError(file_.path, lineOf(key), std::string(key), why);
}

std::string SectionReader::text(std::string_view key, std::string_view fallback) {
  const Entry* entry = find(key);
  if (!entry) return std::string(fallback);
  entry->used = true;
  return entry->value;
}

bool SectionReader::flag(std::string_view key, bool fallback) {
  const Entry* entry = find(key);
  if (!entry) return fallback;
  entry->used = true;
  bool value = false;
  std::string why;
  if (!parseFlag(entry->value, value, why)) fail(key, why);
  return value;
}

int64_t SectionReader::integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const Entry* entry = find(key);
  if (!entry) return fallback;
  entry->used = true;
  int64_t value = 0;
  std::string why;
  if (!parseInteger(entry->value, value, why)) fail(key, why);
  if (value < min || value > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

uint64_t SectionReader::size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) {
  const Entry* entry = find(key);
  if (!entry) return fallback;
  entry->used = true;
  uint64_t value = 0;
  std::string why;
  if (!parseSize(entry->value, value, why)) fail(key, why);
  if (value < min || value > max) {
    fail(key, "must be between " + humanSize(min) + " and " + humanSize(max));
  }
  return value;
}

Millis SectionReader::duration(std::string_view key, Millis fallback, Millis min, Millis max) {
  const Entry* entry = find(key);
  if (!entry) return fallback;
  entry->used = true;
  Millis value{};
  std::string why;
  if (!parseDuration(entry->value, value, why)) fail(key, why);
  if (value < min || value > max) {
    fail(key, "must be between " + humanDuration(min) + " and " + humanDuration(max));
  }
  return value;
}

std::string SectionReader::choice(std::string_view key, std::string_view fallback,
                                  std::initializer_list<std::string_view> choices) {
  const Entry* entry = find(key);
  if (!entry) return std::string(fallback);
  entry->used = true;
  std::string list;
  for (std::string_view c : choices) {
    if (entry->value == c) return entry->value;
    if (!list.empty()) list += ", ";
    list += c;
  }
  fail(key, "expected one of: " + list);
}

std::vector<std::string> SectionReader::list(std::string_view key, std::string_view fallback) {
  const Entry* entry = find(key);
  if (!entry) return splitWords(fallback);
  entry->used = true;
  return splitWords(entry->value);
}

std::string SectionReader::path(std::string_view key, std::string_view fallback) {
  const Entry* entry = find(key);
  std::string_view value = fallback;
  if (entry) {
    entry->used = true;
    value = entry->value;
    if (value.empty()) fail(key, "expected a path");
  }
  if (value.empty()) return std::string();
  return absolutePath(value);
}

std::vector<ListenAddress> SectionReader::listen(std::string_view key) {
  const Entry* entry = find(key);
  if (!entry) fail(key, "required (for example: " + std::string(key) + " = 127.0.0.1:8080)");
  entry->used = true;
  std::vector<std::string> words = splitWords(entry->value);
  if (words.empty()) fail(key, "expected one or more addresses like 127.0.0.1:8080");
  std::vector<ListenAddress> addresses;
  for (const std::string& word : words) {
    ListenAddress address;
    std::string why;
    if (!parseListenAddress(word, address, why)) fail(key, "'" + word + "': " + why);
    for (const ListenAddress& other : addresses) {
      if (other == address) fail(key, "duplicate address " + address.text);
      if (other.overlaps(address)) fail(key, address.text + " overlaps " + other.text);
    }
    addresses.push_back(std::move(address));
  }
  return addresses;
}

void SectionReader::finish() const {
  for (const Entry& entry : section_.entries) {
    if (!entry.used) {
      throw ConfigError(file_.path, entry.line, entry.key,
                        "unknown key in [" + section_.title + "]");
    }
  }
}

// --- load ---------------------------------------------------------------------------------

namespace {

void readMaster(SectionReader& r, MasterConfig& m) {
  // Default: auto, one worker per online CPU.
  std::string workers = r.text("workers", "auto");
  if (workers == "auto") {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    m.workers = static_cast<unsigned>(cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
  } else {
    std::string why;
    int64_t n = 0;
    if (!parseInteger(workers, n, why) || n < 1 || n > 256) {
      r.fail("workers", "expected auto or a number between 1 and 256");
    }
    m.workers = static_cast<unsigned>(n);
  }
  m.cpuAffinity = r.flag("cpu_affinity", false);
  m.pidfile = r.path("pidfile", "manifold.pid");
  m.daemon = r.flag("daemon", false);
  m.user = r.text("user", "");
  m.group = r.text("group", "");

  m.shmName = r.text("shm_name", "manifold");
  bool shmNameOk = !m.shmName.empty() && m.shmName.size() <= 32;
  for (char c : m.shmName) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') shmNameOk = false;
  }
  if (!shmNameOk) r.fail("shm_name", "expected 1-32 of A-Z a-z 0-9 _ -");

  m.shmSize = r.size("shm_size", 256ull << 20, 1ull << 20, 64ull << 30);
  m.shutdownTimeout = r.duration("shutdown_timeout", Millis(30000), Millis(0), Millis(3600000));

  std::string errorLog = r.text("error_log", "stderr");
  m.errorLog = errorLog.empty() || errorLog == "stderr" ? "stderr" : absolutePath(errorLog);

  m.logLevel = r.choice("log_level", "info", {"debug", "info", "notice", "warn", "error", "crit"});
  m.workerRlimitNofile = static_cast<uint64_t>(r.integer("worker_rlimit_nofile", 0, 0, 16ll << 20));
  m.workerConnections = static_cast<unsigned>(r.integer("worker_connections", 16384, 16, 1 << 22));
  m.respawnDelayMax = r.duration("respawn_delay_max", Millis(5000), Millis(0), Millis(3600000));
  m.crashLoopLimit = static_cast<unsigned>(r.integer("crash_loop_limit", 5, 1, 1000));
  m.crashLoopWindow = r.duration("crash_loop_window", Millis(10000), Millis(1000), Millis(3600000));
  r.finish();
}

std::string knownProtocols() {
  std::string known;
  for (const std::string& name : protocolNames()) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return known.empty() ? "none" : known;
}

// Two sockets of one transport on overlapping addresses could not both be bound.
void checkListenConflicts(const IniFile& ini, const Config& cfg,
                          const std::vector<const Section*>& sectionOf) {
  struct Seen {
    ListenRequest request;
    const ServiceConfig* service;
  };
  std::vector<Seen> seen;
  for (size_t i = 0; i < cfg.services.size(); ++i) {
    const ServiceConfig& service = *cfg.services[i];
    for (ListenRequest request : service.listeners()) {
      if (request.line <= 0) request.line = sectionOf[i]->line;
      for (const Seen& other : seen) {
        // Services of one share group (HTTP virtual servers) multiplex the exact same address.
        std::string group = service.listenShareGroup();
        if (!group.empty() && group == other.service->listenShareGroup() &&
            other.request.address == request.address && other.request.transport == request.transport)
          continue;
        if (other.request.transport == request.transport &&
            other.request.address.overlaps(request.address)) {
          throw ConfigError(ini.path, request.line, "listen",
                            "conflicts with " + other.request.address.text + " in [" +
                                other.service->title() + "] at line " +
                                std::to_string(other.request.line));
        }
      }
      seen.push_back(Seen{std::move(request), &service});
    }
  }
}

}  // namespace

Config::~Config() = default;

std::unique_ptr<Config> load(const std::string& path) {
  IniFile ini = readIni(path);
  auto cfg = std::make_unique<Config>();
  cfg->path = absolutePath(path);

  static const Section kEmptyMaster{"master", "master", "", 0, {}};
  const Section* master = &kEmptyMaster;
  for (const Section& section : ini.sections) {
    if (section.kind == "master") master = &section;
  }
  SectionReader masterReader(ini, *master);
  readMaster(masterReader, cfg->master);

  std::vector<const Section*> sectionOf;
  for (const Section& section : ini.sections) {
    if (section.kind == "master") continue;
    ProtocolParser parse = findProtocol(section.kind);
    if (!parse) {
      throw ConfigError(
          ini.path, section.line, "",
          "unknown section kind '" + section.kind + "' (known: " + knownProtocols() + ")");
    }
    SectionReader reader(ini, section);
    std::unique_ptr<ServiceConfig> service = parse(reader);
    if (!service) {
      throw ConfigError(ini.path, section.line, "",
                        "protocol '" + section.kind + "' returned no configuration");
    }
    service->protocol = section.kind;
    service->name = section.name;
    reader.finish();
    cfg->services.push_back(std::move(service));
    sectionOf.push_back(&section);
  }
  checkListenConflicts(ini, *cfg, sectionOf);
  checkShmBudget(*cfg, ini.path, masterReader.lineOf("shm_size"));
  return cfg;
}

}  // namespace manifold::config
