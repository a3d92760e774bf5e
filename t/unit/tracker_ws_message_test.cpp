// Tier: unit — WebTorrent tracker messages (protocols/tracker/ws_message): parsing what browsers
// send, the latin-1 id convention, refusals, and the JSON the tracker writes.
#include <gtest/gtest.h>

#include <string>

#include "protocols/tracker/ws_message.hpp"

using namespace manifold::tracker;
using namespace manifold::tracker::ws;

namespace {
std::string id(char c) { return std::string(20, c); }
std::string bytesOf(const uint8_t* p) { return std::string(reinterpret_cast<const char*>(p), 20); }
}  // namespace

TEST(WsMessage, ParsesAnAnnounceWithOffers) {
  // Id bytes 0x80..0xFF arrive as 2-byte UTF-8 (JSON.stringify of a binary string).
  std::string json =
      R"({"action":"announce","info_hash":"\u0001bcdefghijklmnopqrs\u00ff","peer_id":"-WW0001-)"
      "\xc3\xa9"
      R"(bcdefghijkl","numwant":2,"uploaded":0,"downloaded":0,"left":0,"event":"started",)"
      R"("offers":[{"offer_id":"oooooooooooooooooooo","offer":{"type":"offer","sdp":"v=0\r\n"}},)"
      R"({"offer_id":"pppppppppppppppppppp","offer":{"type":"offer","sdp":"x"}}],"extra":[1,{"a":null}]})";
  Request r;
  ASSERT_EQ(parseRequest(json, r), nullptr);
  EXPECT_EQ(r.action, Action::Announce);
  EXPECT_EQ(bytesOf(r.infoHash), std::string("\x01"
                                             "bcdefghijklmnopqrs\xff",
                                             20));
  EXPECT_EQ(bytesOf(r.peerId), std::string("-WW0001-\xe9"
                                           "bcdefghijkl",
                                           20));
  EXPECT_EQ(r.numWant, 2);
  EXPECT_EQ(r.left, 0);
  EXPECT_EQ(r.event, Event::Started);
  ASSERT_EQ(r.offerCount, 2u);
  EXPECT_EQ(bytesOf(r.offers[0].offerId), id('o'));
  EXPECT_EQ(r.offers[0].offer, R"({"type":"offer","sdp":"v=0\r\n"})");
  EXPECT_EQ(r.offers[1].offer, R"({"type":"offer","sdp":"x"})");
  // Long strings are scanned eight bytes at a time: escapes and quotes anywhere still count.
  const std::string sdp = std::string(13, 'v') + R"(\"quoted\" \\ )" + std::string(30, 'w');
  Request l;
  ASSERT_EQ(parseRequest(R"({"action":"announce","info_hash":")" + id('h') + R"(","peer_id":")" +
                             id('p') + R"(","answer":{"sdp":")" + sdp + R"("},"to_peer_id":")" +
                             id('t') + R"(","offer_id":")" + id('o') + R"("})",
                         l),
            nullptr);
  EXPECT_EQ(l.answer, R"({"sdp":")" + sdp + R"("})");
}

TEST(WsMessage, ParsesAnswerAndScrape) {
  Request a;
  ASSERT_EQ(parseRequest(R"({"action":"announce","info_hash":")" + id('h') + R"(","peer_id":")" +
                             id('b') + R"(","to_peer_id":")" + id('a') + R"(","offer_id":")" +
                             id('o') + R"(","answer":{"type":"answer","sdp":"y"}})",
                         a),
            nullptr);
  EXPECT_TRUE(a.hasToPeerId && a.hasOfferId);
  EXPECT_EQ(a.answer, R"({"type":"answer","sdp":"y"})");
  Request s;
  ASSERT_EQ(
      parseRequest(R"({"action":"scrape","info_hash":[")" + id('1') + R"(",")" + id('2') + R"("]})",
                   s),
      nullptr);
  EXPECT_EQ(s.scrapeCount, 2u);
  Request one;
  ASSERT_EQ(parseRequest(R"({"action":"scrape","info_hash":")" + id('1') + R"("})", one), nullptr);
  EXPECT_EQ(one.scrapeCount, 1u);
}

TEST(WsMessage, RefusesWhatItCannotUse) {
  const std::string ok = R"("info_hash":")" + id('h') + R"(","peer_id":")" + id('p') + R"(")";
  struct Case {
    std::string json;
    std::string why;
  };
  const Case cases[] = {
      {"", "invalid JSON"},
      {"[]", "invalid JSON"},
      {R"({"action":"announce",)" + ok + "} x", "invalid JSON"},
      {R"({"action":"announce",)" + ok, "invalid JSON"},
      {R"({"action":"dance",)" + ok + "}", "unknown action"},
      {"{" + ok + "}", "missing action"},
      {R"({"action":"announce","peer_id":")" + id('p') + R"("})", "missing info_hash"},
      {R"({"action":"announce","info_hash":"short","peer_id":")" + id('p') + R"("})",
       "invalid info_hash"},
      {R"({"action":"announce","info_hash":")" + id('h').substr(1) + R"(\u0100","peer_id":")" +
           id('p') + R"("})",
       "invalid info_hash"},
      {R"({"action":"announce",)" + ok + R"(,"numwant":"ten"})", "invalid numwant"},
      {R"({"action":"announce",)" + ok + R"(,"offers":[{"offer_id":"x","offer":{}}]})",
       "invalid offers"},
      {R"({"action":"announce",)" + ok + R"(,"answer":{"sdp":"x"}})",
       "answer without to_peer_id or offer_id"},
      {R"({"action":"announce",)" + ok + R"(,"answer":"text"})", "invalid answer"},
      {R"({"action":"announce",)" + ok + R"(,"x":)" + std::string(40, '[') + std::string(40, ']') +
           "}",
       "invalid JSON"},
      {R"({"action":"announce",)" + ok + R"(,"x":"a)" + std::string(1, '\x01') + R"("})",
       "invalid JSON"},
      {R"({"action":"announce",)" + ok + R"(,"x":")" + std::string(21, 'a') +
           std::string(1, '\x1f') + R"("})",
       "invalid JSON"},
      {R"({"action":"announce",)" + ok + R"(,"x":")" + std::string(19, 'a') + R"(\q"})",
       "invalid JSON"},
  };
  for (const Case& c : cases) {
    Request r;
    const char* why = parseRequest(c.json, r);
    EXPECT_EQ(why ? std::string(why) : "accepted", c.why) << c.json;
  }
}

TEST(WsMessage, WritesIdsSoTheyParseBack) {
  uint8_t raw[20];
  for (int i = 0; i < 20; ++i) raw[i] = static_cast<uint8_t>(i * 13 + (i == 3 ? 34 : 0));
  raw[5] = '\\';
  raw[6] = 0xFF;
  std::string out;
  appendRelay(out, raw, raw, raw, "offer", R"({"type":"offer","sdp":"s"})");
  Request r;
  ASSERT_EQ(parseRequest(out, r), nullptr);
  EXPECT_EQ(bytesOf(r.peerId), bytesOf(raw));
  EXPECT_EQ(bytesOf(r.infoHash), bytesOf(raw));

  std::string a;
  appendAnnounceAnswer(a, reinterpret_cast<const uint8_t*>(id('h').data()), 120, 3, 4);
  EXPECT_EQ(a, R"({"action":"announce","interval":120,"info_hash":")" + id('h') +
                   R"(","complete":3,"incomplete":4})");
  std::string f;
  appendFailure(f, Action::Announce, nullptr, "invalid info_hash");
  EXPECT_EQ(f, R"({"failure reason":"invalid info_hash","action":"announce"})");
  std::string s;
  appendScrapeBegin(s);
  appendScrapeFile(s, true, reinterpret_cast<const uint8_t*>(id('1').data()), 1, 2, 3);
  appendScrapeFile(s, false, reinterpret_cast<const uint8_t*>(id('2').data()), 0, 0, 0);
  appendScrapeEnd(s);
  EXPECT_EQ(s, R"({"action":"scrape","files":{")" + id('1') +
                   R"(":{"complete":1,"incomplete":2,"downloaded":3},")" + id('2') +
                   R"(":{"complete":0,"incomplete":0,"downloaded":0}}})");
}
