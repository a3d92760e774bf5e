// Netascii (RFC 764 as used by RFC 1350) conversion, incremental across block boundaries.
// On the wire a line ends with CR LF and a bare CR is sent as CR NUL. Local files use LF.
//   encode (file -> wire): LF -> CR LF, CR -> CR NUL, other bytes unchanged
//   decode (wire -> file): CR LF -> LF, CR NUL -> CR, CR x -> CR x (lenient), other unchanged
// Both sides carry at most one byte of state between calls, so a block may end in the middle
// of a two-byte sequence.
#pragma once

#include <cstddef>
#include <cstdint>

namespace manifold::tftp {

// Encoder state between blocks: the second byte of an expansion that did not fit (LF or NUL),
// or -1. Together with the file offset it is a complete checkpoint, so a block can be rebuilt
// for a retransmission from (offset, pending) alone.
struct NetasciiCursor {
  uint64_t offset = 0;  // next file byte to read
  int pending = -1;     // byte to emit before reading more, or -1
};

// Writes up to `cap` wire bytes to `out` from the file bytes `in` (which start at
// cursor.offset), advancing the cursor. Returns the bytes written. Stops when `out` is full or
// `in` is used up (then the caller reads more, or has reached end of file).
size_t netasciiEncode(const uint8_t* in, size_t inLen, NetasciiCursor& cursor, uint8_t* out,
                      size_t cap);

class NetasciiDecoder {
 public:
  // Decodes `len` wire bytes into `out`, which must hold len + 1 bytes; returns bytes written.
  size_t decode(const uint8_t* in, size_t len, uint8_t* out);
  // End of transfer: a trailing lone CR is kept as CR. Returns 0 or 1 byte written to `out`.
  size_t finish(uint8_t* out);

 private:
  bool pendingCr_ = false;
};

}  // namespace manifold::tftp
