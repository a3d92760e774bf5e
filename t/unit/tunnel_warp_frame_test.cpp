// Warp frame format (protocols/tunnel/warp/frame.hpp): round trips, the ACK range encoding,
// sequence widening across the 32-bit wrap, and malformed frames refused.
#include <gtest/gtest.h>

#include <vector>

#include "protocols/tunnel/warp/frame.hpp"

using namespace manifold::tunnel::warp;

TEST(TunnelWarpFrame, DataRoundTrip) {
  uint8_t buf[64];
  ASSERT_EQ(writeDataHeader(buf, 2, 0x1'0000'0007ull, 42), kDataHeader);
  buf[kDataHeader] = 0xaa;
  Frame f;
  ASSERT_TRUE(parseFrame({buf, kDataHeader + 1}, f));
  EXPECT_EQ(f.type, FrameType::Data);
  EXPECT_EQ(f.flags, 2);
  EXPECT_EQ(f.pn, 7u);
  EXPECT_EQ(f.seq, 42u);
  ASSERT_EQ(f.payload.size(), 1u);
  EXPECT_EQ(f.payload[0], 0xaa);
  buf[1] = 3;  // no compression method 3
  EXPECT_FALSE(parseFrame({buf, kDataHeader + 1}, f));
  buf[1] = 4;  // unknown flag bit
  EXPECT_FALSE(parseFrame({buf, kDataHeader + 1}, f));
  EXPECT_FALSE(parseFrame({buf, kDataHeader - 1}, f));
}

TEST(TunnelWarpFrame, ParityNeedsAGroupSizeAndARecord) {
  uint8_t buf[64] = {};
  ASSERT_EQ(writeParityHeader(buf, 8, 9, 16), kParityHeader);
  Frame f;
  EXPECT_TRUE(parseFrame({buf, kParityHeader + kRecordHeader}, f));
  EXPECT_EQ(f.type, FrameType::Parity);
  EXPECT_EQ(f.flags, 8);
  EXPECT_EQ(f.seq, 16u);
  EXPECT_FALSE(parseFrame({buf, kParityHeader + 2}, f));
  buf[1] = 0;
  EXPECT_FALSE(parseFrame({buf, kParityHeader + kRecordHeader}, f));
  buf[1] = kMaxGroup + 1;
  EXPECT_FALSE(parseFrame({buf, kParityHeader + kRecordHeader}, f));
}

TEST(TunnelWarpFrame, AckRangesRoundTrip) {
  std::vector<AckRange> in = {{90, 100}, {70, 80}, {50, 50}, {10, 40}};
  std::vector<uint64_t> recovered = {33, 34};
  uint8_t buf[256];
  size_t n = writeAck(buf, in, 77, 12345, recovered);
  ASSERT_EQ(n, kAckHeader + 3 * 4 + 2 * 4);
  Frame f;
  ASSERT_TRUE(parseFrame({buf, n}, f));
  EXPECT_EQ(f.type, FrameType::Ack);
  EXPECT_EQ(f.delay, 77);
  EXPECT_EQ(f.seq, 12345u);
  AckRange out[16];
  ASSERT_EQ(ackRanges(f, 100, out), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i].low, in[i].low) << i;
    EXPECT_EQ(out[i].high, in[i].high) << i;
  }
  ASSERT_EQ(f.recoveredCount, 2);
  EXPECT_EQ(ackRecovered(f, 1), 34u);
  EXPECT_FALSE(parseFrame({buf, n - 1}, f));  // length must match the counts
}

TEST(TunnelWarpFrame, AckRangesStopAtPacketZero) {
  std::vector<AckRange> in = {{5, 6}, {0, 2}};
  uint8_t buf[64];
  size_t n = writeAck(buf, in, 0, 0, {});
  Frame f;
  ASSERT_TRUE(parseFrame({buf, n}, f));
  // Widened against a smaller largest pn than was written, the second range would underflow.
  AckRange out[4];
  EXPECT_EQ(ackRanges(f, 3, out), 1u);
}

TEST(TunnelWarpFrame, AckWithAZeroGapIsRefused) {
  uint8_t buf[kAckHeader + 4] = {uint8_t(FrameType::Ack), 1};
  Frame f;
  EXPECT_FALSE(parseFrame(buf, f));
  buf[kAckHeader + 1] = 1;
  EXPECT_TRUE(parseFrame(buf, f));
}

TEST(TunnelWarpFrame, AckListDropsRangesThatDoNotFit) {
  std::vector<AckRange> in = {{200000, 200001}, {10, 20}};  // gap beyond 16 bits
  uint8_t buf[64];
  size_t n = writeAck(buf, in, 0, 0, {});
  Frame f;
  ASSERT_TRUE(parseFrame({buf, n}, f));
  EXPECT_EQ(f.rangeCount, 0);
}

TEST(TunnelWarpFrame, SequenceWidensAcrossTheWrap) {
  EXPECT_EQ(expandSequence(5, 0), 5u);
  EXPECT_EQ(expandSequence(0xfffffffe, 0x1'0000'0003ull), 0xfffffffeull);
  EXPECT_EQ(expandSequence(2, 0xffff'fff0ull), 0x1'0000'0002ull);
  EXPECT_EQ(expandSequence(0xffffffff, 1), 0xffffffffull);  // nothing below 0
}

TEST(TunnelWarpFrame, UnknownTypesAndTinyInputsAreRefused) {
  Frame f;
  uint8_t one[1] = {uint8_t(FrameType::Data)};
  EXPECT_FALSE(parseFrame({one, 0}, f));
  EXPECT_FALSE(parseFrame(one, f));
  uint8_t bad[16] = {9};
  EXPECT_FALSE(parseFrame(bad, f));
}
