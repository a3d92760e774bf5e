#include "protocols/tunnel/noise.hpp"

#include <sodium.h>

#include <cmath>
#include <cstring>

namespace manifold::tunnel {

namespace {

std::span<const uint8_t> bytesOf(const char* text) {
  return {reinterpret_cast<const uint8_t*>(text), std::strlen(text)};
}

void mixHash(Hash& h, std::span<const uint8_t> data) { h = hash(h, data); }

// Chaining key and hash before any message: C = HASH(construction), H = HASH(C || identifier).
void initialState(Hash& chain, Hash& h, const Key& responderStatic) {
  chain = hash(bytesOf(kConstruction));
  h = hash(chain, bytesOf(kIdentifier));
  mixHash(h, responderStatic);
}

}  // namespace

Hash hash(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, a.data(), a.size());
  crypto_hash_sha256_update(&st, b.data(), b.size());
  Hash out;
  crypto_hash_sha256_final(&st, out.data());
  return out;
}

Hash hmac(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, data.data(), data.size());
  Hash out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

void kdf(const Hash& chain, std::span<const uint8_t> input, Hash* out, unsigned n) {
  Hash prk = hmac(chain, input);
  uint8_t block[33];
  size_t len = 0;
  for (unsigned i = 0; i < n; ++i) {
    if (i > 0) std::memcpy(block, out[i - 1].data(), 32);
    len = i > 0 ? 33 : 1;
    block[len - 1] = static_cast<uint8_t>(i + 1);
    out[i] = hmac(prk, {block, len});
  }
  sodium_memzero(prk.data(), prk.size());
}

bool dh(Key& out, const Key& privateKey, const Key& publicKey) {
  return crypto_scalarmult(out.data(), privateKey.data(), publicKey.data()) == 0;
}

void seal(uint8_t* out, const uint8_t* key, uint64_t counter, std::span<const uint8_t> plain,
          std::span<const uint8_t> ad) {
  uint8_t nonce[12] = {};
  storeLe64(nonce + 4, counter);
  crypto_aead_chacha20poly1305_ietf_encrypt(out, nullptr, plain.data(), plain.size(), ad.data(),
                                            ad.size(), nullptr, nonce, key);
}

bool open(uint8_t* out, const uint8_t* key, uint64_t counter, std::span<const uint8_t> cipher,
          std::span<const uint8_t> ad) {
  if (cipher.size() < kTagSize) return false;
  uint8_t nonce[12] = {};
  storeLe64(nonce + 4, counter);
  return crypto_aead_chacha20poly1305_ietf_decrypt(out, nullptr, nullptr, cipher.data(),
                                                   cipher.size(), ad.data(), ad.size(), nonce,
                                                   key) == 0;
}

Mac mac(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Mac out;
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), key.data(), key.size());
  return out;
}

Timestamp tai64n(double unixSeconds) {
  Timestamp t;
  double whole = std::floor(unixSeconds);
  uint64_t secs = 0x400000000000000aull + static_cast<uint64_t>(whole);
  uint32_t nanos = static_cast<uint32_t>((unixSeconds - whole) * 1e9);
  for (int i = 0; i < 8; ++i) t[i] = static_cast<uint8_t>(secs >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) t[8 + i] = static_cast<uint8_t>(nanos >> (24 - 8 * i));
  return t;
}

Hash mac1KeyOf(const Key& publicKey) { return hash(bytesOf(kLabelMac1), publicKey); }

void Identity::set(const Key& priv) {
  privateKey = priv;
  publicKey = publicKeyOf(priv);
  mac1Key = mac1KeyOf(publicKey);
  cookieKey = hash(bytesOf(kLabelCookie), publicKey);
}

bool PeerKeys::set(const Identity& self, const Key& pub, const Key& preShared) {
  publicKey = pub;
  psk = preShared;
  mac1Key = mac1KeyOf(pub);
  cookieKey = hash(bytesOf(kLabelCookie), pub);
  return dh(staticShared, self.privateKey, pub);
}

bool createInitiation(const Identity& self, const PeerKeys& peer, const Key& ephemeralPrivate,
                      const Timestamp& now, uint32_t senderIndex, uint8_t* msg,
                      HandshakeState& st) {
  using namespace initiation;
  initialState(st.chain, st.hash, peer.publicKey);
  st.ephemeralPrivate = ephemeralPrivate;
  st.ephemeralPublic = publicKeyOf(ephemeralPrivate);
  st.localIndex = senderIndex;
  storeHeader(msg, MessageType::Initiation);
  storeLe32(msg + kSender, senderIndex);
  std::memcpy(msg + kEphemeral, st.ephemeralPublic.data(), 32);
  kdf(st.chain, st.ephemeralPublic, &st.chain, 1);
  mixHash(st.hash, st.ephemeralPublic);
  Key shared;
  if (!dh(shared, ephemeralPrivate, peer.publicKey)) return false;
  Hash out[2];
  kdf(st.chain, shared, out, 2);
  st.chain = out[0];
  seal(msg + kStatic, out[1].data(), 0, self.publicKey, st.hash);
  mixHash(st.hash, {msg + kStatic, 48});
  kdf(st.chain, peer.staticShared, out, 2);
  st.chain = out[0];
  uint8_t plain[kTimestampPlain];
  std::memcpy(plain, now.data(), 12);
  storeLe32(plain + 12, senderIndex);
  seal(msg + kTimestamp, out[1].data(), 0, {plain, sizeof plain}, st.hash);
  mixHash(st.hash, {msg + kTimestamp, kTimestampPlain + kTagSize});
  sodium_memzero(out, sizeof out);
  return true;
}

bool consumeInitiation(const Identity& self, std::span<const uint8_t> msg,
                       const std::function<const PeerKeys*(const Key&)>& findPeer, Initiation& in) {
  using namespace initiation;
  if (msg.size() != kInitiationSize) return false;
  HandshakeState& st = in.state;
  initialState(st.chain, st.hash, self.publicKey);
  std::memcpy(st.remoteEphemeral.data(), msg.data() + kEphemeral, 32);
  st.remoteIndex = loadLe32(msg.data() + kSender);
  kdf(st.chain, st.remoteEphemeral, &st.chain, 1);
  mixHash(st.hash, st.remoteEphemeral);
  Key shared;
  if (!dh(shared, self.privateKey, st.remoteEphemeral)) return false;
  Hash out[2];
  kdf(st.chain, shared, out, 2);
  st.chain = out[0];
  if (!open(in.initiatorStatic.data(), out[1].data(), 0, msg.subspan(kStatic, 48), st.hash))
    return false;
  mixHash(st.hash, msg.subspan(kStatic, 48));
  in.peer = findPeer(in.initiatorStatic);
  if (!in.peer) return false;
  kdf(st.chain, in.peer->staticShared, out, 2);
  st.chain = out[0];
  uint8_t plain[kTimestampPlain];
  if (!open(plain, out[1].data(), 0, msg.subspan(kTimestamp, kTimestampPlain + kTagSize), st.hash))
    return false;
  // The index is sealed too, so a replayed initiation cannot be moved to another lane.
  if (loadLe32(plain + 12) != st.remoteIndex) return false;
  mixHash(st.hash, msg.subspan(kTimestamp, kTimestampPlain + kTagSize));
  std::memcpy(in.timestamp.data(), plain, 12);
  return true;
}

namespace {
// The responder's part of the schedule, both sides: ee, se, psk, then the empty payload's key.
bool finishSchedule(HandshakeState& st, const Key& ephemeralPrivate, const Key& remoteEphemeral,
                    const Key& ephemeralPublic, const Key& seShared, const Key& psk, Hash& key) {
  kdf(st.chain, ephemeralPublic, &st.chain, 1);
  mixHash(st.hash, ephemeralPublic);
  Key shared;
  if (!dh(shared, ephemeralPrivate, remoteEphemeral)) return false;
  kdf(st.chain, shared, &st.chain, 1);
  kdf(st.chain, seShared, &st.chain, 1);
  Hash out[3];
  kdf(st.chain, psk, out, 3);
  st.chain = out[0];
  mixHash(st.hash, out[1]);
  key = out[2];
  return true;
}
void splitKeys(const Hash& chain, bool initiator, SessionKeys& keys) {
  Hash out[2];
  kdf(chain, {}, out, 2);
  std::memcpy((initiator ? keys.send : keys.receive).data(), out[0].data(), 32);
  std::memcpy((initiator ? keys.receive : keys.send).data(), out[1].data(), 32);
}
}  // namespace

bool createResponse(const PeerKeys& peer, Initiation& in, const Key& ephemeralPrivate,
                    uint32_t senderIndex, uint8_t* msg, SessionKeys& keys) {
  using namespace response;
  HandshakeState& st = in.state;
  st.ephemeralPrivate = ephemeralPrivate;
  st.ephemeralPublic = publicKeyOf(ephemeralPrivate);
  st.localIndex = senderIndex;
  storeHeader(msg, MessageType::Response);
  storeLe32(msg + kReceiver, st.remoteIndex);
  storeLe32(msg + kSender, senderIndex);
  std::memcpy(msg + kEphemeral, st.ephemeralPublic.data(), 32);
  Key se;  // DH(responder ephemeral, initiator static)
  if (!dh(se, ephemeralPrivate, in.initiatorStatic)) return false;
  Hash key;
  if (!finishSchedule(st, ephemeralPrivate, st.remoteEphemeral, st.ephemeralPublic, se, peer.psk,
                      key))
    return false;
  seal(msg + kEmpty, key.data(), 0, {}, st.hash);
  mixHash(st.hash, {msg + kEmpty, kTagSize});
  splitKeys(st.chain, false, keys);
  return true;
}

bool consumeResponse(const Identity& self, const PeerKeys& peer, const HandshakeState& initiator,
                     std::span<const uint8_t> msg, SessionKeys& keys) {
  using namespace response;
  if (msg.size() != kResponseSize) return false;
  HandshakeState st = initiator;
  Key remoteEphemeral;
  std::memcpy(remoteEphemeral.data(), msg.data() + kEphemeral, 32);
  Key se;  // DH(initiator static, responder ephemeral)
  if (!dh(se, self.privateKey, remoteEphemeral)) return false;
  Hash key;
  if (!finishSchedule(st, st.ephemeralPrivate, remoteEphemeral, remoteEphemeral, se, peer.psk, key))
    return false;
  uint8_t none[1];
  if (!open(none, key.data(), 0, msg.subspan(kEmpty, kTagSize), st.hash)) return false;
  splitKeys(st.chain, true, keys);
  return true;
}

void addMacs(uint8_t* msg, size_t size, const Hash& mac1Key, const Mac* cookie) {
  Mac m1 = mac(mac1Key, {msg, size - 32});
  std::memcpy(msg + size - 32, m1.data(), 16);
  if (cookie) {
    Mac m2 = mac(*cookie, {msg, size - 16});
    std::memcpy(msg + size - 16, m2.data(), 16);
  } else {
    std::memset(msg + size - 16, 0, 16);
  }
}

bool mac1Valid(std::span<const uint8_t> msg, const Hash& mac1Key) {
  Mac m1 = mac(mac1Key, msg.first(msg.size() - 32));
  return sodium_memcmp(m1.data(), msg.data() + msg.size() - 32, 16) == 0;
}

bool mac2Valid(std::span<const uint8_t> msg, const Mac& cookie) {
  Mac m2 = mac(cookie, msg.first(msg.size() - 16));
  return sodium_memcmp(m2.data(), msg.data() + msg.size() - 16, 16) == 0;
}

Mac cookieFor(const Key& secret, std::span<const uint8_t> sourceAddress, uint16_t port) {
  uint8_t buf[18] = {};
  size_t n = std::min<size_t>(sourceAddress.size(), 16);
  std::memcpy(buf, sourceAddress.data(), n);
  buf[n] = static_cast<uint8_t>(port >> 8);
  buf[n + 1] = static_cast<uint8_t>(port);
  return mac(secret, {buf, n + 2});
}

void createCookieReply(const Hash& ourCookieKey, uint32_t receiverIndex, const Mac& cookie,
                       std::span<const uint8_t> msg, uint8_t* reply) {
  using namespace cookie_reply;
  storeHeader(reply, MessageType::CookieReply);
  storeLe32(reply + kReceiver, receiverIndex);
  randombytes_buf(reply + kNonce, 24);
  const uint8_t* mac1 = msg.data() + msg.size() - 32;
  crypto_aead_xchacha20poly1305_ietf_encrypt(reply + kCookie, nullptr, cookie.data(), 16, mac1, 16,
                                             nullptr, reply + kNonce, ourCookieKey.data());
}

bool consumeCookieReply(const Hash& peerCookieKey, std::span<const uint8_t> reply,
                        const Mac& sentMac1, Mac& cookie) {
  using namespace cookie_reply;
  if (reply.size() != kCookieReplySize) return false;
  return crypto_aead_xchacha20poly1305_ietf_decrypt(
             cookie.data(), nullptr, nullptr, reply.data() + kCookie, 32, sentMac1.data(), 16,
             reply.data() + kNonce, peerCookieKey.data()) == 0;
}

}  // namespace manifold::tunnel
