#include "protocols/tftp/filename.hpp"

namespace manifold::tftp {

bool normalizeFilename(std::string_view raw, bool allowAbsolute, std::string& out) {
  out.clear();
  if (raw.empty()) return false;
  if (raw.front() == '/' && !allowAbsolute) return false;
  for (char ch : raw) {
    auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t slash = raw.find('/', pos);
    if (slash == std::string_view::npos) slash = raw.size();
    std::string_view segment = raw.substr(pos, slash - pos);
    pos = slash + 1;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return false;
    if (!out.empty()) out.push_back('/');
    out.append(segment);
  }
  return !out.empty();
}

}  // namespace manifold::tftp
