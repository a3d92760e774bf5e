#include "protocols/static/mime.hpp"

#include <algorithm>
#include <fstream>

#include "protocols/http/request.hpp"

namespace manifold::http {

namespace {

struct Default {
  const char* type;
  const char* extensions;  // space-separated
};

constexpr Default kDefaults[] = {
    {"text/html", "html htm shtml"},
    {"text/css", "css"},
    {"text/plain", "txt text log"},
    {"text/csv", "csv"},
    {"text/markdown", "md markdown"},
    {"application/javascript", "js mjs"},
    {"application/json", "json map"},
    {"application/xml", "xml xsl"},
    {"application/atom+xml", "atom"},
    {"application/rss+xml", "rss"},
    {"application/manifest+json", "webmanifest"},
    {"image/svg+xml", "svg"},
    {"image/png", "png"},
    {"image/jpeg", "jpg jpeg"},
    {"image/gif", "gif"},
    {"image/webp", "webp"},
    {"image/avif", "avif"},
    {"image/x-icon", "ico"},
    {"image/bmp", "bmp"},
    {"application/pdf", "pdf"},
    {"application/wasm", "wasm"},
    {"video/mp4", "mp4 m4v"},
    {"video/webm", "webm"},
    {"audio/mpeg", "mp3"},
    {"audio/ogg", "ogg oga"},
    {"font/woff", "woff"},
    {"font/woff2", "woff2"},
    {"font/ttf", "ttf"},
    {"font/otf", "otf"},
    {"application/gzip", "gz tgz"},
    {"application/zip", "zip"},
    {"application/x-tar", "tar"},
    {"application/x-xz", "xz"},
    {"application/x-bzip2", "bz2"},
    {"application/x-bittorrent", "torrent"},
};

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool endsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && equalsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

// Calls fn(word) for each whitespace-separated word of s.
template <typename Fn>
void forEachWord(std::string_view s, Fn fn) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') ++i;
    if (i > start) fn(s.substr(start, i - start));
  }
}

}  // namespace

void MimeTable::set(std::string_view extension, std::string_view type) {
  if (!extension.empty() && extension[0] == '.') extension.remove_prefix(1);
  if (extension.empty() || extension.size() > kMaxExtension || type.empty()) return;
  std::string ext(extension);
  for (char& c : ext) c = lower(c);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), ext,
                             [](const Entry& e, const std::string& k) { return e.extension < k; });
  if (it != entries_.end() && it->extension == ext) {
    it->type = type;
  } else {
    entries_.insert(it, Entry{std::move(ext), std::string(type)});
  }
}

void MimeTable::loadDefaults() {
  for (const Default& d : kDefaults)
    forEachWord(d.extensions, [&](std::string_view ext) { set(ext, d.type); });
}

bool MimeTable::loadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = line;
    if (size_t hash = l.find('#'); hash != std::string_view::npos) l = l.substr(0, hash);
    std::string_view type;
    forEachWord(l, [&](std::string_view word) {
      if (type.empty()) {
        type = word;
      } else {
        set(word, type);
      }
    });
  }
  return !in.bad();
}

std::string_view MimeTable::lookup(std::string_view p) const {
  size_t slash = p.rfind('/');
  bool hadSlash = slash != std::string_view::npos;
  if (hadSlash) p = p.substr(slash + 1);
  size_t dot = p.rfind('.');
  if (dot != std::string_view::npos) {
    p = p.substr(dot + 1);
  } else if (hadSlash) {
    return kDefaultType;  // "/dir/README": no extension
  }
  if (p.empty() || p.size() > kMaxExtension) return kDefaultType;
  char buf[kMaxExtension];
  for (size_t i = 0; i < p.size(); ++i) buf[i] = lower(p[i]);
  std::string_view key(buf, p.size());
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const Entry& e, std::string_view k) { return e.extension < k; });
  if (it != entries_.end() && it->extension == key) return it->type;
  return kDefaultType;
}

bool isCompressible(std::string_view t) {
  if (size_t semi = t.find(';'); semi != std::string_view::npos) t = t.substr(0, semi);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  if (t.size() > 5 && equalsIgnoreCase(t.substr(0, 5), "text/")) return true;
  if (endsWithIgnoreCase(t, "+json") || endsWithIgnoreCase(t, "+xml")) return true;
  static constexpr std::string_view kTypes[] = {
      "application/json",
      "application/javascript",
      "application/x-javascript",
      "application/ecmascript",
      "application/xml",
      "application/vnd.ms-fontobject",
      "font/ttf",
      "font/otf",
      "image/x-icon",
      "image/vnd.microsoft.icon",
      "image/bmp",
  };
  for (std::string_view k : kTypes)
    if (equalsIgnoreCase(t, k)) return true;
  return false;
}

}  // namespace manifold::http
