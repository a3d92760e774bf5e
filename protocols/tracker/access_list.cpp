#include "protocols/tracker/access_list.hpp"

#include <algorithm>
#include <cstring>

namespace manifold::tracker {

bool parseHexHash(std::string_view hex, uint8_t* out) {
  if (hex.size() != 40) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 20; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool AccessList::parse(std::string_view text, std::string& why) {
  hashes_.clear();
  size_t lineNo = 0;
  while (!text.empty()) {
    ++lineNo;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    InfoHash h;
    if (!parseHexHash(line, h.data())) {
      why = "line " + std::to_string(lineNo) + ": not a 40-digit hex info hash";
      return false;
    }
    hashes_.push_back(h);
  }
  std::sort(hashes_.begin(), hashes_.end());
  hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
  return true;
}

bool AccessList::permits(const uint8_t* infoHash) const {
  if (mode == AccessMode::Off) return true;
  InfoHash h;
  std::memcpy(h.data(), infoHash, 20);
  const bool listed = std::binary_search(hashes_.begin(), hashes_.end(), h);
  return mode == AccessMode::Allow ? listed : !listed;
}

}  // namespace manifold::tracker
