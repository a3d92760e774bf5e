// The warp transport end to end over a simulated lossy, delayed, rate-limited link in virtual
// time (t/unit/tunnel_warp_sim.hpp): delivery intact and in order, goodput near the link rate at
// 100 ms RTT and 1% loss, wire bytes against goodput, FEC, compression, bounded memory.
#include <gtest/gtest.h>

#include <cstdio>

#include "t/unit/tunnel_warp_sim.hpp"

using namespace manifold::tunnel::warp;
using sim::LinkSpec;
using sim::Sim;

namespace {

Config warpConfig() {
  Config c;
  c.mtu = 1400;
  c.window = 4096;
  return c;
}

// Both directions carry a file at once, so each side's ACKs share the link with its data.
void expectIntactBothWays(double loss, uint64_t seed) {
  LinkSpec link;
  link.loss = loss;
  Sim s(warpConfig(), warpConfig(), link, seed);
  s.side(0).toSend = 20000;
  s.side(1).toSend = 3000;
  ASSERT_TRUE(s.run(120'000'000));
  ASSERT_TRUE(s.done()) << "a->b " << s.side(1).received << " b->a " << s.side(0).received << " at "
                        << s.now() / 1000 << " ms";
  EXPECT_EQ(s.side(1).received, 20000u);
  EXPECT_EQ(s.side(1).mismatches, 0u);
  EXPECT_EQ(s.side(0).received, 3000u);
  EXPECT_EQ(s.side(0).mismatches, 0u);
  EXPECT_GT(s.dropped(), 0u);
  EXPECT_GT(s.side(0).ep.stats().retransmits, 0u);
}

}  // namespace

TEST(TunnelWarpLink, DeliversIntactAndInOrderAtOnePercentLoss) { expectIntactBothWays(0.01, 1); }

TEST(TunnelWarpLink, DeliversIntactAndInOrderAtFivePercentLoss) { expectIntactBothWays(0.05, 2); }

TEST(TunnelWarpLink, GoodputNearTheRateAt100msRttAndOnePercentLoss) {
  LinkSpec link;  // 50 Mbit/s, 50 ms each way, 625 kB queue
  link.loss = 0.01;
  Sim s(warpConfig(), warpConfig(), link, 3);
  s.side(0).toSend = UINT64_MAX;
  // Measure from 5 s (after startup) to 25 s.
  ASSERT_TRUE(s.run(5'000'000));
  uint64_t bytes0 = s.side(1).received * s.side(0).size;
  uint64_t wire0 = s.side(0).wireBytes + s.side(1).wireBytes;
  uint64_t packets0 = s.side(0).wirePackets + s.side(1).wirePackets;
  ASSERT_TRUE(s.run(25'000'000));
  double goodput = double(s.side(1).received * s.side(0).size - bytes0);
  double rate = goodput * 8 / 20.0;
  EXPECT_EQ(s.side(1).mismatches, 0u);
  // The best possible: the link's bits, less the per-packet headers.
  double best = link.bitsPerSecond * 1300.0 / (1300 + kDataHeader + sim::kHeaderBytes);
  EXPECT_GT(rate, 0.85 * best) << "goodput " << rate / 1e6 << " Mbit/s of " << best / 1e6;
  // Wire bytes (both ways, frames and their retransmissions, ACKs, parity) against goodput,
  // the per-packet IP/UDP/tunnel headers counted apart.
  double wire = double(s.side(0).wireBytes + s.side(1).wireBytes - wire0);
  double headers =
      double(s.side(0).wirePackets + s.side(1).wirePackets - packets0) * sim::kHeaderBytes;
  EXPECT_LE(wire - headers, 1.10 * goodput)
      << "frame bytes / goodput = " << (wire - headers) / goodput;
  std::printf("goodput %.2f Mbit/s (%.1f%% of the best), frame bytes / goodput %.4f, rtt %.1f ms\n",
              rate / 1e6, 100 * rate / best, (wire - headers) / goodput,
              s.side(0).ep.smoothedRtt() / 1000.0);
}

TEST(TunnelWarpLink, ForwardErrorCorrectionRebuildsLostPackets) {
  LinkSpec link;
  link.loss = 0.05;
  Config c = warpConfig();
  c.fecGroup = 8;
  Sim withFec(c, c, link, 4);
  withFec.side(0).toSend = 10000;
  ASSERT_TRUE(withFec.run(120'000'000));
  ASSERT_TRUE(withFec.done());
  EXPECT_EQ(withFec.side(1).mismatches, 0u);
  const Stats& a = withFec.side(0).ep.stats();
  const Stats& b = withFec.side(1).ep.stats();
  EXPECT_EQ(a.paritySent, 10000u / 8);
  EXPECT_GT(b.recovered, 100u);  // about 5% x 10000 x P(the other 8 arrived) ~ 320

  Sim without(warpConfig(), warpConfig(), link, 4);
  without.side(0).toSend = 10000;
  ASSERT_TRUE(without.run(120'000'000));
  ASSERT_TRUE(without.done());
  EXPECT_LT(a.retransmits, without.side(0).ep.stats().retransmits);
}

TEST(TunnelWarpLink, AdaptiveParityStopsWhenPacketsQueue) {
  // A greedy source keeps the send queue long once the link is full: parity then would take
  // goodput, so it flows only in the first round trips, while there was room.
  LinkSpec link;
  link.loss = 0.01;
  Config c = warpConfig();
  c.fecGroup = 8;
  c.fecAdaptive = true;
  Sim s(c, c, link, 7);
  s.side(0).toSend = 40000;
  ASSERT_TRUE(s.run(120'000'000));
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s.side(1).mismatches, 0u);
  const Stats& a = s.side(0).ep.stats();
  EXPECT_GT(a.paritySent, 0u);
  EXPECT_LT(a.paritySent, 40000u / 8 / 4);
}

TEST(TunnelWarpLink, CompressesWhatShrinksAndDeliversItIntact) {
  for (Compression method : {Compression::Lzo, Compression::Zlib}) {
    Config c = warpConfig();
    c.compress = method;
    Sim s(c, c, LinkSpec{}, 5);
    s.side(0).toSend = 2000;
    s.side(0).compressible = true;
    s.side(1).toSend = 2000;  // random bytes: not compressed
    ASSERT_TRUE(s.run(60'000'000));
    ASSERT_TRUE(s.done());
    EXPECT_EQ(s.side(1).mismatches, 0u);
    EXPECT_EQ(s.side(0).mismatches, 0u);
    EXPECT_EQ(s.side(0).ep.stats().compressed, 2000u);
    EXPECT_LT(s.side(0).wireBytes, 2000u * 1300 / 2);
    // Random payloads: a few tries, then the compressor stops trying for a while.
    EXPECT_EQ(s.side(1).ep.stats().compressed, 0u);
    EXPECT_GT(s.side(1).wireBytes, 2000u * 1300);
  }
}

TEST(TunnelWarpLink, MemoryStaysBoundedUnderOverloadAndLoss) {
  LinkSpec link;
  link.bitsPerSecond = 2e6;  // a slow link under a greedy source
  link.loss = 0.05;
  Config c = warpConfig();
  c.window = 512;
  Sim s(c, c, link, 6);
  s.side(0).toSend = UINT64_MAX;
  ASSERT_TRUE(s.run(30'000'000));
  EXPECT_EQ(s.side(1).mismatches, 0u);
  EXPECT_GT(s.side(1).received, 1000u);
  // The source was held back: what it offered beyond what arrived sits in the two windows.
  EXPECT_LE(s.side(0).offered - s.side(1).received, 2u * 512);
  EXPECT_FALSE(s.side(0).ep.canSend());
  // The pool caps both buffers at 2 x window + 2 packets; the rest is fixed-size bookkeeping.
  size_t bound = (2 * 512 + 2) * 1400 + 512 * 80 + 128 * 1024;
  EXPECT_LE(s.side(0).peakMemory, bound);
  EXPECT_LE(s.side(1).peakMemory, bound);
  EXPECT_LE(s.side(0).peakBuffered, 2u * 512 + 2);
}

TEST(TunnelWarpLink, GarbageAndForgedAcksChangeNothing) {
  struct Null : Sink {
    void sendFrame(std::span<const uint8_t>) override {}
    void deliver(std::span<const uint8_t>) override {}
  } sink;
  Endpoint ep(warpConfig());
  uint8_t garbage[64] = {7, 1, 2, 3};
  ep.receive(garbage, 1000, sink);
  // An ACK for pn 5 when nothing was sent.
  uint8_t ack[kAckHeader];
  AckRange r{5, 5};
  ASSERT_EQ(writeAck(ack, {&r, 1}, 0, 0, {}), kAckHeader);
  ep.receive(ack, 2000, sink);
  EXPECT_EQ(ep.stats().badFrames, 1u);
  EXPECT_EQ(ep.bytesInFlight(), 0u);
  std::vector<uint8_t> big(2000, 1);
  EXPECT_FALSE(ep.send(big, 0));
  EXPECT_EQ(ep.stats().oversize, 1u);
}
