#include "protocols/http/websocket_handshake.hpp"

#include <cstdint>
#include <cstring>

namespace manifold::http::ws {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int base64Value(char c) {
  const char* p = std::strchr(kAlphabet, c);
  return c && p ? static_cast<int>(p - kAlphabet) : -1;
}

// 16 bytes in base64 are 22 characters, the last carrying 2 bits (its low 4 bits zero), and "==".
bool validKey(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i)
    if (base64Value(key[i]) < 0) return false;
  return (base64Value(key[21]) & 0x0F) == 0;
}

uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

HandshakeCheck refuse(int status, const char* why) { return {status, why}; }

}  // namespace

void sha1(std::string_view data, unsigned char digest[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  const uint64_t bits = uint64_t{data.size()} * 8;
  // Message, 0x80, zeros, 64-bit length: processed block by block without copying the data.
  const size_t total = ((data.size() + 8) / 64 + 1) * 64;
  for (size_t block = 0; block < total; block += 64) {
    uint8_t b[64];
    for (size_t i = 0; i < 64; ++i) {
      const size_t at = block + i;
      if (at < data.size())
        b[i] = static_cast<uint8_t>(data[at]);
      else if (at == data.size())
        b[i] = 0x80;
      else if (at >= total - 8)
        b[i] = static_cast<uint8_t>(bits >> (8 * (total - 1 - at)));
      else
        b[i] = 0;
    }
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = (uint32_t{b[4 * i]} << 24) | (uint32_t{b[4 * i + 1]} << 16) |
             (uint32_t{b[4 * i + 2]} << 8) | b[4 * i + 3];
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (bb & c) | (~bb & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = bb ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (bb & c) | (bb & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = bb ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(bb, 30);
      bb = a;
      a = t;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 4; ++j)
      digest[4 * i + j] = static_cast<unsigned char>(h[i] >> (24 - 8 * j));
}

bool wantsWebSocket(const Request& req) {
  return listContainsToken(req.find("upgrade"), "websocket");
}

HandshakeCheck checkHandshake(const Request& req, const std::vector<std::string>& origins) {
  if (req.method != Method::Get) return refuse(400, "WebSocket upgrade needs GET");
  if (req.versionMajor != 1 || req.versionMinor < 1)
    return refuse(400, "WebSocket upgrade needs HTTP/1.1");
  if (req.host.empty()) return refuse(400, "no Host");
  if (req.contentLength > 0 || req.chunked) return refuse(400, "upgrade request with a body");
  if (!wantsWebSocket(req)) return refuse(400, "Upgrade does not name websocket");
  if (!listContainsToken(req.connection, "upgrade")) return refuse(400, "Connection lacks Upgrade");
  if (req.find("sec-websocket-version") != "13")
    return refuse(426, "unsupported Sec-WebSocket-Version");
  if (!validKey(req.find("sec-websocket-key"))) return refuse(400, "bad Sec-WebSocket-Key");
  if (!origins.empty()) {
    std::string_view origin = req.find("origin");
    bool ok = false;
    for (const std::string& o : origins)
      ok = ok || (origin.empty() ? o == "none" : equalsIgnoreCase(o, origin));
    if (!ok) return refuse(403, "Origin not allowed");
  }
  return {};
}

std::string acceptValue(std::string_view key) {
  std::string text(key);
  text += kGuid;
  unsigned char d[21];
  sha1(text, d);
  d[20] = 0;
  std::string out;
  for (int i = 0; i < 21; i += 3) {
    const uint32_t v = (uint32_t{d[i]} << 16) | (uint32_t{d[i + 1]} << 8) | d[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < 20 ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < 20 ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string acceptHeaders(const Request& req) {
  return "Sec-WebSocket-Accept: " + acceptValue(req.find("sec-websocket-key")) + "\r\n";
}

}  // namespace manifold::http::ws
