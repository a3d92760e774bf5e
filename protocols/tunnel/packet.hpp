// The tunnel's wire messages (PROTOCOL.md has the full picture). Every message starts with
// type (1 byte), three zero bytes, and a 32-bit little-endian index whose low byte is the lane
// (worker) that owns it: the receiver's index for responses, cookie replies and data, the
// sender's for initiations. The listen sockets steer on that byte (steering.hpp).
//
//   Initiation  152  type 1 | sender | ephemeral 32 | static 32+16 | timestamp+sender 16+16 |
//                    mac1 16 | mac2 16
//   Response     92  type 2 | receiver | sender | ephemeral 32 | empty 0+16 | mac1 | mac2
//   CookieReply  64  type 3 | receiver | nonce 24 | cookie 16+16
//   Data       >=32  type 4 | receiver | counter u64 LE | payload+16
// parseMessage is pure and checks only shape (type, exact size, reserved bytes); everything
// else is proven by the cryptography.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace manifold::tunnel {

enum class MessageType : uint8_t { Initiation = 1, Response = 2, CookieReply = 3, Data = 4 };

inline constexpr size_t kTagSize = 16;
inline constexpr size_t kInitiationSize = 152;
inline constexpr size_t kResponseSize = 92;
inline constexpr size_t kCookieReplySize = 64;
inline constexpr size_t kDataHeaderSize = 16;
inline constexpr size_t kMinDataSize = kDataHeaderSize + kTagSize;
// Largest datagram accepted: a 64 KiB inner packet, padded, plus header and tag.
inline constexpr size_t kMaxMessageSize = 65536 + kMinDataSize;

namespace initiation {
inline constexpr size_t kSender = 4, kEphemeral = 8, kStatic = 40, kTimestamp = 88, kMac1 = 120,
                        kMac2 = 136;
inline constexpr size_t kTimestampPlain = 16;  // TAI64N (12) + the sender index again (4)
}  // namespace initiation
namespace response {
inline constexpr size_t kReceiver = 4, kSender = 8, kEphemeral = 12, kEmpty = 44, kMac1 = 60,
                        kMac2 = 76;
}
namespace cookie_reply {
inline constexpr size_t kReceiver = 4, kNonce = 8, kCookie = 32;
}
namespace data {
inline constexpr size_t kReceiver = 4, kCounter = 8, kPayload = 16;
}

struct Message {
  MessageType type{};
  uint32_t index = 0;    // sender (initiation) or receiver (the others)
  uint64_t counter = 0;  // data only
  std::span<const uint8_t> bytes;
};

// False for anything not shaped like one of the four messages.
bool parseMessage(std::span<const uint8_t> in, Message& out);

inline uint32_t loadLe32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t loadLe64(const uint8_t* p) {
  return uint64_t(loadLe32(p)) | uint64_t(loadLe32(p + 4)) << 32;
}
inline void storeLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void storeLe64(uint8_t* p, uint64_t v) {
  storeLe32(p, static_cast<uint32_t>(v));
  storeLe32(p + 4, static_cast<uint32_t>(v >> 32));
}
// Type byte and three zero bytes.
inline void storeHeader(uint8_t* p, MessageType type) {
  p[0] = static_cast<uint8_t>(type);
  p[1] = p[2] = p[3] = 0;
}

}  // namespace manifold::tunnel
