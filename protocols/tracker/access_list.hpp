// Allow/deny list of info hashes, read from a file at config load (so SIGHUP, which reloads
// the config, re-reads it). File format: one 40-digit hex info hash per line (case-insensitive);
// blank lines and lines starting with '#' are ignored. Kept as a sorted vector per worker
// (inherited through fork): a lookup is a binary search, no shm needed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::tracker {

using InfoHash = std::array<uint8_t, 20>;

enum class AccessMode : uint8_t { Off, Allow, Deny };

class AccessList {
 public:
  AccessMode mode = AccessMode::Off;
  // Parses the file's text; returns false with why = "line N: ..." on a bad line.
  bool parse(std::string_view text, std::string& why);
  bool permits(const uint8_t* infoHash) const;
  size_t size() const { return hashes_.size(); }

 private:
  std::vector<InfoHash> hashes_;
};

// 40 hex digits -> 20 bytes.
bool parseHexHash(std::string_view hex, uint8_t* out);

}  // namespace manifold::tracker
