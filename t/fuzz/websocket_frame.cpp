// libFuzzer target: the WebSocket frame parser and message reader (protocols/http/
// websocket_frame). Every event consumes whole frames within the input, payloads stay inside
// their buffers, text messages are valid UTF-8, and a server frame built from a payload parses
// back to the same length.
#include "protocols/http/websocket_frame.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "t/fuzz/check.hpp"

using namespace manifold::http::ws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // First byte picks limits, so small limits are exercised too.
  FrameLimits limits;
  limits.maxFrame = 1 + (data[0] & 0x0F) * 1000;
  limits.maxMessage = 1 + (data[0] >> 4) * 1000;
  limits.fromClient = size & 1;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  MessageReader reader(&limits);
  std::string scratch;
  while (!in.empty()) {
    Event e = reader.next(in, scratch);
    check(e.consumed <= in.size());
    if (e.kind == Event::Error)
      check(e.code == kCloseProtocolError || e.code == kCloseTooBig ||
            e.code == kCloseInvalidPayload);
    if (e.kind == Event::Message) {
      check(e.payload.size() <= limits.maxMessage);
      if (e.opcode == kText) check(validUtf8(e.payload));
      std::string out;
      appendFrame(out, e.opcode, e.payload);
      FrameHeader h;
      FrameLimits server;
      server.fromClient = false;
      server.maxFrame = UINT64_MAX >> 1;
      check(parseFrameHeader(out, server, h).status == FrameStatus::Ok &&
            h.headerBytes + h.payloadBytes == out.size());
    }
    if (e.kind == Event::None || e.kind == Event::Error || e.consumed == 0) break;
    in.remove_prefix(e.consumed);
  }
  return 0;
}
