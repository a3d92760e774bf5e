// The tunnel's key schedule against known answers from an independent implementation
// (tools/tunnel/kat.py: Python hashlib/hmac and the `cryptography` package), plus the HKDF of
// RFC 5869 test case 3 shape, mac1/cookie round trips, and keys in wg's base64 form.
#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

#include "protocols/tunnel/keys.hpp"
#include "protocols/tunnel/noise.hpp"

using namespace manifold::tunnel;

namespace {

std::string hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}
Key bytesFrom(int first) {
  Key k;
  for (int i = 0; i < 32; ++i) k[i] = static_cast<uint8_t>(first + i);
  return k;
}

struct TunnelKeySchedule : ::testing::Test {
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(TunnelKeySchedule, HkdfMatchesRfc5869TestCase3) {
  // RFC 5869 A.3: IKM = 22 x 0x0b, no salt (HashLen zeros), no info, L = 42.
  Hash salt{};
  uint8_t ikm[22];
  std::memset(ikm, 0x0b, sizeof ikm);
  Hash out[2];
  kdf(salt, {ikm, sizeof ikm}, out, 2);
  std::string okm = hex(out[0].data(), 32) + hex(out[1].data(), 10);
  EXPECT_EQ(okm,
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_F(TunnelKeySchedule, HandshakeMessagesAndTransportKeys) {
  Identity initiator, responder;
  initiator.set(bytesFrom(1));
  responder.set(bytesFrom(33));
  Key psk;
  psk.fill(0x42);
  PeerKeys responderAtInitiator, initiatorAtResponder;
  ASSERT_TRUE(responderAtInitiator.set(initiator, responder.publicKey, psk));
  ASSERT_TRUE(initiatorAtResponder.set(responder, initiator.publicKey, psk));
  Timestamp ts{0x40, 0, 0, 0, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0x2a};

  uint8_t init[kInitiationSize];
  HandshakeState pending;
  ASSERT_TRUE(createInitiation(initiator, responderAtInitiator, bytesFrom(65), ts, 0x11223301, init,
                               pending));
  EXPECT_EQ(hex(init, initiation::kMac1),
            "010000000133221164b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466cca0"
            "b0afc853b61e33ab65297e811b776769cd10f940f86937dd735841ecd00799cf001136d04001a9777150"
            "5d1a24fd4063acdb8d634f23ed172b4ce1e5b5d3d8d2a09e6fa9318fa6e87580fe51d725");
  addMacs(init, sizeof init, responderAtInitiator.mac1Key, nullptr);
  EXPECT_TRUE(mac1Valid({init, sizeof init}, responder.mac1Key));

  Initiation in;
  ASSERT_TRUE(consumeInitiation(
      responder, {init, sizeof init},
      [&](const Key& pub) -> const PeerKeys* {
        return pub == initiator.publicKey ? &initiatorAtResponder : nullptr;
      },
      in));
  EXPECT_EQ(in.timestamp, ts);
  uint8_t resp[kResponseSize];
  SessionKeys responderKeys, initiatorKeys;
  ASSERT_TRUE(
      createResponse(initiatorAtResponder, in, bytesFrom(97), 0x55667702, resp, responderKeys));
  EXPECT_EQ(hex(resp, response::kMac1),
            "020000000133221102776655244fe3b963e899dd295baffce248d3530f3a9a7479ba063002680ebfe7ad"
            "ad494c9e86950b269c9d581d3733355158c4");
  ASSERT_TRUE(consumeResponse(initiator, responderAtInitiator, pending, {resp, sizeof resp},
                              initiatorKeys));
  EXPECT_EQ(hex(initiatorKeys.send.data(), 32),
            "9395b0507ee537a35f4adb526dbd40e96adbed7819c9d8beee8b397cc3c55ade");
  EXPECT_EQ(hex(initiatorKeys.receive.data(), 32),
            "aab529092433ca3aa35e415405954d148dda43357d3bea3b4cd114c4e996e46e");
  EXPECT_EQ(initiatorKeys.send, responderKeys.receive);
  EXPECT_EQ(initiatorKeys.receive, responderKeys.send);
}

TEST_F(TunnelKeySchedule, WrongKeysDoNotAuthenticate) {
  Identity initiator, responder, stranger;
  initiator.set(bytesFrom(1));
  responder.set(bytesFrom(33));
  stranger.set(bytesFrom(120));
  PeerKeys toResponder, initiatorAtResponder;
  toResponder.set(initiator, responder.publicKey, {});
  initiatorAtResponder.set(responder, initiator.publicKey, {});
  uint8_t init[kInitiationSize];
  HandshakeState st;
  createInitiation(initiator, toResponder, bytesFrom(65), tai64n(1e9), 7, init, st);
  addMacs(init, sizeof init, toResponder.mac1Key, nullptr);
  Initiation in;
  auto find = [&](const Key&) -> const PeerKeys* { return &initiatorAtResponder; };
  EXPECT_FALSE(consumeInitiation(stranger, {init, sizeof init}, find, in));  // not for them
  EXPECT_FALSE(mac1Valid({init, sizeof init}, stranger.mac1Key));
  init[initiation::kSender] ^= 1;  // the sealed copy of the index no longer matches
  EXPECT_FALSE(consumeInitiation(responder, {init, sizeof init}, find, in));
  // A psk on one side only: the response does not verify.
  init[initiation::kSender] ^= 1;
  ASSERT_TRUE(consumeInitiation(responder, {init, sizeof init}, find, in));
  Key psk;
  psk.fill(1);
  PeerKeys withPsk;
  withPsk.set(responder, initiator.publicKey, psk);
  uint8_t resp[kResponseSize];
  SessionKeys keys;
  ASSERT_TRUE(createResponse(withPsk, in, bytesFrom(97), 9, resp, keys));
  EXPECT_FALSE(consumeResponse(initiator, toResponder, st, {resp, sizeof resp}, keys));
}

TEST_F(TunnelKeySchedule, CookieRoundTrip) {
  Identity responder;
  responder.set(bytesFrom(33));
  PeerKeys fromInitiator;
  Identity initiator;
  initiator.set(bytesFrom(1));
  fromInitiator.set(initiator, responder.publicKey, {});
  uint8_t msg[kInitiationSize] = {1};
  addMacs(msg, sizeof msg, fromInitiator.mac1Key, nullptr);
  Key secret = bytesFrom(5);
  uint8_t addr[16] = {10, 0, 0, 1};
  Mac cookie = cookieFor(secret, {addr, 16}, 51900);
  uint8_t reply[kCookieReplySize];
  createCookieReply(responder.cookieKey, 77, cookie, {msg, sizeof msg}, reply);
  Mac sentMac1, got;
  std::memcpy(sentMac1.data(), msg + initiation::kMac1, 16);
  ASSERT_TRUE(consumeCookieReply(fromInitiator.cookieKey, {reply, sizeof reply}, sentMac1, got));
  EXPECT_EQ(got, cookie);
  addMacs(msg, sizeof msg, fromInitiator.mac1Key, &got);
  EXPECT_TRUE(mac2Valid({msg, sizeof msg}, cookie));
  sentMac1[0] ^= 1;  // a reply to some other message
  EXPECT_FALSE(consumeCookieReply(fromInitiator.cookieKey, {reply, sizeof reply}, sentMac1, got));
}

TEST_F(TunnelKeySchedule, KeysInWgBase64) {
  Key k;
  ASSERT_TRUE(decodeKey("WqAX5da0DCWe3lpRCAns8H46AdwvACyXTk5h1263Hz0=\n", k));
  EXPECT_EQ(encodeKey(k), "WqAX5da0DCWe3lpRCAns8H46AdwvACyXTk5h1263Hz0=");
  EXPECT_FALSE(decodeKey("WqAX5da0DCWe3lpRCAns8H46AdwvACyXTk5h1263Hz0", k));  // no padding
  EXPECT_FALSE(decodeKey("not a key", k));
  // RFC 7748 6.1: Alice's public key from her private key.
  Key alice;
  const char* priv = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  for (int i = 0; i < 32; ++i)
    alice[i] = static_cast<uint8_t>(std::stoi(std::string(priv + 2 * i, 2), nullptr, 16));
  Key pub = publicKeyOf(alice);
  EXPECT_EQ(hex(pub.data(), 32),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
}

}  // namespace
