#include "protocols/http/websocket_frame.hpp"

#include <algorithm>
#include <cstring>

namespace manifold::http::ws {

namespace {

FrameResult fail(uint16_t code, const char* why) { return {FrameStatus::Error, code, why}; }

bool knownOpcode(unsigned op) { return op <= kBinary || (op >= kClose && op <= kPong); }

}  // namespace

FrameResult parseFrameHeader(std::string_view in, const FrameLimits& limits, FrameHeader& out) {
  if (in.size() < 2) return {};
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  out.fin = p[0] & 0x80;
  if (p[0] & 0x70) return fail(kCloseProtocolError, "reserved bits set");
  const unsigned op = p[0] & 0x0F;
  if (!knownOpcode(op)) return fail(kCloseProtocolError, "unknown opcode");
  out.opcode = static_cast<Opcode>(op);
  out.masked = p[1] & 0x80;
  if (out.masked != limits.fromClient)
    return fail(kCloseProtocolError, limits.fromClient ? "unmasked client frame" : "masked frame");
  const unsigned len7 = p[1] & 0x7F;
  const bool control = op >= kClose;
  if (control && (!out.fin || len7 > 125))
    return fail(kCloseProtocolError, "fragmented or long control frame");
  size_t at = 2;
  uint64_t length = len7;
  if (len7 == 126) {
    if (in.size() < 4) return {};
    length = (uint64_t{p[2]} << 8) | p[3];
    if (length < 126) return fail(kCloseProtocolError, "non-minimal length");
    at = 4;
  } else if (len7 == 127) {
    if (in.size() < 10) return {};
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
    if (length >> 63) return fail(kCloseProtocolError, "length high bit set");
    if (length <= 0xFFFF) return fail(kCloseProtocolError, "non-minimal length");
    at = 10;
  }
  if (length > limits.maxFrame) return fail(kCloseTooBig, "frame too big");
  if (out.masked) {
    if (in.size() < at + 4) return {};
    std::memcpy(out.mask, p + at, 4);
    at += 4;
  }
  out.headerBytes = at;
  out.payloadBytes = length;
  return {FrameStatus::Ok, 0, ""};
}

void unmask(const uint8_t mask[4], const char* src, char* dst, size_t n, size_t offset) {
  // Word at a time: the key repeated over 8 bytes, rotated to the starting offset.
  uint8_t key8[8];
  for (int i = 0; i < 8; ++i) key8[i] = mask[(offset + i) & 3];
  uint64_t key;
  std::memcpy(&key, key8, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= key;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < n; ++i) dst[i] = static_cast<char>(src[i] ^ key8[i & 7]);
}

bool validUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII runs, 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (!(w & 0x8080808080808080ull)) {
        i += 8;
        continue;
      }
    }
    const uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (i + need >= n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k <= need; ++k)
      if ((p[i + k] & 0xC0) != 0x80) return false;
    i += need + 1;
  }
  return true;
}

void appendFrameHeader(std::string& out, Opcode opcode, uint64_t payloadBytes) {
  char h[10];
  size_t n = 2;
  h[0] = static_cast<char>(0x80 | opcode);
  if (payloadBytes < 126) {
    h[1] = static_cast<char>(payloadBytes);
  } else if (payloadBytes <= 0xFFFF) {
    h[1] = 126;
    h[2] = static_cast<char>(payloadBytes >> 8);
    h[3] = static_cast<char>(payloadBytes);
    n = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<char>(payloadBytes >> (56 - 8 * i));
    n = 10;
  }
  out.append(h, n);
}

void appendFrame(std::string& out, Opcode opcode, std::string_view payload) {
  appendFrameHeader(out, opcode, payload.size());
  out.append(payload);
}

void appendMaskedFrame(std::string& out, uint8_t firstByte, std::string_view payload,
                       const uint8_t mask[4]) {
  const size_t at = out.size();
  appendFrameHeader(out, static_cast<Opcode>(firstByte & 0x0F), payload.size());
  out[at] = static_cast<char>(firstByte);
  out[at + 1] = static_cast<char>(out[at + 1] | 0x80);
  out.append(reinterpret_cast<const char*>(mask), 4);
  const size_t p = out.size();
  out.append(payload);
  unmask(mask, out.data() + p, out.data() + p, payload.size());
}

void appendClose(std::string& out, uint16_t code, std::string_view reason) {
  reason = reason.substr(0, 123);
  appendFrameHeader(out, kClose, 2 + reason.size());
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code));
  out.append(reason);
}

uint16_t parseClosePayload(std::string_view payload) {
  if (payload.empty()) return kCloseNoStatus;
  if (payload.size() < 2) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  const uint16_t code = static_cast<uint16_t>((p[0] << 8) | p[1]);
  // 7.4.1/7.4.2: 1000-1003, 1007-1011 are defined for sending; 1004-1006, 1015 are reserved;
  // 3000-4999 belong to libraries and applications; everything else is invalid.
  const bool ok = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                  (code >= 3000 && code <= 4999);
  if (!ok || !validUtf8(payload.substr(2))) return 0;
  return code;
}

Event MessageReader::finish(Opcode opcode, std::string_view payload, size_t consumed) {
  Event e;
  e.consumed = consumed;
  if (opcode == kText && !validUtf8(payload)) {
    e.kind = Event::Error;
    e.code = kCloseInvalidPayload;
    e.why = "text message is not UTF-8";
    return e;
  }
  e.kind = Event::Message;
  e.opcode = opcode;
  e.payload = payload;
  return e;
}

Event MessageReader::next(std::string_view in, std::string& scratch) {
  Event e;
  FrameHeader h;
  FrameResult r = parseFrameHeader(in, *limits_, h);
  if (r.status == FrameStatus::Error) {
    e.kind = Event::Error;
    e.code = r.closeCode;
    e.why = r.why;
    return e;
  }
  if (r.status == FrameStatus::Incomplete || in.size() - h.headerBytes < h.payloadBytes) return e;
  const size_t total = h.headerBytes + static_cast<size_t>(h.payloadBytes);
  const char* src = in.data() + h.headerBytes;
  const size_t n = static_cast<size_t>(h.payloadBytes);
  auto unmasked = [&](std::string& buf, size_t at) {
    buf.resize(at + n);
    if (h.masked)
      unmask(h.mask, src, buf.data() + at, n);
    else if (n)
      std::memcpy(buf.data() + at, src, n);
    return std::string_view(buf.data() + at, n);
  };

  if (h.opcode >= kClose) {
    std::string_view payload = unmasked(scratch, 0);
    e.consumed = total;
    e.payload = payload;
    if (h.opcode == kPing) {
      e.kind = Event::Ping;
    } else if (h.opcode == kPong) {
      e.kind = Event::Pong;
    } else {
      e.kind = Event::Close;
      e.code = parseClosePayload(payload);
    }
    return e;
  }

  auto protocolError = [&](const char* why) {
    e.kind = Event::Error;
    e.code = kCloseProtocolError;
    e.why = why;
    return e;
  };
  if (h.opcode == kContinuation) {
    if (!midMessage()) return protocolError("continuation without a message");
    if (fragments_.size() + n > limits_->maxMessage) {
      e.kind = Event::Error;
      e.code = kCloseTooBig;
      e.why = "message too big";
      return e;
    }
    unmasked(fragments_, fragments_.size());
    if (!h.fin) {
      e.kind = Event::Fragment;
      e.consumed = total;
      return e;
    }
    // Hand the message over in scratch so the fragment buffer can be freed now.
    scratch.assign(fragments_);
    const Opcode op = fragmentOpcode_;
    fragmentOpcode_ = kContinuation;
    std::string().swap(fragments_);
    return finish(op, scratch, total);
  }
  if (midMessage()) return protocolError("new message inside a fragmented one");
  if (n > limits_->maxMessage) {
    e.kind = Event::Error;
    e.code = kCloseTooBig;
    e.why = "message too big";
    return e;
  }
  if (!h.fin) {
    fragmentOpcode_ = h.opcode;
    unmasked(fragments_, 0);
    e.kind = Event::Fragment;
    e.consumed = total;
    return e;
  }
  return finish(h.opcode, unmasked(scratch, 0), total);
}

}  // namespace manifold::http::ws
