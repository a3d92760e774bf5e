// RFC 1035 master-file parser (section 5): $ORIGIN, $TTL, $INCLUDE (relative to the including
// file), relative names, "@", parentheses spanning lines, ";" comments, quoted strings, owner
// and TTL inheritance, TTL units (1h30m), the class in either position. RDATA is rdata_text's job
// (the types it knows by name, DNSSEC's included, any other through RFC 3597 "\# LEN HEX").
// Pure: the text comes in, records come out; $INCLUDE goes through a reader callback.
// Errors are values: "file:line: why".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::dns {

struct ZoneRecord {
  std::string owner;  // wire form, case as written
  uint16_t type = 0;
  uint16_t klass = 1;
  uint32_t ttl = 0;
  // Uncompressed wire RDATA; names inside it are uncompressed wire names too.
  std::string rdata;
  std::string file;
  int line = 0;
};

struct ZoneParseResult {
  bool ok = false;
  std::string error;  // "file:line: why"
  std::vector<ZoneRecord> records;
};

// Reads an $INCLUDE target; false with `why` when it cannot.
using IncludeReader =
    std::function<bool(const std::string& path, std::string& content, std::string& why)>;

// `origin` is presentation text ("example.com."), the initial $ORIGIN.
ZoneParseResult parseZoneText(std::string_view text, const std::string& fileName,
                              const std::string& origin, const IncludeReader& reader);
// Reads `path` from disk (and its includes, resolved against the including file's directory).
ZoneParseResult parseZoneFile(const std::string& path, const std::string& origin);

// Parses a TTL: seconds or units "1w2d3h4m5s"; false on junk or overflow.
bool parseTtl(std::string_view text, uint32_t& out);

}  // namespace manifold::dns
