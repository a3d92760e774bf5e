// Config: the INI reader (inih): the file into sections and entries with line numbers.
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
//    instead of being silently split or cut (a long list is written over repeated keys);
//  - a UTF-8 byte-order mark at the start of the file is skipped;
//  - comments: ';' or '#' at the start of a line, or ' ;' after a value.
#include <ini.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "master/section_reader.hpp"

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
  // Repeats are kept: list keys may span several lines; SectionReader refuses other repeats.
  st.file->sections.back().entries.push_back(Entry{key, value, st.lineNo});
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
      throw ConfigError(path, 0, "", "file is too large (over " + formatSize(kMaxFileBytes) + ")");
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

}  // namespace manifold::config
