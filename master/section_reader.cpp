// SectionReader: typed access to one section, and the helpers every service parses.
#include "master/section_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace manifold::config {
namespace {

bool isSeparator(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0 || c == ','; }

// `text` through `parse`, then kept within [min, max]; the range error shows the bounds as the
// key is written (`show`).
template <typename T, typename Parse, typename Show>
T parsedInRange(const SectionReader& r, std::string_view key, const std::string& text, T min, T max,
                Parse parse, Show show) {
  T value{};
  std::string why;
  if (!parse(text, value, why)) r.fail(key, why);
  if (value < min || value > max) r.fail(key, "must be between " + show(min) + " and " + show(max));
  return value;
}

}  // namespace

std::vector<std::string_view> splitWords(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isSeparator(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !isSeparator(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
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

SectionReader::SectionReader(const IniFile& file, const Section& section)
    : file_(file), section_(section) {}

const Entry* SectionReader::find(std::string_view key) const {
  for (const Entry& entry : section_.entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

void SectionReader::refuseRepeat(const Entry& first) const {
  for (const Entry& entry : section_.entries) {
    if (&entry != &first && entry.key == first.key) {
      failAt(entry.line, entry.key,
             "duplicate key (first at line " + std::to_string(first.line) + ")");
    }
  }
}

const Entry* SectionReader::single(std::string_view key) const {
  const Entry* entry = find(key);
  if (!entry) return nullptr;
  entry->used = true;
  refuseRepeat(*entry);
  return entry;
}

std::vector<SectionReader::Word> SectionReader::words(std::string_view key,
                                                      std::string_view fallback) {
  std::vector<Word> out;
  bool found = false;
  for (const Entry& entry : section_.entries) {
    if (entry.key != key) continue;
    found = true;
    entry.used = true;
    for (std::string_view word : splitWords(entry.value))
      out.push_back({std::string(word), entry.line});
  }
  if (found) {
    if (std::find(listKeys_.begin(), listKeys_.end(), key) == listKeys_.end()) {
      listKeys_.emplace_back(key);
    }
  } else {
    for (std::string_view word : splitWords(fallback)) {
      out.push_back({std::string(word), section_.line});
    }
  }
  return out;
}

bool SectionReader::has(std::string_view key) const { return find(key) != nullptr; }

int SectionReader::lineOf(std::string_view key) const {
  const Entry* entry = find(key);
  return entry ? entry->line : section_.line;
}

void SectionReader::fail(std::string_view key, const std::string& why) const {
  failAt(lineOf(key), key, why);
}

void SectionReader::failAt(int line, std::string_view key, const std::string& why) const {
  throw ConfigError(file_.path, line, std::string(key), why);
}

std::string SectionReader::text(std::string_view key, std::string_view fallback) {
  const Entry* entry = single(key);
  return entry ? entry->value : std::string(fallback);
}

bool SectionReader::flag(std::string_view key, bool fallback) {
  const Entry* entry = single(key);
  if (!entry) return fallback;
  bool value = false;
  std::string why;
  if (!parseFlag(entry->value, value, why)) fail(key, why);
  return value;
}

int64_t SectionReader::integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const Entry* entry = single(key);
  if (!entry) return fallback;
  auto show = [](int64_t v) { return std::to_string(v); };
  return parsedInRange(*this, key, entry->value, min, max, parseInteger, show);
}

uint64_t SectionReader::size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) {
  const Entry* entry = single(key);
  if (!entry) return fallback;
  return parsedInRange(*this, key, entry->value, min, max, parseSize, formatSize);
}

Millis SectionReader::duration(std::string_view key, Millis fallback, Millis min, Millis max) {
  const Entry* entry = single(key);
  if (!entry) return fallback;
  return parsedInRange(*this, key, entry->value, min, max, parseDuration, formatDuration);
}

double SectionReader::seconds(std::string_view key, Millis fallback, Millis min, Millis max) {
  return std::chrono::duration<double>(duration(key, fallback, min, max)).count();
}

std::string SectionReader::choice(std::string_view key, std::string_view fallback,
                                  std::initializer_list<std::string_view> choices) {
  const Entry* entry = single(key);
  if (!entry) return std::string(fallback);
  std::string list;
  for (std::string_view c : choices) {
    if (entry->value == c) return entry->value;
    if (!list.empty()) list += ", ";
    list += c;
  }
  fail(key, "expected one of: " + list);
}

std::string SectionReader::path(std::string_view key, std::string_view fallback) {
  const Entry* entry = single(key);
  std::string_view value = fallback;
  if (entry) {
    value = entry->value;
    if (value.empty()) fail(key, "expected a path");
  }
  if (value.empty()) return std::string();
  return absolutePath(value);
}

std::string SectionReader::directory(std::string_view key, std::string_view fallback,
                                     bool mustExist) {
  std::string dir = path(key, fallback);
  if (!mustExist) return dir;
  if (dir.empty()) fail(key, "required");
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    fail(key, "\"" + dir + "\" is not a directory");
  }
  return dir;
}

std::vector<std::string> SectionReader::list(std::string_view key, std::string_view fallback) {
  std::vector<std::string> out;
  for (Word& word : words(key, fallback)) out.push_back(std::move(word.text));
  return out;
}

std::vector<ListenAddress> SectionReader::listen(std::string_view key, bool allowTls) {
  if (!has(key)) fail(key, "required (for example: " + std::string(key) + " = 127.0.0.1:8080)");
  std::vector<Word> all = words(key, "");
  if (all.empty()) fail(key, "expected one or more addresses like 127.0.0.1:8080");
  std::vector<ListenAddress> addresses;
  for (const Word& word : all) {
    if (word.text == "tls") {
      if (!allowTls) failAt(word.line, key, "this service does not take tls");
      if (addresses.empty()) failAt(word.line, key, "tls must follow an address");
      addresses.back().tls = true;
      continue;
    }
    ListenAddress address;
    std::string why;
    if (!parseListenAddress(word.text, address, why)) {
      failAt(word.line, key, "'" + word.text + "': " + why);
    }
    address.line = word.line;
    for (const ListenAddress& other : addresses) {
      if (other == address) failAt(word.line, key, "duplicate address " + address.text);
      if (other.overlaps(address)) failAt(word.line, key, address.text + " overlaps " + other.text);
    }
    addresses.push_back(std::move(address));
  }
  return addresses;
}

std::vector<net::Cidr> SectionReader::networks(std::string_view key, std::string_view fallback) {
  std::vector<Word> all = words(key, fallback);
  std::vector<net::Cidr> out;
  if (all.size() == 1 && all[0].text == "none") return out;
  for (const Word& word : all) {
    net::Cidr network;
    if (!net::parseCidr(word.text, network)) {
      failAt(word.line, key, "bad network '" + word.text + "'");
    }
    out.push_back(network);
  }
  return out;
}

std::vector<ListenAddress> SectionReader::addresses(std::string_view key, uint16_t defaultPort) {
  std::vector<ListenAddress> out;
  for (const Word& word : words(key, "")) {
    ListenAddress address;
    std::string why;
    if (!parseRemoteAddress(word.text, defaultPort, address, why)) failAt(word.line, key, why);
    address.line = word.line;
    out.push_back(std::move(address));
  }
  return out;
}

std::vector<std::reference_wrapper<const Entry>> SectionReader::prefixed(
    std::initializer_list<std::string_view> prefixes) {
  std::vector<std::reference_wrapper<const Entry>> out;
  for (const Entry& entry : section_.entries) {
    for (std::string_view prefix : prefixes) {
      if (entry.key.compare(0, prefix.size(), prefix) != 0) continue;
      single(entry.key);
      out.emplace_back(entry);
      break;
    }
  }
  return out;
}

std::vector<std::reference_wrapper<const Entry>> SectionReader::each(std::string_view key) {
  std::vector<std::reference_wrapper<const Entry>> out;
  for (const Entry& entry : section_.entries) {
    if (entry.key != key) continue;
    entry.used = true;
    out.emplace_back(entry);
  }
  if (!out.empty() && std::find(listKeys_.begin(), listKeys_.end(), key) == listKeys_.end())
    listKeys_.emplace_back(key);
  return out;
}

void SectionReader::finish() const {
  for (const Entry& entry : section_.entries) {
    if (std::find(listKeys_.begin(), listKeys_.end(), entry.key) == listKeys_.end()) {
      const Entry* first = find(entry.key);
      if (first != &entry) {
        failAt(entry.line, entry.key,
               "duplicate key (first at line " + std::to_string(first->line) + ")");
      }
    }
  }
  for (const Entry& entry : section_.entries) {
    if (!entry.used) failAt(entry.line, entry.key, "unknown key in [" + section_.title + "]");
  }
}

}  // namespace manifold::config
