// TFTP wire format (RFC 1350) with option extension (RFC 2347/2348/2349/7440).
// Pure functions over byte spans: no sockets, no allocation beyond the caller's buffers.
//
// Every packet starts with a 2-byte big-endian opcode:
//   1 RRQ / 2 WRQ   | opcode | filename | 0 | mode | 0 | [ optname | 0 | optvalue | 0 ]* |
//   3 DATA          | opcode | block (2) | 0..blksize bytes of data |
//   4 ACK           | opcode | block (2) |
//   5 ERROR         | opcode | code (2)  | message | 0 |
//   6 OACK          | opcode | [ optname | 0 | optvalue | 0 ]* |
// Block numbers are 16-bit and wrap from 65535 to 0 (the common rollover convention) for
// files above blksize * 65535 bytes. Mode and option names are case-insensitive ASCII.
// Options: blksize 8..65464 (RFC 2348), timeout 1..255 s (RFC 2349), tsize bytes (RFC 2349),
// windowsize 1..65535 (RFC 7440). Unknown options and options with malformed values are ignored
// (left out of the OACK) as RFC 2347 allows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace manifold::tftp {

enum class Opcode : uint16_t { Rrq = 1, Wrq = 2, Data = 3, Ack = 4, Error = 5, Oack = 6 };

// RFC 1350 / 2347 error codes.
enum class ErrorCode : uint16_t {
  NotDefined = 0,
  FileNotFound = 1,
  AccessViolation = 2,
  DiskFull = 3,
  IllegalOperation = 4,
  UnknownTid = 5,
  FileExists = 6,
  NoSuchUser = 7,
  OptionRefused = 8,
};

enum class Mode : uint8_t { Octet, Netascii };

inline constexpr size_t kDefaultBlockSize = 512;
inline constexpr size_t kMinBlockSize = 8;
inline constexpr size_t kMaxBlockSize = 65464;  // RFC 2348
inline constexpr size_t kHeaderSize = 4;        // opcode + block (DATA, ACK)
inline constexpr size_t kMaxFilename = 1024;

// Options as requested by the client; `has*` says whether the option was present and valid.
struct Options {
  bool hasBlksize = false, hasTimeout = false, hasTsize = false, hasWindowsize = false;
  uint32_t blksize = 0;     // 8..65464
  uint32_t timeout = 0;     // seconds, 1..255
  uint64_t tsize = 0;       // bytes (0 in an RRQ: "tell me the size")
  uint32_t windowsize = 0;  // 1..65535
  bool any() const { return hasBlksize || hasTimeout || hasTsize || hasWindowsize; }
};

struct Request {
  Opcode opcode = Opcode::Rrq;  // Rrq or Wrq
  std::string_view filename;    // points into the parsed datagram
  Mode mode = Mode::Octet;
  Options options;
};

enum class ParseResult : uint8_t {
  Ok,
  Malformed,    // too short, missing NUL terminators, bad opcode: error 4
  BadMode,      // mode other than octet/netascii (e.g. "mail"): error 4
  NotARequest,  // a well-formed non-request packet on the listen port: error 4
};

// Parses an RRQ or WRQ. Trailing bytes after the last complete option pair are ignored (some
// clients pad requests); a repeated option keeps its first value.
ParseResult parseRequest(const uint8_t* data, size_t len, Request& out);

// DATA / ACK / ERROR as seen by a transfer. `payload` is DATA's data or ERROR's message.
struct Packet {
  Opcode opcode = Opcode::Ack;
  uint16_t number = 0;  // block number (DATA, ACK) or error code (ERROR)
  const uint8_t* payload = nullptr;
  size_t payloadLen = 0;
};
// False for anything shorter than 4 bytes or with an opcode other than DATA/ACK/ERROR/OACK.
// An ERROR's message need not be NUL-terminated (the NUL, if any, is not in payloadLen).
bool parsePacket(const uint8_t* data, size_t len, Packet& out);

inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Builders write into `out` (capacity `cap`) and return the length, or 0 if it does not fit.
size_t buildAck(uint8_t* out, size_t cap, uint16_t block);
size_t buildDataHeader(uint8_t* out, size_t cap, uint16_t block);  // 4 bytes; data follows
size_t buildError(uint8_t* out, size_t cap, ErrorCode code, std::string_view message);
// OACK with the options whose has* flag is set, in the order blksize, timeout, tsize,
// windowsize.
size_t buildOack(uint8_t* out, size_t cap, const Options& accepted);
// A request (client side: tests, the load tool, the fuzz target's round trip).
size_t buildRequest(uint8_t* out, size_t cap, Opcode opcode, std::string_view filename, Mode mode,
                    const Options& options);
// Parses an OACK's option list into `out` (client side). False if malformed.
bool parseOack(const uint8_t* data, size_t len, Options& out);

// Standard message for a code ("File not found", ...).
std::string_view errorMessage(ErrorCode code);

}  // namespace manifold::tftp
