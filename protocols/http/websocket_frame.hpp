// WebSocket framing (RFC 6455 section 5), server side, as pure functions over bytes: no socket,
// no allocation beyond the caller's buffers. Any service that accepts a WebSocket upgrade reuses
// it (the WebTorrent tracker first).
//
// Frame (5.2):
//   byte 0: FIN(1) RSV1-3(3) opcode(4)     byte 1: MASK(1) payload length(7)
//   length 126: 16-bit big-endian length follows; 127: 64-bit (high bit 0)
//   MASK set: 4-byte masking key follows; payload[i] ^= key[i % 4]
//   then the payload.
// Checks made here (close code when they fail):
//   RSV bits set (no extension is ever negotiated), unknown opcode, a client frame without
//   mask, a server frame with one, a control frame that is fragmented or longer than 125
//   bytes, a non-minimal length encoding, a 64-bit length with the high bit set: 1002;
//   a frame payload above maxFrame: 1009.
// MessageReader adds the message layer (5.4): continuation frames without a started message or
// a new data frame inside one (1002), a message above maxMessage (1009), text that is not
// UTF-8 (1007), and control frames interleaved with fragments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace manifold::http::ws {

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes (RFC 6455 7.4.1).
enum CloseCode : uint16_t {
  kCloseNormal = 1000,
  kCloseGoingAway = 1001,
  kCloseProtocolError = 1002,
  kCloseUnsupportedData = 1003,
  kCloseNoStatus = 1005,  // never sent: "the close frame had no code"
  kCloseInvalidPayload = 1007,
  kClosePolicy = 1008,
  kCloseTooBig = 1009,
  kCloseInternalError = 1011,
};

struct FrameLimits {
  uint64_t maxFrame = 16 * 1024;    // payload bytes of one frame
  uint64_t maxMessage = 64 * 1024;  // payload bytes of a whole (reassembled) message
  bool fromClient = true;           // client frames must be masked, server frames must not
};

struct FrameHeader {
  bool fin = false;
  Opcode opcode = kContinuation;
  bool masked = false;
  uint8_t mask[4] = {0, 0, 0, 0};
  size_t headerBytes = 0;     // 2..14
  uint64_t payloadBytes = 0;  // after the header
};

enum class FrameStatus : uint8_t { Ok, Incomplete, Error };

struct FrameResult {
  FrameStatus status = FrameStatus::Incomplete;
  uint16_t closeCode = 0;  // on Error
  const char* why = "";    // on Error, for logs
};

// Parses the frame header at the start of `in`. Ok when the header is complete and valid (the
// payload may still be incomplete: compare headerBytes + payloadBytes with in.size()).
FrameResult parseFrameHeader(std::string_view in, const FrameLimits& limits, FrameHeader& out);

// XORs `n` bytes from `src` with the mask (starting at key byte `offset % 4`) into `dst`.
// dst may equal src.
void unmask(const uint8_t mask[4], const char* src, char* dst, size_t n, size_t offset = 0);

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool validUtf8(std::string_view s);

// An unmasked, unfragmented server frame: header then payload.
void appendFrameHeader(std::string& out, Opcode opcode, uint64_t payloadBytes);
void appendFrame(std::string& out, Opcode opcode, std::string_view payload);
// A client frame (masked with `mask`, as clients must): test clients and load generators.
void appendMaskedFrame(std::string& out, uint8_t firstByte, std::string_view payload,
                       const uint8_t mask[4]);
// A close frame with `code` and a reason (cut to fit the 125-byte control frame limit).
void appendClose(std::string& out, uint16_t code, std::string_view reason = {});

// The status code of a close frame's payload: kCloseNoStatus for an empty payload, 0 for one
// that is invalid (1 byte, a code that may not be sent, or a reason that is not UTF-8).
uint16_t parseClosePayload(std::string_view payload);

// What MessageReader::next found at the start of its input.
struct Event {
  enum Kind : uint8_t {
    None,     // more bytes needed (nothing consumed)
    Message,  // a whole text or binary message in `payload`
    Ping,     // payload: answer with a pong carrying it
    Pong,
    Close,     // the peer's close frame; `code` as parseClosePayload says (0 = invalid: 1002)
    Error,     // close the connection with `code`
    Fragment,  // a frame of a fragmented message was stored; call again
  };
  Kind kind = None;
  Opcode opcode = kText;     // of a Message
  uint16_t code = 0;         // Close, Error
  const char* why = "";      // Error
  std::string_view payload;  // unmasked; valid until the next call
  size_t consumed = 0;       // bytes of input used (whole frames)
};

// Reassembles messages from frames (5.4): unfragmented data frames are unmasked into `scratch`
// (a buffer the caller may share between connections), fragments into a buffer of the reader's
// own that is freed when the message completes. Stateless apart from that fragment buffer.
class MessageReader {
 public:
  explicit MessageReader(const FrameLimits* limits) : limits_(limits) {}
  Event next(std::string_view in, std::string& scratch);
  bool midMessage() const { return fragmentOpcode_ != kContinuation; }

 private:
  Event finish(Opcode opcode, std::string_view payload, size_t consumed);

  const FrameLimits* limits_;
  std::string fragments_;
  Opcode fragmentOpcode_ = kContinuation;  // kText/kBinary while a fragmented message is open
};

}  // namespace manifold::http::ws
