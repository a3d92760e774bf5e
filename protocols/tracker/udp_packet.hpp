// BEP 15 (UDP tracker protocol) packets: a pure parser over the bytes of one datagram and
// builders that write answers straight into a send buffer. No sockets, no allocation.
//
// Wire format (all integers big-endian):
//   connect request   16 bytes: i64 protocol_id = 0x41727101980, i32 action = 0, i32 transaction_id
//   connect response  16 bytes: i32 action = 0, i32 transaction_id, i64 connection_id
//   announce request  98 bytes: i64 connection_id, i32 action = 1, i32 transaction_id,
//                     20 info_hash, 20 peer_id, i64 downloaded, i64 left, i64 uploaded,
//                     i32 event (0 none, 1 completed, 2 started, 3 stopped), u32 ip, u32 key,
//                     i32 num_want (-1 = default), u16 port;
//                     then BEP 41 options: 0x00 end, 0x01 no-op, 0x02 URL data (u8 len + bytes)
//   announce response 20 bytes: i32 action = 1, i32 transaction_id, i32 interval, i32 leechers,
//                     i32 seeders; then peers: 6 bytes each (IPv4 + port) when the request came
//                     over IPv4, 18 bytes each (IPv6 + port) over IPv6
//   scrape request    16 + 20*n bytes: i64 connection_id, i32 action = 2, i32 transaction_id,
//                     n info hashes
//   scrape response   8 + 12*n bytes: i32 action = 2, i32 transaction_id, then per hash
//                     i32 seeders, i32 completed, i32 leechers
//   error response    8 + text: i32 action = 3, i32 transaction_id, message (no terminator)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace manifold::tracker {

inline constexpr uint64_t kProtocolId = 0x41727101980ull;
inline constexpr size_t kAnnounceBytes = 98;
inline constexpr size_t kInfoHashBytes = 20;

enum class UdpAction : uint32_t { Connect = 0, Announce = 1, Scrape = 2, Error = 3 };

// Announce events as BEP 15 numbers them (HTTP's names map onto the same values).
enum class Event : uint8_t { None = 0, Completed = 1, Started = 2, Stopped = 3 };

struct UdpAnnounce {
  uint64_t connectionId;
  const uint8_t* infoHash;  // 20 bytes, inside the datagram
  const uint8_t* peerId;    // 20 bytes, inside the datagram
  uint64_t downloaded, left, uploaded;
  Event event;
  uint32_t ip, key;
  int32_t numWant;
  uint16_t port;
  std::span<const uint8_t> options;  // BEP 41 options after the 98 fixed bytes, may be empty
};

struct UdpScrape {
  uint64_t connectionId;
  const uint8_t* hashes;  // count * 20 bytes, inside the datagram
  size_t count;           // already capped to the caller's maximum
};

enum class UdpParse : uint8_t {
  Connect,
  Announce,
  Scrape,
  Drop,   // too short to carry a transaction id, or a response/garbage: no answer
  Error,  // answer with an error packet carrying transactionId and `error`
};

struct UdpRequest {
  UdpParse kind = UdpParse::Drop;
  uint32_t transactionId = 0;
  UdpAnnounce announce{};
  UdpScrape scrape{};
  std::string_view error;  // static text for UdpParse::Error
};

// Parses one datagram. maxScrapeHashes caps scrape.count (extra hashes are ignored).
UdpRequest parseUdpRequest(std::span<const uint8_t> datagram, size_t maxScrapeHashes);

// BEP 41: concatenates the URL-data options into out (at most cap bytes); returns the length.
// Lenient: a truncated option ends the list.
size_t announceUrlData(std::span<const uint8_t> options, char* out, size_t cap);

// Builders: return bytes written, 0 if `cap` is too small.
size_t writeConnectResponse(uint8_t* out, size_t cap, uint32_t transactionId,
                            uint64_t connectionId);
// Header only; the caller appends `peerBytes` of compact peers after the 20 header bytes.
size_t writeAnnounceHeader(uint8_t* out, size_t cap, uint32_t transactionId, uint32_t interval,
                           uint32_t leechers, uint32_t seeders);
size_t writeScrapeHeader(uint8_t* out, size_t cap, uint32_t transactionId);
size_t writeScrapeEntry(uint8_t* out, size_t cap, uint32_t seeders, uint32_t completed,
                        uint32_t leechers);
size_t writeErrorResponse(uint8_t* out, size_t cap, uint32_t transactionId,
                          std::string_view message);

// Request builders, for clients (tests, the load generator).
size_t writeConnectRequest(uint8_t* out, size_t cap, uint32_t transactionId);
struct AnnounceFields {
  uint64_t connectionId = 0;
  uint32_t transactionId = 0;
  const uint8_t* infoHash = nullptr;
  const uint8_t* peerId = nullptr;
  uint64_t downloaded = 0, left = 0, uploaded = 0;
  uint32_t event = 0;
  uint32_t ip = 0, key = 0;
  int32_t numWant = -1;
  uint16_t port = 0;
};
size_t writeAnnounceRequest(uint8_t* out, size_t cap, const AnnounceFields& f);
size_t writeScrapeRequest(uint8_t* out, size_t cap, uint64_t connectionId, uint32_t transactionId,
                          std::span<const uint8_t> hashes);

// Big-endian helpers.
inline uint32_t readBe32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline uint64_t readBe64(const uint8_t* p) { return uint64_t{readBe32(p)} << 32 | readBe32(p + 4); }
inline void writeBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline void writeBe64(uint8_t* p, uint64_t v) {
  writeBe32(p, static_cast<uint32_t>(v >> 32));
  writeBe32(p + 4, static_cast<uint32_t>(v));
}

}  // namespace manifold::tracker
