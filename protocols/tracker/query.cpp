#include "protocols/tracker/query.hpp"

#include <charconv>

#include "protocols/ascii.hpp"

namespace manifold::tracker {

namespace {

template <class T>
bool parseNumber(std::string_view v, T& out) {
  if (v.empty()) return false;
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

// Calls fn(name, value) for each '&'-separated pair (raw, still encoded).
template <class Fn>
bool forEachParam(std::string_view query, Fn&& fn) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (!fn(name, value)) return false;
  }
  return true;
}

}  // namespace

int percentDecode(std::string_view in, uint8_t* out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (n == cap) return -1;
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return -1;
      const int hi = ascii::hexValue(in[i + 1]), lo = ascii::hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      out[n++] = static_cast<uint8_t>(hi << 4 | lo);
      i += 2;
    } else {
      out[n++] = static_cast<uint8_t>(in[i]);
    }
  }
  return static_cast<int>(n);
}

std::string_view parseAnnounceQuery(std::string_view query, AnnounceQuery& out) {
  out = AnnounceQuery();
  bool haveHash = false, havePeerId = false, havePort = false;
  std::string_view why;
  bool ok = forEachParam(query, [&](std::string_view name, std::string_view value) {
    if (name == "info_hash") {
      if (percentDecode(value, out.infoHash, 20) != 20) return why = "invalid info_hash", false;
      haveHash = true;
    } else if (name == "peer_id") {
      if (percentDecode(value, out.peerId, 20) != 20) return why = "invalid peer_id", false;
      havePeerId = true;
    } else if (name == "port") {
      // Port 0 cannot be connected to: storing it would hand peers an address that fails.
      if (!parseNumber(value, out.port) || out.port == 0) return why = "invalid port", false;
      havePort = true;
    } else if (name == "uploaded") {
      if (!parseNumber(value, out.uploaded)) return why = "invalid uploaded", false;
    } else if (name == "downloaded") {
      if (!parseNumber(value, out.downloaded)) return why = "invalid downloaded", false;
    } else if (name == "left") {
      if (!parseNumber(value, out.left)) return why = "invalid left", false;
      out.haveLeft = true;
    } else if (name == "event") {
      if (value == "started")
        out.event = Event::Started;
      else if (value == "completed")
        out.event = Event::Completed;
      else if (value == "stopped")
        out.event = Event::Stopped;
      else if (value.empty() || value == "empty" || value == "paused")
        out.event = Event::None;
      else
        return why = "unknown event", false;
    } else if (name == "numwant") {
      if (!parseNumber(value, out.numWant)) return why = "invalid numwant", false;
    } else if (name == "compact") {
      out.compact = value != "0";
    } else if (name == "no_peer_id") {
      out.noPeerId = value != "0";
    } else if (name == "ip") {
      out.ip = value;
    } else if (name == "key") {
      out.key = value;
    }
    return true;
  });
  if (!ok) return why;
  if (!haveHash) return "missing info_hash";
  if (!havePeerId) return "missing peer_id";
  if (!havePort) return "missing port";
  return {};
}

int parseScrapeQuery(std::string_view query, uint8_t* hashes, size_t maxHashes) {
  size_t count = 0;
  bool ok = forEachParam(query, [&](std::string_view name, std::string_view value) {
    if (name != "info_hash") return true;
    uint8_t hash[20];
    if (percentDecode(value, hash, 20) != 20) return false;
    if (count < maxHashes) {
      for (int i = 0; i < 20; ++i) hashes[count * 20 + i] = hash[i];
      ++count;
    }
    return true;
  });
  return ok ? static_cast<int>(count) : -1;
}

}  // namespace manifold::tracker
