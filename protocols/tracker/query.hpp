// HTTP tracker query strings (BEP 3 / 23 / 7), a pure parser over the raw query (after '?').
//
//   /announce?info_hash=<20 bytes %-encoded>&peer_id=<20 bytes>&port=N&uploaded=N
//             &downloaded=N&left=N[&event=started|completed|stopped|empty|paused]
//             [&numwant=N][&compact=0|1][&no_peer_id=1][&key=..][&ip=..][&trackerid=..]
//   /scrape?info_hash=<20 bytes>[&info_hash=...]...
// Unknown parameters are ignored (clients send supportcrypto, corrupt, redundant, ...).
// '+' is a literal byte (RFC 3986), as libtorrent and transmission percent-encode it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/tracker/udp_packet.hpp"

namespace manifold::tracker {

struct AnnounceQuery {
  uint8_t infoHash[20];
  uint8_t peerId[20];
  uint16_t port = 0;
  uint64_t uploaded = 0, downloaded = 0, left = 0;
  bool haveLeft = false;
  Event event = Event::None;
  int64_t numWant = -1;  // -1: not given
  bool compact = true;   // BEP 23 is the default answer unless compact=0
  bool noPeerId = false;
  std::string_view ip;   // raw (still encoded) value of ip=, empty when absent
  std::string_view key;  // raw
};

// Returns an empty view on success, else a short failure reason for the bencoded reply.
std::string_view parseAnnounceQuery(std::string_view query, AnnounceQuery& out);

// Collects up to maxHashes info_hash values (20 raw bytes each) into `hashes` (room for
// maxHashes * 20 bytes); extra ones are ignored. Returns the count, or -1 on a malformed one.
int parseScrapeQuery(std::string_view query, uint8_t* hashes, size_t maxHashes);

// Percent-decodes `in` into out (capacity cap). Returns the decoded length, or -1 when the
// input is malformed ("%" not followed by two hex digits) or longer than cap.
int percentDecode(std::string_view in, uint8_t* out, size_t cap);

}  // namespace manifold::tracker
