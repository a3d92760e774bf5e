// The tunnel's pure pieces: message shapes, the replay window, inner addresses and the path
// selector's hysteresis.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "protocols/tunnel/gro.hpp"
#include "protocols/tunnel/gso.hpp"
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

namespace {
// A TCP/IPv4 packet 10.0.0.1 -> 10.0.0.2 with `payload` bytes, seq 1000, flags PSH|ACK|FIN.
std::vector<uint8_t> tcp4(size_t payload) {
  std::vector<uint8_t> p(40 + payload);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  p[4] = 0x12, p[5] = 0x34;  // IP id
  p[8] = 64, p[9] = 6;
  p[12] = 10, p[15] = 1, p[16] = 10, p[19] = 2;
  p[20] = 0x1f, p[21] = 0x90, p[22] = 0xc0, p[23] = 0x01;
  p[26] = 0x03, p[27] = 0xe8;  // seq 1000
  p[32] = 0x50;                // data offset 5
  p[33] = 0x19;                // FIN PSH ACK
  for (size_t i = 0; i < payload; ++i) p[40 + i] = static_cast<uint8_t>(i * 7);
  return p;
}
// True when the IPv4 header and TCP checksums of p verify.
bool checksumsValid(const uint8_t* p, size_t len) {
  if (checksumFold(checksumAdd(0, p, 20)) != 0) return false;
  uint8_t tail[4] = {0, 6, static_cast<uint8_t>((len - 20) >> 8), static_cast<uint8_t>(len - 20)};
  uint32_t sum = checksumAdd(checksumAdd(0, p + 12, 8), tail, 4);
  return checksumFold(checksumAdd(sum, p + 20, len - 20)) == 0;
}
}  // namespace

TEST(TunnelGso, SuperPacketBecomesWireSegmentsWithChecksums) {
  std::vector<uint8_t> read(kVnetHeaderSize);
  read[0] = 1;                     // NEEDS_CSUM
  read[1] = 1;                     // GSO TCPv4
  read[2] = 40;                    // hdr_len
  read[4] = 0xe8, read[5] = 0x03;  // gso_size 1000
  read[6] = 20;                    // csum_start
  read[8] = 16;                    // csum_offset
  auto packet = tcp4(2500);
  read.insert(read.end(), packet.begin(), packet.end());
  TunRead r;
  ASSERT_TRUE(r.parse(read));
  ASSERT_EQ(r.count(), 3u);
  uint8_t out[2000];
  size_t sizes[3] = {1040, 1040, 540};
  for (size_t i = 0; i < 3; ++i) {
    size_t n = r.segment(i, out, sizeof out);
    ASSERT_EQ(n, sizes[i]);
    EXPECT_EQ(size_t(out[2] << 8 | out[3]), n);
    EXPECT_TRUE(checksumsValid(out, n)) << i;
    uint32_t seq = uint32_t(out[24]) << 24 | out[25] << 16 | out[26] << 8 | out[27];
    EXPECT_EQ(seq, 1000 + 1000 * i);
    EXPECT_EQ(out[33] & 0x09, i == 2 ? 0x09 : 0);  // FIN and PSH only on the last
    EXPECT_EQ(out[40], static_cast<uint8_t>(1000 * i * 7));
  }
  EXPECT_EQ(r.segment(0, out, 100), 0u);  // does not fit
  read.resize(kVnetHeaderSize + 30);      // truncated super-packet
  EXPECT_FALSE(r.parse(read));
}

TEST(TunnelGso, PartialChecksumOfAPlainPacketIsCompleted) {
  auto packet = tcp4(333);
  // What the kernel leaves with NEEDS_CSUM: the pseudo-header sum, not inverted.
  uint8_t tail[4] = {0, 6, static_cast<uint8_t>((packet.size() - 20) >> 8),
                     static_cast<uint8_t>(packet.size() - 20)};
  uint32_t pseudo = checksumAdd(checksumAdd(0, packet.data() + 12, 8), tail, 4);
  uint16_t folded = static_cast<uint16_t>(~checksumFold(pseudo));
  std::memcpy(packet.data() + 36, &folded, 2);
  uint16_t ip = checksumFold(checksumAdd(0, packet.data(), 20));
  std::memcpy(packet.data() + 10, &ip, 2);
  std::vector<uint8_t> read(kVnetHeaderSize);
  read[0] = 1;
  read[6] = 20;
  read[8] = 16;
  read.insert(read.end(), packet.begin(), packet.end());
  TunRead r;
  ASSERT_TRUE(r.parse(read));
  ASSERT_EQ(r.count(), 1u);
  uint8_t out[2000];
  ASSERT_EQ(r.segment(0, out, sizeof out), packet.size());
  EXPECT_TRUE(checksumsValid(out, packet.size()));
}

TEST(TunnelGro, InOrderSegmentsCoalesceAndSplitBackToTheSame) {
  // Three wire segments, made by splitting a super-packet.
  std::vector<uint8_t> read(kVnetHeaderSize);
  read[0] = 1, read[1] = 1, read[2] = 40, read[4] = 0xe8, read[5] = 0x03, read[6] = 20,
  read[8] = 16;
  auto packet = tcp4(2500);
  packet[33] = 0x18;  // PSH ACK: PSH ends up on the last segment only
  read.insert(read.end(), packet.begin(), packet.end());
  TunRead split;
  ASSERT_TRUE(split.parse(read));
  std::vector<std::vector<uint8_t>> segments;
  for (size_t i = 0; i < split.count(); ++i) {
    uint8_t out[2000];
    size_t n = split.segment(i, out, sizeof out);
    segments.emplace_back(out, out + n);
  }
  std::vector<std::vector<uint8_t>> writes;
  TunWriteBatch batch([&](std::span<const uint8_t> h, std::span<const uint8_t> p) {
    writes.emplace_back(h.begin(), h.end());
    writes.back().insert(writes.back().end(), p.begin(), p.end());
  });
  for (auto& s : segments) batch.add(s);
  uint8_t icmp[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1};  // not TCP: written as it is
  batch.add({icmp, sizeof icmp});
  batch.add(segments[0]);  // out of order after the flush: a packet of its own
  batch.flush();
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(batch.merged(), 3u);
  EXPECT_EQ(writes[0][1], 1);  // GSO TCPv4
  EXPECT_EQ(writes[0].size(), kVnetHeaderSize + 40 + 2500);
  EXPECT_EQ(writes[1][1], 0);
  EXPECT_EQ(writes[2].size(), kVnetHeaderSize + segments[0].size());
  // The kernel's view of the super-packet splits back into the very same segments.
  TunRead again;
  ASSERT_TRUE(again.parse(writes[0]));
  ASSERT_EQ(again.count(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    uint8_t out[2000];
    size_t n = again.segment(i, out, sizeof out);
    EXPECT_EQ(std::vector<uint8_t>(out, out + n), segments[i]) << i;
  }
}

TEST(TunnelGro, GapsAndDifferentFlowsAreNotJoined) {
  std::vector<std::vector<uint8_t>> writes;
  TunWriteBatch batch([&](std::span<const uint8_t>, std::span<const uint8_t> p) {
    writes.emplace_back(p.begin(), p.end());
  });
  auto a = tcp4(100), b = tcp4(100);
  b[27] = static_cast<uint8_t>(0xe8 + 101);  // seq 1101: one byte missing
  a[33] = b[33] = 0x10;
  batch.add(a);
  batch.add(b);
  auto c = tcp4(100);
  c[33] = 0x10;
  c[26] = 0x04, c[27] = 0x49;  // seq 1097 = 1000 + 97... not b's end
  c[15] = 9;                   // and another source
  batch.add(c);
  batch.flush();
  EXPECT_EQ(writes.size(), 3u);
  EXPECT_EQ(batch.merged(), 0u);
}
