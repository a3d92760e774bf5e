// Tier: unit — WebSocket framing and opening handshake (RFC 6455), protocols/http/websocket_*.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/http/request.hpp"
#include "protocols/http/websocket_frame.hpp"
#include "protocols/http/websocket_handshake.hpp"

using namespace manifold::http;
using namespace manifold::http::ws;

namespace {

// A client frame: header byte 0 as given, masked with a fixed key.
std::string clientFrame(uint8_t b0, std::string_view payload, bool mask = true) {
  std::string out;
  out.push_back(static_cast<char>(b0));
  const size_t n = payload.size();
  const char m = mask ? static_cast<char>(0x80) : 0;
  if (n < 126) {
    out.push_back(static_cast<char>(m | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(m | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back(static_cast<char>(m | 127));
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(uint64_t{n} >> (56 - 8 * i)));
  }
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (mask) out.append(reinterpret_cast<const char*>(key), 4);
  std::string body(payload);
  if (mask) unmask(key, body.data(), body.data(), body.size());
  return out + body;
}

struct Outcome {
  Event::Kind kind;
  uint16_t code;
  std::string payload;
};

Outcome readOne(const std::string& bytes, const FrameLimits& limits = {}) {
  MessageReader r(&limits);
  std::string scratch;
  size_t at = 0;
  for (;;) {
    Event e = r.next(std::string_view(bytes).substr(at), scratch);
    at += e.consumed;
    if (e.kind != Event::Fragment) return {e.kind, e.code, std::string(e.payload)};
  }
}

}  // namespace

// RFC 6455 section 5 conformance table: input frames and what the reader must do.
TEST(WsFrame, ConformanceTable) {
  struct Case {
    const char* name;
    std::string bytes;
    Event::Kind kind;
    uint16_t code;
    std::string payload;
  };
  const std::string big126(200, 'a'), big127(70000, 'b');
  std::vector<Case> cases = {
      {"masked text", clientFrame(0x81, "Hello"), Event::Message, 0, "Hello"},
      {"unmasked client frame", clientFrame(0x81, "Hello", false), Event::Error, 1002, ""},
      {"reserved bit", clientFrame(0xC1, "x"), Event::Error, 1002, ""},
      {"unknown opcode 3", clientFrame(0x83, "x"), Event::Error, 1002, ""},
      {"unknown control opcode 0xB", clientFrame(0x8B, ""), Event::Error, 1002, ""},
      {"continuation first", clientFrame(0x80, "x"), Event::Error, 1002, ""},
      {"fragmented text", clientFrame(0x01, "Hel") + clientFrame(0x80, "lo"), Event::Message, 0,
       "Hello"},
      {"ping between fragments", clientFrame(0x01, "Hel") + clientFrame(0x89, "p"), Event::Ping, 0,
       "p"},
      {"new text inside fragments", clientFrame(0x01, "Hel") + clientFrame(0x81, "lo"),
       Event::Error, 1002, ""},
      {"ping", clientFrame(0x89, "abc"), Event::Ping, 0, "abc"},
      {"pong", clientFrame(0x8A, ""), Event::Pong, 0, ""},
      {"fragmented ping", clientFrame(0x09, "a"), Event::Error, 1002, ""},
      {"ping over 125 bytes", clientFrame(0x89, std::string(126, 'p')), Event::Error, 1002, ""},
      {"close 1000", clientFrame(0x88, std::string("\x03\xe8", 2) + "bye"), Event::Close, 1000,
       std::string("\x03\xe8", 2) + "bye"},
      {"close empty", clientFrame(0x88, ""), Event::Close, kCloseNoStatus, ""},
      {"close one byte", clientFrame(0x88, "\x03"), Event::Close, 0, "\x03"},
      {"close code 1005 may not be sent", clientFrame(0x88, "\x03\xed"), Event::Close, 0,
       "\x03\xed"},
      {"close code 4000", clientFrame(0x88, "\x0f\xa0"), Event::Close, 4000, "\x0f\xa0"},
      {"close reason not UTF-8", clientFrame(0x88, "\x03\xe8\xff"), Event::Close, 0,
       "\x03\xe8\xff"},
      {"bad UTF-8 text", clientFrame(0x81, "\xc3\x28"), Event::Error, 1007, ""},
      {"surrogate in text", clientFrame(0x81, "\xed\xa0\x80"), Event::Error, 1007, ""},
      {"overlong in text", clientFrame(0x81, "\xc0\xaf"), Event::Error, 1007, ""},
      {"truncated UTF-8", clientFrame(0x81, "ab\xe2\x82"), Event::Error, 1007, ""},
      {"valid 4-byte UTF-8", clientFrame(0x81, "\xf0\x9f\x98\x80"), Event::Message, 0,
       "\xf0\x9f\x98\x80"},
      {"binary is not UTF-8 checked", clientFrame(0x82, "\xff\xfe"), Event::Message, 0, "\xff\xfe"},
      {"16-bit length", clientFrame(0x82, big126), Event::Message, 0, big126},
      {"frame above 16 KiB", clientFrame(0x82, big127), Event::Error, 1009, ""},
      {"non-minimal 16-bit length", std::string("\x81\xfe\x00\x05", 4) + "abcd" + "hello",
       Event::Error, 1002, ""},
      {"64-bit length high bit", std::string("\x82\xff\x80\0\0\0\0\0\0\0", 10), Event::Error, 1002,
       ""},
      {"incomplete header", std::string("\x81", 1), Event::None, 0, ""},
      {"incomplete payload", clientFrame(0x81, "Hello").substr(0, 8), Event::None, 0, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Outcome o = readOne(c.bytes);
    EXPECT_EQ(o.kind, c.kind);
    EXPECT_EQ(o.code, c.code);
    if (c.kind != Event::Error) {
      EXPECT_EQ(o.payload, c.payload);
    }
  }
}

TEST(WsFrame, MessageLimitAppliesToFragmentsTogether) {
  FrameLimits limits;
  limits.maxMessage = 10;
  EXPECT_EQ(readOne(clientFrame(0x01, "123456") + clientFrame(0x80, "7890"), limits).kind,
            Event::Message);
  Outcome o = readOne(clientFrame(0x01, "123456") + clientFrame(0x80, "78901"), limits);
  EXPECT_EQ(o.kind, Event::Error);
  EXPECT_EQ(o.code, kCloseTooBig);
  EXPECT_EQ(readOne(clientFrame(0x81, "12345678901"), limits).code, kCloseTooBig);
}

TEST(WsFrame, ServerFramesRoundTripThroughAClientParser) {
  FrameLimits client;
  client.fromClient = false;
  client.maxFrame = client.maxMessage = 1 << 20;
  for (size_t n : {0, 125, 126, 65535, 65536, 100000}) {
    std::string out;
    appendFrame(out, kBinary, std::string(n, 'z'));
    FrameHeader h;
    ASSERT_EQ(parseFrameHeader(out, client, h).status, FrameStatus::Ok) << n;
    EXPECT_EQ(h.payloadBytes, n);
    EXPECT_EQ(h.headerBytes + n, out.size());
    EXPECT_TRUE(h.fin);
  }
  std::string close;
  appendClose(close, 1009, std::string(300, 'r'));
  FrameHeader h;
  ASSERT_EQ(parseFrameHeader(close, client, h).status, FrameStatus::Ok);
  EXPECT_EQ(h.payloadBytes, 125u);
  EXPECT_EQ(parseClosePayload(std::string_view(close).substr(2)), 1009);
}

TEST(WsFrame, UnmaskHandlesEveryOffset) {
  const uint8_t key[4] = {1, 2, 3, 4};
  std::string s(37, '\0');
  for (size_t off = 0; off < 4; ++off) {
    std::string t = s;
    unmask(key, t.data(), t.data(), t.size(), off);
    for (size_t i = 0; i < t.size(); ++i) ASSERT_EQ(t[i], key[(i + off) & 3]);
  }
}

namespace {
Request parse(const std::string& text, std::string& storage) {
  storage = text;
  Request r;
  EXPECT_EQ(parseRequest(storage, r).status, ParseStatus::Complete);
  return r;
}
const char* kGood =
    "GET /announce HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Origin: https://app.example\r\n\r\n";
std::string replaced(std::string s, std::string_view from, std::string_view to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}
}  // namespace

TEST(WsHandshake, RfcSampleAcceptValue) {
  EXPECT_EQ(acceptValue("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  unsigned char d[20];
  sha1("abc", d);
  EXPECT_EQ(d[0], 0xa9);
  EXPECT_EQ(d[19], 0x9d);
}

TEST(WsHandshake, ChecksTable) {
  struct Case {
    const char* name;
    std::string request;
    std::vector<std::string> origins;
    int status;
  };
  std::vector<Case> cases = {
      {"good", kGood, {}, 0},
      {"POST", replaced(kGood, "GET", "POST"), {}, 400},
      {"HTTP/1.0", replaced(kGood, "HTTP/1.1", "HTTP/1.0"), {}, 400},
      {"no upgrade token", replaced(kGood, "Upgrade: websocket", "Upgrade: h2c"), {}, 400},
      {"Connection lacks upgrade", replaced(kGood, "keep-alive, Upgrade", "keep-alive"), {}, 400},
      {"version 8", replaced(kGood, "Version: 13", "Version: 8"), {}, 426},
      {"short key", replaced(kGood, "dGhlIHNhbXBsZSBub25jZQ==", "dGhl"), {}, 400},
      {"key of 17 bytes",
       replaced(kGood, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQE="),
       {},
       400},
      {"key with bad char",
       replaced(kGood, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZ*=="),
       {},
       400},
      {"origin allowed", kGood, {"https://other", "HTTPS://APP.example"}, 0},
      {"origin refused", kGood, {"https://other"}, 403},
      {"no origin, none allowed",
       replaced(kGood, "Origin: https://app.example\r\n", ""),
       {"none"},
       0},
      {"no origin refused",
       replaced(kGood, "Origin: https://app.example\r\n", ""),
       {"https://x"},
       403},
      {"body", replaced(kGood, "Host: t\r\n", "Host: t\r\nContent-Length: 3\r\n"), {}, 400},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string storage;
    Request r = parse(c.request, storage);
    EXPECT_EQ(checkHandshake(r, c.origins).status, c.status);
  }
  std::string storage;
  Request r = parse(kGood, storage);
  EXPECT_TRUE(wantsWebSocket(r));
  EXPECT_EQ(acceptHeaders(r), "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
}
