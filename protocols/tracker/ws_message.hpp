// The WebTorrent tracker messages (JSON text over WebSocket), as the reference JS tracker
// (bittorrent-tracker) and aquatic_ws speak them. Pure functions over bytes.
//
// Client to tracker (one JSON object per text message):
//   {"action":"announce", "info_hash":ID, "peer_id":ID, "numwant":N, "event":"started"|
//    "stopped"|"completed", "uploaded":N, "downloaded":N, "left":N,
//    "offers":[{"offer_id":ID, "offer":{"type":"offer","sdp":"..."}}, ...]}
//   {"action":"announce", "info_hash":ID, "peer_id":ID, "to_peer_id":ID, "offer_id":ID,
//    "answer":{"type":"answer","sdp":"..."}}                        (an answer to a relayed offer)
//   {"action":"scrape", "info_hash":ID | [ID, ...]}
// Tracker to client:
//   {"action":"announce","interval":N,"info_hash":ID,"complete":N,"incomplete":N}
//   {"action":"announce","info_hash":ID,"peer_id":FROM,"offer_id":ID,"offer":{...}}   (relayed)
//   {"action":"announce","info_hash":ID,"peer_id":FROM,"offer_id":ID,"answer":{...}}  (relayed)
//   {"action":"scrape","files":{ID:{"complete":N,"incomplete":N,"downloaded":N},...}}
//   {"failure reason":"...","action":"announce"|"scrape"[,"info_hash":ID]}
// ID: a 20-byte id as a JSON string of 20 characters U+0000..U+00FF, one per byte (the "binary
// string" convention of the JS tracker: latin-1, so bytes 0x80..0xFF travel as 2-byte UTF-8).
// "offer" and "answer" objects are relayed verbatim (they were validated as JSON). Unknown keys
// are skipped; keys the tracker reads must have the right type, else the request is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/tracker/udp_packet.hpp"

namespace manifold::tracker::ws {

inline constexpr size_t kIdBytes = 20;
inline constexpr size_t kMaxOffersParsed = 64;  // more offers in one announce are ignored
inline constexpr size_t kMaxScrapeHashes = 64;  // more is refused
inline constexpr unsigned kMaxDepth = 32;       // JSON nesting accepted

enum class Action : uint8_t { Announce, Scrape };

struct Offer {
  uint8_t offerId[kIdBytes];
  std::string_view offer;  // the raw JSON object
};

struct Request {
  Action action = Action::Announce;
  bool hasInfoHash = false, hasPeerId = false, hasToPeerId = false, hasOfferId = false;
  uint8_t infoHash[kIdBytes];
  uint8_t peerId[kIdBytes];
  uint8_t toPeerId[kIdBytes];
  uint8_t offerId[kIdBytes];
  int64_t numWant = -1;  // -1: absent
  Event event = Event::None;
  int64_t left = -1;        // -1: absent (not a seeder)
  std::string_view answer;  // raw JSON object, empty when absent
  Offer offers[kMaxOffersParsed];
  uint32_t offerCount = 0;
  uint8_t scrapeHashes[kMaxScrapeHashes][kIdBytes];
  uint32_t scrapeCount = 0;  // scrape: hashes listed (info_hash as a string counts as one)
};

// Parses one message. Returns nullptr on success, else the failure reason to send back (a
// static string). `out` views point into `json`.
const char* parseRequest(std::string_view json, Request& out);

// Appends a 20-byte id as a JSON string (quotes included): U+0080..U+00FF as UTF-8, control
// characters, quote and backslash escaped.
void appendId(std::string& out, const uint8_t* id);

void appendAnnounceAnswer(std::string& out, const uint8_t* infoHash, uint32_t interval,
                          uint32_t complete, uint32_t incomplete);
// Relayed offer or answer: `kind` is "offer" or "answer", `body` the raw JSON object.
void appendRelay(std::string& out, const uint8_t* infoHash, const uint8_t* fromPeerId,
                 const uint8_t* offerId, std::string_view kind, std::string_view body);
void appendFailure(std::string& out, Action action, const uint8_t* infoHash /* or nullptr */,
                   std::string_view reason);
// Scrape: call appendScrapeFile once per hash between begin and end.
void appendScrapeBegin(std::string& out);
void appendScrapeFile(std::string& out, bool first, const uint8_t* infoHash, uint32_t complete,
                      uint32_t incomplete, uint32_t downloaded);
void appendScrapeEnd(std::string& out);

}  // namespace manifold::tracker::ws
