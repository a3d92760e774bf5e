#include "protocols/tftp/netascii.hpp"

namespace manifold::tftp {

size_t netasciiEncode(const uint8_t* in, size_t inLen, NetasciiCursor& cursor, uint8_t* out,
                      size_t cap) {
  size_t written = 0, used = 0;
  if (cursor.pending >= 0 && written < cap) {
    out[written++] = static_cast<uint8_t>(cursor.pending);
    cursor.pending = -1;
  }
  while (written < cap && used < inLen) {
    uint8_t ch = in[used++];
    if (ch == '\n' || ch == '\r') {
      out[written++] = '\r';
      uint8_t second = ch == '\n' ? '\n' : '\0';
      if (written < cap)
        out[written++] = second;
      else
        cursor.pending = second;
    } else {
      out[written++] = ch;
    }
  }
  cursor.offset += used;
  return written;
}

size_t NetasciiDecoder::decode(const uint8_t* in, size_t len, uint8_t* out) {
  size_t written = 0;
  for (size_t i = 0; i < len; ++i) {
    uint8_t ch = in[i];
    if (pendingCr_) {
      pendingCr_ = false;
      if (ch == '\n') {
        out[written++] = '\n';
        continue;
      }
      out[written++] = '\r';
      if (ch == '\0') continue;
    }
    if (ch == '\r')
      pendingCr_ = true;
    else
      out[written++] = ch;
  }
  return written;
}

size_t NetasciiDecoder::finish(uint8_t* out) {
  if (!pendingCr_) return 0;
  pendingCr_ = false;
  out[0] = '\r';
  return 1;
}

}  // namespace manifold::tftp
