// Tier: unit — bencoding, HTTP query parsing and the access list.
#include <gtest/gtest.h>

#include <cstring>

#include "protocols/tracker/access_list.hpp"
#include "protocols/tracker/bencode.hpp"
#include "protocols/tracker/query.hpp"

using namespace manifold::tracker;

TEST(TrackerBencode, Encode) {
  std::string s = "d";
  bencode::appendKeyInt(s, "complete", 3);
  bencode::appendKeyInt(s, "neg", -12);
  bencode::appendKeyString(s, "peers", std::string_view("\x7f\0\0\x01\x1a\xe1", 6));
  s += "e";
  EXPECT_EQ(s, std::string("d8:completei3e3:negi-12e5:peers6:\x7f\0\0\x01\x1a\xe1"
                           "e",
                           40));
  EXPECT_EQ(bencode::failure("no"), "d14:failure reason2:noe");
}

TEST(TrackerBencode, Decode) {
  bencode::Value v;
  ASSERT_TRUE(bencode::decode("d3:bar4:spam3:fooi42e4:listli1ei-2e0:ee", v));
  EXPECT_EQ(v.type, bencode::Value::Type::Dict);
  EXPECT_EQ(v.get("bar")->string, "spam");
  EXPECT_EQ(v.get("foo")->integer, 42);
  ASSERT_EQ(v.get("list")->list.size(), 3u);
  EXPECT_EQ(v.get("list")->list[1].integer, -2);
  for (const char* bad : {"", "i", "ie", "i-0e", "i01e", "5:abc", "d3:fooe", "d3:foo1:a3:bar1:be",
                          "l", "x", "i1ei2e", "01:a"})
    EXPECT_FALSE(bencode::decode(bad, v)) << bad;
}

TEST(TrackerQuery, Announce) {
  AnnounceQuery q;
  std::string query =
      "info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A&peer_id=-TR2940-abcdefghijkl"
      "&port=51413&uploaded=1&downloaded=2&left=0&event=completed&numwant=80&compact=1"
      "&no_peer_id=1&key=ABC&supportcrypto=1&ip=10.0.0.1";
  ASSERT_EQ(parseAnnounceQuery(query, q), "");
  const uint8_t hash[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                            0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
  EXPECT_EQ(std::memcmp(q.infoHash, hash, 20), 0);
  EXPECT_EQ(std::memcmp(q.peerId, "-TR2940-abcdefghijkl", 20), 0);
  EXPECT_EQ(q.port, 51413);
  EXPECT_EQ(q.uploaded, 1u);
  EXPECT_EQ(q.downloaded, 2u);
  EXPECT_EQ(q.left, 0u);
  EXPECT_TRUE(q.haveLeft);
  EXPECT_EQ(q.event, Event::Completed);
  EXPECT_EQ(q.numWant, 80);
  EXPECT_TRUE(q.compact);
  EXPECT_TRUE(q.noPeerId);
  EXPECT_EQ(q.ip, "10.0.0.1");
}

TEST(TrackerQuery, AnnounceErrors) {
  AnnounceQuery q;
  const std::string hash = "info_hash=aaaaaaaaaaaaaaaaaaaa";
  const std::string peer = "&peer_id=bbbbbbbbbbbbbbbbbbbb";
  EXPECT_EQ(parseAnnounceQuery(hash + peer + "&port=1", q), "");
  EXPECT_EQ(q.event, Event::None);
  EXPECT_EQ(q.numWant, -1);
  EXPECT_EQ(parseAnnounceQuery(peer + "&port=1", q), "missing info_hash");
  EXPECT_EQ(parseAnnounceQuery(hash + "&port=1", q), "missing peer_id");
  EXPECT_EQ(parseAnnounceQuery(hash + peer, q), "missing port");
  EXPECT_EQ(parseAnnounceQuery("info_hash=short" + peer + "&port=1", q), "invalid info_hash");
  EXPECT_EQ(parseAnnounceQuery(hash + "a" + peer + "&port=1", q), "invalid info_hash");
  EXPECT_EQ(parseAnnounceQuery("info_hash=%zzaaaaaaaaaaaaaaaaaaa" + peer + "&port=1", q),
            "invalid info_hash");
  EXPECT_EQ(parseAnnounceQuery(hash + peer + "&port=70000", q), "invalid port");
  EXPECT_EQ(parseAnnounceQuery(hash + peer + "&port=1&event=bogus", q), "unknown event");
  EXPECT_EQ(parseAnnounceQuery(hash + peer + "&port=1&left=-1", q), "invalid left");
  EXPECT_EQ(parseAnnounceQuery(hash + peer + "&port=1&compact=0", q), "");
  EXPECT_FALSE(q.compact);
}

TEST(TrackerQuery, PercentDecode) {
  uint8_t out[8];
  EXPECT_EQ(percentDecode("a%41+%7e", out, sizeof out), 4);
  EXPECT_EQ(std::memcmp(out, "aA+~", 4), 0);
  EXPECT_EQ(percentDecode("%4", out, sizeof out), -1);
  EXPECT_EQ(percentDecode("%", out, sizeof out), -1);
  EXPECT_EQ(percentDecode("123456789", out, sizeof out), -1);
}

TEST(TrackerQuery, Scrape) {
  uint8_t hashes[3 * 20];
  std::string q =
      "info_hash=aaaaaaaaaaaaaaaaaaaa&x=1&info_hash=bbbbbbbbbbbbbbbbbbbb&info_hash=%"
      "63ccccccccccccccccccc"
      "&info_hash=dddddddddddddddddddd";
  EXPECT_EQ(parseScrapeQuery(q, hashes, 3), 3);
  EXPECT_EQ(hashes[40], 'c');
  EXPECT_EQ(parseScrapeQuery("", hashes, 3), 0);
  EXPECT_EQ(parseScrapeQuery("info_hash=abc", hashes, 3), -1);
}

TEST(TrackerAccessList, ParseAndPermit) {
  AccessList list;
  std::string why;
  ASSERT_TRUE(
      list.parse("# comment\n\n  0123456789ABCDEF0123456789abcdef01234567  \r\n"
                 "ffffffffffffffffffffffffffffffffffffffff\n",
                 why));
  EXPECT_EQ(list.size(), 2u);
  uint8_t h[20];
  ASSERT_TRUE(parseHexHash("0123456789abcdef0123456789abcdef01234567", h));
  uint8_t other[20] = {};
  EXPECT_TRUE(list.permits(other));  // mode off
  list.mode = AccessMode::Allow;
  EXPECT_TRUE(list.permits(h));
  EXPECT_FALSE(list.permits(other));
  list.mode = AccessMode::Deny;
  EXPECT_FALSE(list.permits(h));
  EXPECT_TRUE(list.permits(other));
  EXPECT_FALSE(list.parse("0123\n", why));
  EXPECT_EQ(why, "line 1: not a 40-digit hex info hash");
}
