// Tier: protocol on the wire — the WebTorrent tracker (ws = on) over real WebSocket connections
// on loopback, two workers: the handshake and frame rules of RFC 6455, offers and answers relayed
// within and across workers, offer expiry, peer_id spoofing, departure on close, scrape shared
// with the HTTP tracker, and slow readers cut off.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/ws_client.hpp"

using namespace manifold::testing;

namespace {

std::string id(char tag, int n) {
  std::string s = std::string(1, tag) + std::to_string(n);
  s.resize(20, '-');
  return s;
}

// The value of "key" in a flat JSON message: a string's contents or a number's digits.
std::string field(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  size_t at = json.find(k);
  if (at == std::string::npos) return "";
  at += k.size();
  if (json[at] == '"') return json.substr(at + 1, json.find('"', at + 1) - at - 1);
  size_t end = json.find_first_of(",}", at);
  return json.substr(at, end - at);
}

std::string announce(const std::string& hash, const std::string& peer, int offers = 0,
                     const std::string& extra = "") {
  std::string s = R"({"action":"announce","info_hash":")" + hash + R"(","peer_id":")" + peer +
                  R"(","left":100,"numwant":)" + std::to_string(offers) + extra + R"(,"offers":[)";
  for (int i = 0; i < offers; ++i) {
    if (i) s += ",";
    s += R"({"offer_id":")" + id('o', i) + R"(","offer":{"type":"offer","sdp":"sdp-)" + peer + "-" +
         std::to_string(i) + R"("}})";
  }
  return s + "]}";
}

std::string answer(const std::string& hash, const std::string& from, const std::string& to,
                   const std::string& offerId) {
  return R"({"action":"announce","info_hash":")" + hash + R"(","peer_id":")" + from +
         R"(","to_peer_id":")" + to + R"(","offer_id":")" + offerId +
         R"(","answer":{"type":"answer","sdp":"answer-from-)" + from + R"("}})";
}

uint64_t counter(Instance& m, const std::string& name) {
  const std::string stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  std::smatch match;
  if (!std::regex_search(stats, match, std::regex("\\b" + name + "( \\(gauge\\))?\\s+(\\d+)")))
    return UINT64_MAX;
  return std::stoull(match[2]);
}

const char* kConfig = R"(
[tracker:wt]
listen = 127.0.0.1:{port:t}
ws = on
)";

// A peer that has announced (and read the announce answer).
std::unique_ptr<WsClient> joined(Instance& m, const std::string& hash, const std::string& peer) {
  auto c = std::make_unique<WsClient>();
  EXPECT_TRUE(c->connect(m.port("t")));
  EXPECT_TRUE(c->sendText(announce(hash, peer)));
  std::string reply;
  EXPECT_TRUE(c->readText(reply));
  EXPECT_EQ(field(reply, "action"), "announce") << reply;
  return c;
}

}  // namespace

TEST(TrackerWs, HandshakeChecks) {
  Instance m(kConfig + std::string("ws_origins = https://good.example none\n"));
  ASSERT_TRUE(m.start());
  WsClient c;
  std::string head;
  EXPECT_TRUE(c.connect(m.port("t"), "/announce", "", &head)) << head;
  EXPECT_TRUE(c.connect(m.port("t"), "/", "Origin: https://good.example\r\n", &head)) << head;
  EXPECT_FALSE(c.connect(m.port("t"), "/", "Origin: https://evil.example\r\n", &head));
  EXPECT_EQ(head.rfind("HTTP/1.1 403", 0), 0u) << head;
  // Version 8 is refused with 426 naming 13.
  const std::string v8 =
      "GET /announce HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
  std::string r = rawExchange(m.port("t"), v8);
  EXPECT_EQ(r.rfind("HTTP/1.1 426", 0), 0u) << r;
  EXPECT_NE(r.find("Sec-WebSocket-Version: 13"), std::string::npos) << r;
  std::string badKey = v8;
  badKey.replace(badKey.find("Version: 8"), 10, "Version: 13");
  badKey.replace(badKey.find("dGhlIHNhbXBsZSBub25jZQ=="), 24, "short");
  r = rawExchange(m.port("t"), badKey);
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  // Plain HTTP announces still work on the same port.
  EXPECT_EQ(curl(m.port("t"),
                 "/scrape?info_hash=%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00"
                 "%00%00%00%00%00")
                .status,
            200);
  EXPECT_EQ(counter(m, "ws_handshakes_refused"), 3u);
}

TEST(TrackerWs, FrameRulesOnTheWire) {
  Instance m(kConfig);
  ASSERT_TRUE(m.start());
  struct Case {
    const char* name;
    std::string frame;  // raw bytes after the handshake
    int code;           // close code expected
  };
  const std::string unmasked = std::string("\x81\x05", 2) + "hello";
  std::vector<Case> cases = {
      {"unmasked client frame", unmasked, 1002},
      {"reserved bit", "", 1002},
      {"bad UTF-8", "", 1007},
      {"frame above 16 KiB", "", 1009},
      {"binary message", "", 1003},
      {"close 1000 is echoed", "", 1000},
      {"close without code gets 1000", "", 1000},
      {"ping of 126 bytes", "", 1002},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    WsClient c;
    ASSERT_TRUE(c.connect(m.port("t")));
    switch (i) {
      case 0:
        c.sendRaw(cases[i].frame);
        break;
      case 1:
        c.sendFrame(0xC1, "x");
        break;
      case 2:
        c.sendFrame(0x81, "\xc3\x28");
        break;
      case 3:
        c.sendFrame(0x81, std::string(17000, 'a'));
        break;
      case 4:
        c.sendFrame(0x82, "bin");
        break;
      case 5:
        c.sendFrame(0x88, std::string("\x03\xe8", 2) + "bye");
        break;
      case 6:
        c.sendFrame(0x88, "");
        break;
      case 7:
        c.sendFrame(0x89, std::string(126, 'p'));
        break;
    }
    EXPECT_EQ(c.readClose(), cases[i].code);
    EXPECT_TRUE(c.waitEof());
  }
  // Ping gets a pong with the same payload; fragmented text with a ping inside is one message.
  WsClient c;
  ASSERT_TRUE(c.connect(m.port("t")));
  c.sendFrame(0x89, "are you there");
  WsClient::Frame f;
  ASSERT_TRUE(c.readFrame(f));
  EXPECT_EQ(f.opcode, 0xA);
  EXPECT_EQ(f.payload, "are you there");
  const std::string msg = announce(id('h', 1), id('p', 1));
  c.sendFrame(0x01, msg.substr(0, 10));
  c.sendFrame(0x89, "mid");
  c.sendFrame(0x80, msg.substr(10));
  ASSERT_TRUE(c.readFrame(f));
  EXPECT_EQ(f.opcode, 0xA);
  std::string reply;
  ASSERT_TRUE(c.readText(reply));
  EXPECT_EQ(field(reply, "incomplete"), "1") << reply;
  // Bad JSON gets a failure reason and the connection stays open.
  c.sendText("{not json");
  ASSERT_TRUE(c.readText(reply));
  EXPECT_EQ(field(reply, "failure reason"), "invalid JSON") << reply;
  c.sendText(R"({"action":"announce","info_hash":"short","peer_id":"x"})");
  ASSERT_TRUE(c.readText(reply));
  EXPECT_EQ(field(reply, "failure reason"), "invalid info_hash") << reply;
  c.sendText(announce(id('h', 1), id('p', 1)));
  ASSERT_TRUE(c.readText(reply));
  EXPECT_EQ(field(reply, "action"), "announce") << reply;
  EXPECT_GE(counter(m, "ws_protocol_errors"), 5u);
}

// One offerer and 15 answerers: with two workers, some answerers are on the other worker (all
// 16 connections on one worker happens 1 time in 32768).
TEST(TrackerWs, OffersAndAnswersAreRelayedWithinAndAcrossWorkers) {
  Instance m(kConfig);
  ASSERT_TRUE(m.start());
  const std::string hash = id('h', 7);
  std::vector<std::unique_ptr<WsClient>> peers;
  for (int i = 0; i < 15; ++i) peers.push_back(joined(m, hash, id('b', i)));
  WsClient a;
  ASSERT_TRUE(a.connect(m.port("t")));
  ASSERT_TRUE(a.sendText(announce(hash, id('a', 0), 10)));
  std::string reply;
  ASSERT_TRUE(a.readText(reply));
  EXPECT_EQ(field(reply, "incomplete"), "16") << reply;
  // Ten of the fifteen get one offer each (max_offers = 10), never twice the same offer_id.
  std::vector<std::string> got(peers.size());
  int offered = 0;
  const auto start = Clock::now();
  while (offered < 10 && msSince(start) < 10000)
    for (size_t i = 0; i < peers.size(); ++i)
      if (got[i].empty() && peers[i]->readText(got[i], 20)) ++offered;
  sleepMs(200);
  std::set<std::string> offerIds;
  for (size_t i = 0; i < peers.size(); ++i) {
    std::string& msg = got[i];
    if (msg.empty()) {
      EXPECT_FALSE(peers[i]->readText(msg, 10)) << "an eleventh offer: " << msg;
      continue;
    }
    EXPECT_EQ(field(msg, "peer_id"), id('a', 0)) << msg;
    EXPECT_EQ(field(msg, "info_hash"), hash);
    EXPECT_NE(msg.find(R"("offer":{"type":"offer","sdp":"sdp-)"), std::string::npos) << msg;
    EXPECT_TRUE(offerIds.insert(field(msg, "offer_id")).second);
    // Answer it: the answer must reach the offerer.
    ASSERT_TRUE(peers[i]->sendText(
        answer(hash, id('b', static_cast<int>(i)), id('a', 0), field(msg, "offer_id"))));
  }
  EXPECT_EQ(offered, 10);
  std::set<std::string> answeredBy;
  for (int i = 0; i < offered; ++i) {
    std::string msg;
    ASSERT_TRUE(a.readText(msg)) << i << " "
                                 << run(binPath("manifold-shm") + " -n " + m.shmName() +
                                        " stats | grep ws_");
    EXPECT_NE(msg.find(R"("answer":{"type":"answer","sdp":"answer-from-)"), std::string::npos)
        << msg;
    EXPECT_TRUE(offerIds.count(field(msg, "offer_id"))) << msg;
    answeredBy.insert(field(msg, "peer_id"));
  }
  EXPECT_EQ(answeredBy.size(), 10u);
  EXPECT_EQ(counter(m, "ws_offers_same_worker") + counter(m, "ws_offers_other_worker"), 10u);
  EXPECT_GE(counter(m, "ws_offers_other_worker"), 1u);
  EXPECT_GE(counter(m, "ws_answers_other_worker"), 1u);
  EXPECT_EQ(counter(m, "ws_answers_same_worker") + counter(m, "ws_answers_other_worker"), 10u);
  EXPECT_EQ(counter(m, "ws_connections"), 16u);
}

TEST(TrackerWs, AnswersOnlyToPendingOffersBeforeTheyExpire) {
  Instance m(kConfig + std::string("max_offer_age = 2s\n"));
  ASSERT_TRUE(m.start());
  const std::string hash = id('h', 8);
  auto b = joined(m, hash, id('b', 1));
  auto c = joined(m, hash, id('c', 1));
  WsClient a;
  ASSERT_TRUE(a.connect(m.port("t")));
  ASSERT_TRUE(a.sendText(announce(hash, id('a', 1), 2)));
  std::string msg, offerB, offerC;
  ASSERT_TRUE(a.readText(msg));
  ASSERT_TRUE(b->readText(offerB));
  ASSERT_TRUE(c->readText(offerC));
  // An answer naming an offer_id that was never offered to C, and one to a peer that made C no
  // offer, go nowhere.
  c->sendText(answer(hash, id('c', 1), id('a', 1), id('x', 9)));
  c->sendText(answer(hash, id('c', 1), id('b', 1), field(offerC, "offer_id")));
  // B answers at once: relayed. B answering the same offer again: dropped.
  b->sendText(answer(hash, id('b', 1), id('a', 1), field(offerB, "offer_id")));
  ASSERT_TRUE(a.readText(msg));
  EXPECT_EQ(field(msg, "peer_id"), id('b', 1));
  b->sendText(answer(hash, id('b', 1), id('a', 1), field(offerB, "offer_id")));
  // C answers after max_offer_age (2 s): dropped.
  sleepMs(2600);
  c->sendText(answer(hash, id('c', 1), id('a', 1), field(offerC, "offer_id")));
  EXPECT_FALSE(a.readText(msg, 1500)) << msg;
  EXPECT_FALSE(b->readText(msg, 100)) << msg;
  EXPECT_EQ(counter(m, "ws_answers_unmatched"), 4u);
}

TEST(TrackerWs, PeerIdOfAnotherConnectionIsRefused) {
  Instance m(kConfig);
  ASSERT_TRUE(m.start());
  const std::string hash = id('h', 9);
  auto owner = joined(m, hash, id('p', 1));
  WsClient thief;
  ASSERT_TRUE(thief.connect(m.port("t")));
  thief.sendText(announce(hash, id('p', 1), 1));
  std::string msg;
  ASSERT_TRUE(thief.readText(msg));
  EXPECT_EQ(field(msg, "failure reason"), "peer_id is used by another connection") << msg;
  // The thief cannot remove the owner either.
  thief.sendText(announce(hash, id('p', 1), 0, R"(,"event":"stopped")"));
  ASSERT_TRUE(thief.readText(msg));
  EXPECT_EQ(field(msg, "failure reason"), "peer_id is used by another connection") << msg;
  thief.sendText(R"({"action":"scrape","info_hash":")" + hash + R"("})");
  ASSERT_TRUE(thief.readText(msg));
  EXPECT_NE(msg.find(R"("incomplete":1)"), std::string::npos) << msg;
  EXPECT_EQ(counter(m, "ws_peer_id_refused"), 2u);
}

TEST(TrackerWs, ClosedConnectionLeavesAtOnceAndScrapeCountsHttpPeers) {
  Instance m(kConfig);
  ASSERT_TRUE(m.start());
  std::string hash(20, 'z');
  auto a = joined(m, hash, id('a', 1));
  auto b = joined(m, hash, id('b', 1));
  // An HTTP peer of the same torrent.
  auto r = curl(m.port("t"), "/announce?info_hash=zzzzzzzzzzzzzzzzzzzz&peer_id=" + id('h', 1) +
                                 "&port=6881&left=0&compact=1");
  ASSERT_EQ(r.status, 200);
  auto scrape = [&] {
    std::string msg;
    b->sendText(R"({"action":"scrape","info_hash":[")" + hash + R"("]})");
    EXPECT_TRUE(b->readText(msg));
    return msg;
  };
  std::string s = scrape();
  EXPECT_NE(s.find(R"({"complete":1,"incomplete":2,"downloaded":0})"), std::string::npos) << s;
  auto http = curl(m.port("t"), "/scrape?info_hash=zzzzzzzzzzzzzzzzzzzz");
  EXPECT_NE(http.body.find("8:completei1e10:downloadedi0e10:incompletei2e"), std::string::npos)
      << http.body;
  a.reset();  // closes the TCP connection without a close frame
  const auto start = Clock::now();
  while (scrape().find(R"("incomplete":1)") == std::string::npos && msSince(start) < 5000)
    sleepMs(20);
  EXPECT_NE(scrape().find(R"({"complete":1,"incomplete":1,"downloaded":0})"), std::string::npos);
  // stopped leaves too.
  b->sendText(announce(hash, id('b', 1), 0, R"(,"event":"stopped")"));
  std::string msg;
  ASSERT_TRUE(b->readText(msg));
  EXPECT_EQ(field(msg, "incomplete"), "0") << msg;
}

TEST(TrackerWs, SlowReaderIsCutOffAtTheSendBuffer) {
  Instance m(kConfig + std::string("ws_send_buffer = 64k\nws_max_message = 64k\n"));
  ASSERT_TRUE(m.start());
  const std::string hash = id('h', 5);
  // The slow peer reads nothing after joining, with a small receive buffer.
  WsClient slow;
  ASSERT_TRUE(slow.connect(m.port("t")));
  int small = 4096;
  setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  slow.sendText(announce(hash, id('s', 1)));
  WsClient fast;
  ASSERT_TRUE(fast.connect(m.port("t")));
  const std::string sdp(15000, 'x');
  std::string msg;
  const auto start = Clock::now();
  int sent = 0;
  while (counter(m, "ws_slow_closed") == 0 && msSince(start) < 20000) {
    for (int i = 0; i < 50; ++i, ++sent) {
      std::string a = R"({"action":"announce","info_hash":")" + hash + R"(","peer_id":")" +
                      id('f', 1) + R"(","numwant":1,"offers":[{"offer_id":")" + id('o', sent) +
                      R"(","offer":{"type":"offer","sdp":")" + sdp + R"("}}]})";
      ASSERT_TRUE(fast.sendText(a));
      ASSERT_TRUE(fast.readText(msg));
    }
  }
  EXPECT_EQ(counter(m, "ws_slow_closed"), 1u) << sent << " offers sent";
  // The fast peer is fine, and the slow one has left the swarm.
  fast.sendText(announce(hash, id('f', 1)));
  ASSERT_TRUE(fast.readText(msg));
  EXPECT_EQ(field(msg, "incomplete"), "1") << msg;
}

TEST(TrackerWs, ReloadClosesWebSocketsWithGoingAway) {
  Instance m(kConfig);
  ASSERT_TRUE(m.start());
  auto peer = joined(m, id('h', 3), id('p', 3));
  m.signal(SIGHUP);
  EXPECT_EQ(peer->readClose(10000), 1001);
  EXPECT_TRUE(peer->waitEof(10000));
  ASSERT_TRUE(m.waitForGeneration(2));
  // The new generation serves the same swarm (the region is kept): the closed peer is gone.
  auto again = joined(m, id('h', 3), id('q', 3));
  again->sendText(R"({"action":"scrape","info_hash":")" + id('h', 3) + R"("})");
  std::string msg;
  ASSERT_TRUE(again->readText(msg));
  EXPECT_NE(msg.find(R"("incomplete":1)"), std::string::npos) << msg;
}

// ws_idle_timeout, not the HTTP keep-alive timeout, applies once a connection is upgraded.
TEST(TrackerWs, IdleTimeoutIsTheWebSocketOne) {
  Instance m(kConfig + std::string("ws_idle_timeout = 3s\nkeepalive_timeout = 1s\n"));
  ASSERT_TRUE(m.start());
  WsClient quiet;
  ASSERT_TRUE(quiet.connect(m.port("t")));  // never sends a frame
  auto busy = joined(m, id('h', 4), id('p', 4));
  sleepMs(1800);  // past keepalive_timeout
  ASSERT_TRUE(busy->sendFrame(0x89, "still here"));
  WsClient::Frame f;
  ASSERT_TRUE(busy->readFrame(f));
  EXPECT_EQ(f.opcode, 0xA);
  const auto start = Clock::now();
  EXPECT_TRUE(quiet.waitEof(6000));
  EXPECT_GE(msSince(start), 700);    // closed at about 3 s after connecting, not 1 s
  EXPECT_TRUE(busy->waitEof(6000));  // silent since the ping: closed too
}

// A worker that does not drain its ring (stopped here with SIGSTOP) costs the others nothing:
// relays to it fill its ring, then are dropped and counted, and the live worker keeps answering
// at once. When it resumes, it delivers what its ring held.
TEST(TrackerWs, FullRingDropsAndNeverBlocksTheSender) {
  Instance m(kConfig +
             std::string("ws_relay_ring = 64k\nws_max_message = 12k\nws_max_frame = 12k\n"));
  ASSERT_TRUE(m.start());
  const std::string hash = id('h', 6);
  std::vector<std::unique_ptr<WsClient>> peers;
  for (int i = 0; i < 16; ++i) peers.push_back(joined(m, hash, id('r', i)));
  const std::vector<pid_t> workers = m.workerPids();
  ASSERT_EQ(workers.size(), 2u);
  ASSERT_EQ(kill(workers[1], SIGSTOP), 0);
  // The sender: a peer whose worker still answers.
  WsClient* sender = nullptr;
  int senderIndex = -1;
  for (size_t i = 0; i < peers.size() && !sender; ++i) {
    std::string msg;
    peers[i]->sendText(R"({"action":"scrape","info_hash":")" + hash + R"("})");
    if (peers[i]->readText(msg, 300)) {
      sender = peers[i].get();
      senderIndex = static_cast<int>(i);
    }
  }
  ASSERT_NE(sender, nullptr) << "no peer on the live worker (1 run in 65536)";
  const std::string sdp(900, 's');  // 10 offers in one 12k message
  const auto start = Clock::now();
  for (int round = 0; round < 60; ++round) {
    std::string a = R"({"action":"announce","info_hash":")" + hash + R"(","peer_id":")" +
                    id('r', senderIndex) + R"(","numwant":15,"offers":[)";
    for (int k = 0; k < 10; ++k)
      a += std::string(k ? "," : "") + R"({"offer_id":")" + id('o', round * 10 + k) +
           R"(","offer":{"type":"offer","sdp":")" + sdp + R"("}})";
    ASSERT_TRUE(sender->sendText(a + "]}"));
    std::string msg;
    ASSERT_TRUE(sender->readText(msg, 2000)) << "round " << round;  // never blocked
    EXPECT_EQ(field(msg, "action"), "announce") << msg;
  }
  EXPECT_LT(msSince(start), 10000);
  const uint64_t drops = counter(m, "ws_relay_drops_full");
  EXPECT_GT(drops, 0u);
  EXPECT_GT(counter(m, "ws_offers_other_worker"), 0u);
  ASSERT_EQ(kill(workers[1], SIGCONT), 0);
  // The stopped worker's peers get what fitted: at least one offer reaches one of them.
  int delivered = 0;
  for (size_t i = 0; i < peers.size(); ++i) {
    std::string msg;
    while (static_cast<int>(i) != senderIndex && peers[i]->readText(msg, 300))
      delivered += field(msg, "peer_id") == id('r', senderIndex);
  }
  EXPECT_GT(delivered, 0);
  EXPECT_EQ(counter(m, "ws_relay_drops_full"), drops);
}

TEST(TrackerWs, OneConnectionJoinsAtMost256Torrents) {
  Instance m(kConfig);
  ASSERT_TRUE(m.start());
  WsClient c;
  ASSERT_TRUE(c.connect(m.port("t")));
  std::string msg;
  for (int i = 0; i < 256; ++i) {
    ASSERT_TRUE(c.sendText(announce(id('t', i), id('p', 1))));
    ASSERT_TRUE(c.readText(msg));
    ASSERT_EQ(field(msg, "incomplete"), "1") << i << " " << msg;
  }
  c.sendText(announce(id('t', 256), id('p', 1)));
  ASSERT_TRUE(c.readText(msg));
  EXPECT_EQ(field(msg, "failure reason"), "too many torrents on one connection") << msg;
  // Re-announcing a joined one, and leaving one to make room, still work.
  c.sendText(announce(id('t', 7), id('p', 1)));
  ASSERT_TRUE(c.readText(msg));
  EXPECT_EQ(field(msg, "incomplete"), "1") << msg;
  c.sendText(announce(id('t', 7), id('p', 1), 0, R"(,"event":"stopped")"));
  ASSERT_TRUE(c.readText(msg));
  c.sendText(announce(id('t', 256), id('p', 1)));
  ASSERT_TRUE(c.readText(msg));
  EXPECT_EQ(field(msg, "incomplete"), "1") << msg;
}

// A worker killed with SIGKILL runs no close handler: its peers stay in shm until the worker
// that respawns in its slot drops them when it starts.
TEST(TrackerWs, RespawnedWorkerDropsThePeersOfTheKilledOne) {
  Instance m(kConfig);
  ASSERT_TRUE(m.start());
  const std::string hash = id('h', 2);
  std::vector<std::unique_ptr<WsClient>> peers;
  for (int i = 0; i < 16; ++i) peers.push_back(joined(m, hash, id('k', i)));
  const std::vector<pid_t> before = m.workerPids();
  ASSERT_EQ(before.size(), 2u);
  ASSERT_EQ(kill(before[1], SIGKILL), 0);
  // The killed worker's connections end; the others stay.
  std::vector<size_t> alive;
  for (size_t i = 0; i < peers.size(); ++i)
    if (!peers[i]->waitEof(i == 0 ? 2000 : 100)) alive.push_back(i);
  ASSERT_FALSE(alive.empty()) << "all 16 on the killed worker (1 run in 65536)";
  ASSERT_LT(alive.size(), peers.size()) << "none on the killed worker (1 run in 65536)";
  const std::string expected = R"("incomplete":)" + std::to_string(alive.size()) + ",";
  std::string msg;
  const auto start = Clock::now();
  do {
    sleepMs(50);
    peers[alive[0]]->sendText(R"({"action":"scrape","info_hash":")" + hash + R"("})");
    ASSERT_TRUE(peers[alive[0]]->readText(msg));
  } while (msg.find(expected) == std::string::npos && msSince(start) < 10000);
  EXPECT_NE(msg.find(expected), std::string::npos) << msg;
  EXPECT_EQ(m.workerPids().size(), 2u);
}
