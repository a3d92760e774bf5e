// libFuzzer target: the warp frame parser and the endpoint that consumes frames. Checks that
// every view stays inside the input, that a parsed ACK writes back to the same ranges, and
// that a stream of arbitrary frames (split from the input) never breaks an endpoint's
// invariants: nothing in flight beyond what was sent, memory within its bound.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "protocols/tunnel/warp/endpoint.hpp"
#include "protocols/tunnel/warp/frame.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::tunnel::warp;

namespace {

struct CountingSink : Sink {
  size_t frames = 0, delivered = 0;
  void sendFrame(std::span<const uint8_t> f) override {
    Frame parsed;
    check(parseFrame(f, parsed));  // what we send must parse
    ++frames;
  }
  void deliver(std::span<const uint8_t> inner) override {
    check(!inner.empty() && inner.size() <= 256);
    ++delivered;
  }
};

void checkFrame(std::span<const uint8_t> in) {
  Frame f;
  if (!parseFrame(in, f)) return;
  const uint8_t* end = in.data() + in.size();
  if (f.type == FrameType::Ack) {
    check(f.rangeBytes.data() + f.rangeBytes.size() <= end);
    check(f.recoveredBytes.data() + f.recoveredBytes.size() == end);
    AckRange ranges[kMaxAckRanges + 1];
    size_t n = ackRanges(f, f.pn, ranges);
    for (size_t i = 0; i < n; ++i) {
      check(ranges[i].low <= ranges[i].high);
      if (i) check(ranges[i].high < ranges[i - 1].low);
    }
    std::vector<uint64_t> rec;
    for (size_t i = 0; i < f.recoveredCount; ++i) rec.push_back(ackRecovered(f, i));
    uint8_t out[kAckHeader + 4 * (kMaxAckRanges + kMaxRecovered)];
    size_t m = writeAck(out, {ranges, n}, f.delay, f.seq, rec);
    Frame again;
    check(m > 0 && parseFrame({out, m}, again));
    AckRange back[kMaxAckRanges + 1];
    check(ackRanges(again, f.pn, back) == n);
    for (size_t i = 0; i < n; ++i)
      check(back[i].low == ranges[i].low && back[i].high == ranges[i].high);
  } else {
    check(f.payload.data() + f.payload.size() == end);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  checkFrame({data, size});
  // The input as a stream of frames, each prefixed by a one-byte length, into an endpoint that
  // also sends a few packets of its own so ACKs have something to acknowledge.
  Config c;
  c.mtu = 256;
  c.window = 64;
  c.fecGroup = size % 2 ? 4 : 0;
  c.compress = size % 3 == 0 ? Compression::Lzo : Compression::Zlib;
  Endpoint ep(c);
  CountingSink sink;
  uint8_t packet[200] = {};
  Micros now = 1000;
  for (int i = 0; i < 8; ++i) ep.send({packet, sizeof packet}, now);
  ep.poll(now, sink);
  size_t pos = 0;
  while (pos < size) {
    size_t len = data[pos++];
    if (len > size - pos) len = size - pos;
    checkFrame({data + pos, len});
    now += 1000;
    ep.receive({data + pos, len}, now, sink);
    check(ep.bytesInFlight() <= 64 * (256 + kDataHeader + kRecordHeader) * 2);
    pos += len;
  }
  now += 10'000'000;
  ep.poll(now, sink);
  check(ep.buffered() <= 2 * 64 + 2);
  return 0;
}
