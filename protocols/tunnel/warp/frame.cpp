#include "protocols/tunnel/warp/frame.hpp"

namespace manifold::tunnel::warp {

bool parseFrame(std::span<const uint8_t> in, Frame& out) {
  if (in.size() < 2) return false;
  const uint8_t* p = in.data();
  out = Frame{};
  out.flags = p[1];
  switch (p[0]) {
    case uint8_t(FrameType::Data):
      if (in.size() < kDataHeader || (out.flags & ~kCompressMask) || (out.flags & 3) == 3)
        return false;
      out.type = FrameType::Data;
      out.pn = load32(p + 2);
      out.seq = load32(p + 6);
      out.payload = in.subspan(kDataHeader);
      return true;
    case uint8_t(FrameType::Parity):
      // A parity record holds at least a record header.
      if (in.size() < kParityHeader + kRecordHeader || out.flags == 0 || out.flags > kMaxGroup)
        return false;
      out.type = FrameType::Parity;
      out.pn = load32(p + 2);
      out.seq = load32(p + 6);
      out.payload = in.subspan(kParityHeader);
      return true;
    case uint8_t(FrameType::Ack): {
      if (in.size() < kAckHeader) return false;
      out.type = FrameType::Ack;
      out.rangeCount = out.flags & 0x0f;
      out.recoveredCount = out.flags >> 4;
      if (in.size() != kAckHeader + 4u * out.rangeCount + 4u * out.recoveredCount) return false;
      out.pn = load32(p + 2);
      out.delay = load16(p + 6);
      out.seq = load32(p + 8);
      out.firstRange = load16(p + 12);
      out.rangeBytes = in.subspan(kAckHeader, 4u * out.rangeCount);
      out.recoveredBytes = in.subspan(kAckHeader + 4u * out.rangeCount);
      for (size_t i = 0; i < out.rangeCount; ++i)
        if (load16(out.rangeBytes.data() + 4 * i) == 0) return false;
      return true;
    }
    default:
      return false;
  }
}

size_t ackRanges(const Frame& ack, uint64_t largest, std::span<AckRange> out) {
  if (out.empty()) return 0;
  uint64_t low = largest >= ack.firstRange ? largest - ack.firstRange : 0;
  out[0] = {low, largest};
  size_t n = 1;
  for (size_t i = 0; i < ack.rangeCount && n < out.size(); ++i) {
    uint64_t gap = load16(ack.rangeBytes.data() + 4 * i);
    uint64_t len = load16(ack.rangeBytes.data() + 4 * i + 2);
    if (low < gap + 1) break;  // would go below pn 0
    uint64_t high = low - gap - 1;
    low = high >= len ? high - len : 0;
    out[n++] = {low, high};
    if (low == 0) break;
  }
  return n;
}

uint32_t ackRecovered(const Frame& ack, size_t i) {
  return load32(ack.recoveredBytes.data() + 4 * i);
}

size_t writeDataHeader(std::span<uint8_t> out, uint8_t flags, uint64_t pn, uint64_t seq) {
  if (out.size() < kDataHeader) return 0;
  out[0] = uint8_t(FrameType::Data);
  out[1] = flags;
  store32(out.data() + 2, uint32_t(pn));
  store32(out.data() + 6, uint32_t(seq));
  return kDataHeader;
}

size_t writeParityHeader(std::span<uint8_t> out, uint8_t count, uint64_t pn, uint64_t first) {
  if (out.size() < kParityHeader) return 0;
  out[0] = uint8_t(FrameType::Parity);
  out[1] = count;
  store32(out.data() + 2, uint32_t(pn));
  store32(out.data() + 6, uint32_t(first));
  return kParityHeader;
}

size_t writeAck(std::span<uint8_t> out, std::span<const AckRange> ranges, uint16_t delay,
                uint64_t cum, std::span<const uint64_t> recovered) {
  if (ranges.empty()) return 0;
  // Ranges that do not fit the 16-bit fields end the list: the cumulative seq covers the rest.
  size_t extra = 0;
  uint8_t body[4 * kMaxAckRanges];
  uint64_t low = ranges[0].low;
  bool clipped = ranges[0].high - low > 0xffff;
  for (size_t i = 1; !clipped && i < ranges.size() && extra < kMaxAckRanges; ++i) {
    const AckRange& r = ranges[i];
    if (r.high >= low || low - r.high - 1 > 0xffff || r.high - r.low > 0xffff) break;
    store16(body + 4 * extra, uint16_t(low - r.high - 1));
    store16(body + 4 * extra + 2, uint16_t(r.high - r.low));
    ++extra;
    low = r.low;
  }
  size_t nrec = recovered.size() < kMaxRecovered ? recovered.size() : kMaxRecovered;
  size_t total = kAckHeader + 4 * extra + 4 * nrec;
  if (out.size() < total) return 0;
  uint8_t* p = out.data();
  p[0] = uint8_t(FrameType::Ack);
  p[1] = uint8_t(nrec << 4 | extra);
  store32(p + 2, uint32_t(ranges[0].high));
  store16(p + 6, delay);
  store32(p + 8, uint32_t(cum));
  uint64_t first = ranges[0].high - ranges[0].low;
  store16(p + 12, uint16_t(first > 0xffff ? 0xffff : first));
  for (size_t i = 0; i < 4 * extra; ++i) p[kAckHeader + i] = body[i];
  for (size_t i = 0; i < nrec; ++i)
    store32(p + kAckHeader + 4 * extra + 4 * i, uint32_t(recovered[i]));
  return total;
}

uint64_t expandSequence(uint32_t wire, uint64_t expected) {
  constexpr uint64_t kWin = uint64_t(1) << 32, kHalf = kWin / 2;
  uint64_t candidate = (expected & ~(kWin - 1)) | wire;
  if (candidate + kHalf <= expected && candidate + kWin > candidate) return candidate + kWin;
  if (candidate > expected + kHalf && candidate >= kWin) return candidate - kWin;
  return candidate;
}

}  // namespace manifold::tunnel::warp
