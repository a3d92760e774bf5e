// Tier: unit — BEP 15 packet parsing and building.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "protocols/tracker/connection_id.hpp"
#include "protocols/tracker/udp_packet.hpp"

using namespace manifold::tracker;

namespace {
std::vector<uint8_t> announceBytes(uint32_t event = 2, int32_t numWant = -1) {
  uint8_t hash[20], peer[20];
  std::memset(hash, 0xab, 20);
  std::memset(peer, 0xcd, 20);
  AnnounceFields f;
  f.connectionId = 0x1122334455667788ull;
  f.transactionId = 42;
  f.infoHash = hash;
  f.peerId = peer;
  f.downloaded = 1;
  f.left = 2;
  f.uploaded = 3;
  f.event = event;
  f.key = 9;
  f.numWant = numWant;
  f.port = 6881;
  std::vector<uint8_t> out(kAnnounceBytes);
  EXPECT_EQ(writeAnnounceRequest(out.data(), out.size(), f), kAnnounceBytes);
  return out;
}
}  // namespace

TEST(TrackerPacket, Connect) {
  uint8_t buf[16];
  ASSERT_EQ(writeConnectRequest(buf, sizeof buf, 77), 16u);
  UdpRequest r = parseUdpRequest(buf, 74);
  EXPECT_EQ(r.kind, UdpParse::Connect);
  EXPECT_EQ(r.transactionId, 77u);
  buf[7] ^= 1;  // wrong protocol id: not a tracker client
  EXPECT_EQ(parseUdpRequest(buf, 74).kind, UdpParse::Drop);
}

TEST(TrackerPacket, ShortPacketsAreDropped) {
  uint8_t buf[15] = {};
  for (size_t n = 0; n <= sizeof buf; ++n)
    EXPECT_EQ(parseUdpRequest({buf, n}, 74).kind, UdpParse::Drop) << n;
}

TEST(TrackerPacket, Announce) {
  auto b = announceBytes();
  UdpRequest r = parseUdpRequest(b, 74);
  ASSERT_EQ(r.kind, UdpParse::Announce);
  EXPECT_EQ(r.transactionId, 42u);
  EXPECT_EQ(r.announce.connectionId, 0x1122334455667788ull);
  EXPECT_EQ(r.announce.infoHash[0], 0xab);
  EXPECT_EQ(r.announce.peerId[19], 0xcd);
  EXPECT_EQ(r.announce.downloaded, 1u);
  EXPECT_EQ(r.announce.left, 2u);
  EXPECT_EQ(r.announce.uploaded, 3u);
  EXPECT_EQ(r.announce.event, Event::Started);
  EXPECT_EQ(r.announce.key, 9u);
  EXPECT_EQ(r.announce.numWant, -1);
  EXPECT_EQ(r.announce.port, 6881);
  EXPECT_TRUE(r.announce.options.empty());
}

TEST(TrackerPacket, AnnounceTooShortIsAnError) {
  auto b = announceBytes();
  b.resize(97);
  UdpRequest r = parseUdpRequest(b, 74);
  EXPECT_EQ(r.kind, UdpParse::Error);
  EXPECT_EQ(r.transactionId, 42u);
}

TEST(TrackerPacket, UnknownEventIsAnError) {
  auto b = announceBytes(4);
  UdpRequest r = parseUdpRequest(b, 74);
  EXPECT_EQ(r.kind, UdpParse::Error);
  EXPECT_EQ(r.error, "unknown event");
}

TEST(TrackerPacket, Bep41Options) {
  auto b = announceBytes();
  // NOP, URL data "/ann", URL data "?x=1", end, junk
  const uint8_t opts[] = {1, 2, 4, '/', 'a', 'n', 'n', 2, 4, '?', 'x', '=', '1', 0, 0xff, 0xff};
  b.insert(b.end(), opts, opts + sizeof opts);
  UdpRequest r = parseUdpRequest(b, 74);
  ASSERT_EQ(r.kind, UdpParse::Announce);
  char url[64];
  EXPECT_EQ(std::string_view(url, announceUrlData(r.announce.options, url, sizeof url)),
            "/ann?x=1");
  EXPECT_EQ(std::string_view(url, announceUrlData(r.announce.options, url, 3)), "/an");
  // A truncated option is tolerated.
  auto c = announceBytes();
  c.push_back(2);
  c.push_back(200);
  c.push_back('x');
  EXPECT_EQ(parseUdpRequest(c, 74).kind, UdpParse::Announce);
}

TEST(TrackerPacket, ScrapeIsCapped) {
  std::vector<uint8_t> hashes(20 * 100, 7);
  std::vector<uint8_t> buf(16 + hashes.size());
  ASSERT_EQ(writeScrapeRequest(buf.data(), buf.size(), 5, 6, hashes), buf.size());
  UdpRequest r = parseUdpRequest(buf, 74);
  ASSERT_EQ(r.kind, UdpParse::Scrape);
  EXPECT_EQ(r.scrape.count, 74u);
  EXPECT_EQ(r.scrape.connectionId, 5u);
  buf.pop_back();  // not a multiple of 20
  EXPECT_EQ(parseUdpRequest(buf, 74).kind, UdpParse::Error);
  buf.resize(16);  // no hash at all
  EXPECT_EQ(parseUdpRequest(buf, 74).kind, UdpParse::Error);
}

TEST(TrackerPacket, UnknownActionIsAnError) {
  uint8_t buf[16] = {};
  writeBe32(buf + 8, 3);
  writeBe32(buf + 12, 99);
  UdpRequest r = parseUdpRequest(buf, 74);
  EXPECT_EQ(r.kind, UdpParse::Error);
  EXPECT_EQ(r.transactionId, 99u);
}

TEST(TrackerPacket, Responses) {
  uint8_t out[64];
  ASSERT_EQ(writeConnectResponse(out, sizeof out, 3, 0x0102030405060708ull), 16u);
  EXPECT_EQ(readBe32(out), 0u);
  EXPECT_EQ(readBe64(out + 8), 0x0102030405060708ull);
  ASSERT_EQ(writeAnnounceHeader(out, sizeof out, 3, 1800, 4, 5), 20u);
  EXPECT_EQ(readBe32(out), 1u);
  EXPECT_EQ(readBe32(out + 8), 1800u);
  EXPECT_EQ(readBe32(out + 12), 4u);
  EXPECT_EQ(readBe32(out + 16), 5u);
  ASSERT_EQ(writeErrorResponse(out, sizeof out, 3, "nope"), 12u);
  EXPECT_EQ(readBe32(out), 3u);
  EXPECT_EQ(std::memcmp(out + 8, "nope", 4), 0);
  EXPECT_EQ(writeErrorResponse(out, 10, 3, "nope"), 10u);  // truncated to fit
  EXPECT_EQ(writeConnectResponse(out, 15, 3, 1), 0u);
}

TEST(TrackerConnectionId, ValidForItsAddressAndLifetime) {
  uint8_t key[16] = {1, 2, 3};
  ConnectionIds ids(key, 120);
  uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  uint8_t b[16];
  std::memcpy(b, a, 16);
  b[15] = 2;
  const uint64_t id = ids.make(a, 1000);
  EXPECT_TRUE(ids.valid(id, a, 1000));
  EXPECT_TRUE(ids.valid(id, a, 1120));
  EXPECT_FALSE(ids.valid(id, a, 1121));  // expired
  EXPECT_FALSE(ids.valid(id, a, 999));   // from the future
  EXPECT_FALSE(ids.valid(id, b, 1000));  // another client
  EXPECT_FALSE(ids.valid(id ^ 1, a, 1000));
  EXPECT_FALSE(ids.valid(id + (uint64_t{1} << 32), a, 1001));  // moved timestamp
  uint8_t other[16] = {9};
  EXPECT_FALSE(ConnectionIds(other, 120).valid(id, a, 1000));  // another instance's secret
}
