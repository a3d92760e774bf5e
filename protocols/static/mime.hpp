// File extension -> media type table, and which media types are worth compressing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace manifold::http {

class MimeTable {
 public:
  static constexpr std::string_view kDefaultType = "application/octet-stream";
  static constexpr size_t kMaxExtension = 16;  // longer extensions are never looked up

  // Adds the built-in types (html, css, js, json, images, fonts, archives, ...), overriding
  // entries with the same extension.
  void loadDefaults();
  // Adds the entries of an /etc/mime.types style file ("type ext ext ..." per line, '#'
  // comments), later lines overriding earlier ones and the defaults. False if unreadable.
  bool loadFile(const std::string& path);
  // Adds or replaces one mapping; the extension is stored lowercase, without a dot.
  void set(std::string_view extension, std::string_view type);

  // Media type for a path ("/a/b.HTML"), a file name, or a bare extension ("html", ".html"):
  // the text after the last '.' of the last path segment, case-insensitive. kDefaultType when
  // there is none or it is unknown. Does not allocate; the view stays valid until the table is
  // changed.
  std::string_view lookup(std::string_view pathOrExtension) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string extension;  // lowercase
    std::string type;
  };
  std::vector<Entry> entries_;  // sorted by extension, for binary search
};

// True for media types that gzip shrinks: text/*, JSON, JavaScript, XML and their +json / +xml
// variants (SVG, RSS, ...), icons, and uncompressed font formats. Parameters ("; charset=")
// are ignored. Already compressed formats (images, video, archives, woff, wasm) are false.
bool isCompressible(std::string_view mimeType);

}  // namespace manifold::http
