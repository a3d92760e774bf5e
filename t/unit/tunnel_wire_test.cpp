// The tunnel's pure pieces: message shapes, the replay window, inner addresses and the path
// selector's hysteresis.
#include <gtest/gtest.h>

#include <vector>

#include "protocols/tunnel/inner.hpp"
#include "protocols/tunnel/packet.hpp"
#include "protocols/tunnel/paths.hpp"
#include "protocols/tunnel/replay.hpp"

using namespace manifold::tunnel;

TEST(TunnelPacket, ShapesAreExact) {
  std::vector<uint8_t> m(kInitiationSize, 0);
  m[0] = 1;
  storeLe32(m.data() + 4, 0xabcdef01);
  Message out;
  ASSERT_TRUE(parseMessage(m, out));
  EXPECT_EQ(out.type, MessageType::Initiation);
  EXPECT_EQ(out.index, 0xabcdef01u);
  m.push_back(0);
  EXPECT_FALSE(parseMessage(m, out));  // one byte too many
  std::vector<uint8_t> d(kMinDataSize, 0);
  d[0] = 4;
  storeLe64(d.data() + 8, 0x0102030405060708ull);
  ASSERT_TRUE(parseMessage(d, out));
  EXPECT_EQ(out.counter, 0x0102030405060708ull);
  d[2] = 1;  // reserved
  EXPECT_FALSE(parseMessage(d, out));
  d[2] = 0;
  d.pop_back();
  EXPECT_FALSE(parseMessage(d, out));  // shorter than header + tag
  std::vector<uint8_t> r(kResponseSize, 0), c(kCookieReplySize, 0);
  r[0] = 2;
  c[0] = 3;
  EXPECT_TRUE(parseMessage(r, out));
  EXPECT_TRUE(parseMessage(c, out));
  c[0] = 5;
  EXPECT_FALSE(parseMessage(c, out));
}

TEST(TunnelReplay, WindowAcceptsEachCounterOnceAndForgetsTheVeryOld) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(0));
  EXPECT_FALSE(w.accept(0));
  EXPECT_TRUE(w.accept(5));
  EXPECT_TRUE(w.accept(3));  // out of order, inside the window
  EXPECT_FALSE(w.accept(3));
  EXPECT_TRUE(w.accept(10000));
  EXPECT_FALSE(w.accept(10000 - ReplayWindow::kWindow - 1));  // too old
  EXPECT_TRUE(w.accept(10000 - ReplayWindow::kWindow + 1));
  EXPECT_FALSE(w.accept(kRejectAfterMessages));
  // A jump past the whole ring clears it: old bits do not reject new counters.
  EXPECT_TRUE(w.accept(10000 + 64 * 100));
  for (uint64_t c = 10000 + 64 * 100 - 100; c < 10000 + 64 * 100; ++c) EXPECT_TRUE(w.accept(c));
}

TEST(TunnelInner, AddressesFromWholeHeadersOnly) {
  uint8_t v4[20] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2};
  manifold::net::PeerAddress src, dst, expect;
  ASSERT_TRUE(innerAddresses({v4, sizeof v4}, src, dst));
  ASSERT_TRUE(manifold::net::parseAddress("10.99.0.1", expect));
  EXPECT_EQ(src, expect);
  EXPECT_FALSE(innerAddresses({v4, 19}, src, dst));
  uint8_t v6[40] = {0x60};
  v6[8 + 15] = 1;
  ASSERT_TRUE(innerAddresses({v6, sizeof v6}, src, dst));
  ASSERT_TRUE(manifold::net::parseAddress("::1", expect));
  EXPECT_EQ(src, expect);
  uint8_t probe[6] = {0x10};
  EXPECT_FALSE(innerAddresses({probe, 6}, src, dst));
}

TEST(TunnelPaths, HysteresisAndFailover) {
  PathSelector s(2, 0.2, 3);
  double t = 0;
  auto round = [&](double rtt0, double rtt1, bool up0 = true, bool up1 = true) {
    uint32_t seq = s.startRound(t);
    if (up0) s.answered(0, seq, t + rtt0);
    if (up1) s.answered(1, seq, t + rtt1);
    t += 1;
    return s.evaluate();
  };
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(round(0.010, 0.009));  // 10% better: not enough
  EXPECT_EQ(s.chosen(), 0u);
  EXPECT_FALSE(round(0.010, 0.002));
  EXPECT_FALSE(round(0.010, 0.002));
  bool moved = false;
  for (int i = 0; i < 6 && !moved; ++i) moved = round(0.010, 0.002);
  EXPECT_TRUE(moved);  // clearly better for several rounds in a row
  EXPECT_EQ(s.chosen(), 1u);
  // The chosen path dies: three lost probes make it dead, then `after` rounds later it moves.
  int rounds = 0;
  while (s.chosen() == 1 && rounds < 20) {
    round(0.010, 0, true, false);
    ++rounds;
  }
  EXPECT_EQ(s.chosen(), 0u);
  EXPECT_LE(rounds, 8);
  EXPECT_TRUE(s.dead(1));
  EXPECT_GT(s.loss(1), 0.0);
}
