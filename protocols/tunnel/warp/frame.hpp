// Warp frames: what the reliable transport puts inside one encrypted tunnel datagram.
// Pure functions over byte spans: parse into views of the input, write into a caller's buffer.
// Every integer is big-endian. Full description with diagrams: protocols/tunnel/warp/README.md.
//
//   DATA    | 0x21 | flags | pn (4) | seq (4) | payload ...                      10-byte header
//   PARITY  | 0x22 | count | pn (4) | first (4) | xor of the group's records ... 10-byte header
//   ACK     | 0x23 | nr | largest (4) | delay (2) | cum (4) | first (2) | ranges | recovered
//
// pn: packet number, one per transmission (a retransmission gets a new one), so an ACK is never
// ambiguous; seq: the data sequence number, one per inner packet, for in-order delivery.
// Both travel as their low 32 bits and are widened against the largest value seen
// (expandSequence), which is safe while fewer than 2^31 are outstanding.
// DATA flags: low 2 bits = compression of the payload (0 none, 1 lzo, 2 zlib); others zero.
// PARITY: XOR of the group's records; a record is len (2) | flags (1) | payload, zero-padded.
// ACK: nr = number of extra ranges (high nibble: recovered count, low nibble: ranges <= 15);
// delay in units of 8 us; cum = every seq below it was received; first = how many pn below
// `largest` were also received, contiguously; then per extra range: gap (2) = pns missing,
// len (2) = pns received minus one; then the recovered seqs (4 each), seqs rebuilt from parity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace manifold::tunnel::warp {

// 0x20..0x2f: the range the tunnel's payload dispatch leaves to warp
// (protocols/tunnel/PROTOCOL.md); an IP packet starts with 0x4_ or 0x6_ and a path probe with
// 0x10/0x11, so they never meet.
enum class FrameType : uint8_t { Data = 0x21, Parity = 0x22, Ack = 0x23 };

inline constexpr size_t kDataHeader = 10;
inline constexpr size_t kParityHeader = 10;
inline constexpr size_t kAckHeader = 14;
inline constexpr size_t kRecordHeader = 3;  // len (2) | flags (1), the unit parity covers
inline constexpr unsigned kMaxAckRanges = 15;
inline constexpr unsigned kMaxRecovered = 15;
inline constexpr unsigned kMaxGroup = 32;  // members per parity group
inline constexpr uint8_t kCompressMask = 0x03;

struct AckRange {
  uint64_t low = 0, high = 0;  // inclusive pn range
};

struct Frame {
  FrameType type = FrameType::Data;
  uint8_t flags = 0;                 // DATA: compression; PARITY: group size
  uint32_t pn = 0;                   // DATA, PARITY; ACK: largest pn received
  uint32_t seq = 0;                  // DATA: seq; PARITY: first seq of the group; ACK: cum
  uint16_t delay = 0;                // ACK only, units of 8 us
  std::span<const uint8_t> payload;  // DATA: payload; PARITY: xor bytes
  // ACK only: raw ranges and recovered seqs, decoded by ackRanges() / ackRecovered()
  uint16_t firstRange = 0;
  uint8_t rangeCount = 0, recoveredCount = 0;
  std::span<const uint8_t> rangeBytes, recoveredBytes;
};

// Parses one frame. False for anything malformed (unknown type, short, unknown flag bits, a
// parity group of 0 or more than kMaxGroup, an ACK gap of 0, ACK length other than its counts
// say); `out` is then unspecified. Ranges below pn 0 are cut by ackRanges(), not refused here:
// only the widened pn can tell.
bool parseFrame(std::span<const uint8_t> in, Frame& out);

// The pn ranges of a parsed ACK, newest first, widened against `largest` (the expanded
// largest pn). Writes up to out.size() ranges, returns how many; stops at pn 0.
size_t ackRanges(const Frame& ack, uint64_t largest, std::span<AckRange> out);
// The i-th recovered seq (32 bits on the wire) of a parsed ACK.
uint32_t ackRecovered(const Frame& ack, size_t i);

// Writers return the bytes written, 0 when `out` is too small.
size_t writeDataHeader(std::span<uint8_t> out, uint8_t flags, uint64_t pn, uint64_t seq);
size_t writeParityHeader(std::span<uint8_t> out, uint8_t count, uint64_t pn, uint64_t first);
// ranges newest first (as ackRanges returns them), at most kMaxAckRanges + 1 used; recovered at
// most kMaxRecovered used. The first range's high end is the largest pn.
size_t writeAck(std::span<uint8_t> out, std::span<const AckRange> ranges, uint16_t delay,
                uint64_t cum, std::span<const uint64_t> recovered);

// Widens a 32-bit wire value to the 64-bit value closest to `expected` (QUIC's rule).
uint64_t expandSequence(uint32_t wire, uint64_t expected);

inline uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void store32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

}  // namespace manifold::tunnel::warp
