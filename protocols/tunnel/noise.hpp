// The handshake and its key schedule: Noise_IKpsk2_25519_ChaChaPoly_SHA256, shaped like
// WireGuard's (which uses BLAKE2s; libsodium has SHA-256 and HMAC-SHA256, so HASH is SHA-256
// and the KDF is HKDF over HMAC-SHA256). mac1/mac2 and cookies use keyed BLAKE2b-128 and
// XChaCha20-Poly1305. PROTOCOL.md states every step; t/unit/tunnel_noise_test.cpp holds
// known answers computed by an independent implementation.
//
// Pure functions over caller-owned buffers: no I/O, no clock (timestamps and ephemeral keys
// are arguments), so the schedule is testable and the responder is fuzzable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "protocols/tunnel/keys.hpp"
#include "protocols/tunnel/packet.hpp"

namespace manifold::tunnel {

using Hash = std::array<uint8_t, 32>;
using Mac = std::array<uint8_t, 16>;
using Timestamp = std::array<uint8_t, 12>;  // TAI64N: big-endian, so memcmp orders it

inline constexpr char kConstruction[] = "Noise_IKpsk2_25519_ChaChaPoly_SHA256";
inline constexpr char kIdentifier[] = "Manifold tunnel v1";
inline constexpr char kLabelMac1[] = "mac1----";
inline constexpr char kLabelCookie[] = "cookie--";

// ---- primitives ----
Hash hash(std::span<const uint8_t> a, std::span<const uint8_t> b = {});
Hash hmac(std::span<const uint8_t> key, std::span<const uint8_t> data);
// HKDF-Expand of HMAC(chain, input) into n (1..3) outputs, as Noise's HKDF.
void kdf(const Hash& chain, std::span<const uint8_t> input, Hash* out, unsigned n);
// X25519; false when the result is all zero (a low-order public key).
bool dh(Key& out, const Key& privateKey, const Key& publicKey);
// ChaCha20-Poly1305 (IETF): nonce = 4 zero bytes + counter (LE). out has plain.size() + 16.
void seal(uint8_t* out, const uint8_t* key, uint64_t counter, std::span<const uint8_t> plain,
          std::span<const uint8_t> ad);
// out has cipher.size() - 16; false when the tag does not verify.
bool open(uint8_t* out, const uint8_t* key, uint64_t counter, std::span<const uint8_t> cipher,
          std::span<const uint8_t> ad);
// Keyed BLAKE2b, 16 bytes.
Mac mac(std::span<const uint8_t> key, std::span<const uint8_t> data);
// TAI64N of a wall-clock time in seconds.
Timestamp tai64n(double unixSeconds);

// ---- identities ----
struct Identity {
  Key privateKey{}, publicKey{};
  Hash mac1Key{};    // HASH(LABEL_MAC1 || publicKey): checks mac1 of what is sent to us
  Hash cookieKey{};  // HASH(LABEL_COOKIE || publicKey): seals our cookie replies
  void set(const Key& privateKey);
};
struct PeerKeys {
  Key publicKey{};
  Key psk{};           // all zero when none
  Key staticShared{};  // DH(our private, their public), computed once
  Hash mac1Key{};      // HASH(LABEL_MAC1 || their public): mac1 of what we send them
  Hash cookieKey{};    // HASH(LABEL_COOKIE || their public): opens their cookie replies
  // False when their key is a low-order point.
  bool set(const Identity& self, const Key& publicKey, const Key& psk);
};
Hash mac1KeyOf(const Key& publicKey);

struct SessionKeys {
  Key send{}, receive{};
};

// State between messages: chaining key, transcript hash, and the ephemeral key pair.
struct HandshakeState {
  Hash chain{}, hash{};
  Key ephemeralPrivate{}, ephemeralPublic{};
  Key remoteEphemeral{};
  uint32_t localIndex = 0, remoteIndex = 0;
};

// Initiator: fills msg[0..kMac1) of the kInitiationSize message (mac1/mac2 are added by
// addMacs). False only for a degenerate key.
bool createInitiation(const Identity& self, const PeerKeys& peer, const Key& ephemeralPrivate,
                      const Timestamp& now, uint32_t senderIndex, uint8_t* msg,
                      HandshakeState& state);

// Responder: what an initiation proved. findPeer maps the initiator's static key to its
// PeerKeys (nullptr: unknown, the message is dropped).
struct Initiation {
  HandshakeState state;
  Key initiatorStatic{};
  Timestamp timestamp{};
  const PeerKeys* peer = nullptr;
};
bool consumeInitiation(const Identity& self, std::span<const uint8_t> msg,
                       const std::function<const PeerKeys*(const Key&)>& findPeer, Initiation& out);
// Responder: fills msg[0..kMac1) of the kResponseSize message and the session keys.
bool createResponse(const PeerKeys& peer, Initiation& in, const Key& ephemeralPrivate,
                    uint32_t senderIndex, uint8_t* msg, SessionKeys& keys);
// Initiator: checks the response to `state` and derives the session keys.
bool consumeResponse(const Identity& self, const PeerKeys& peer, const HandshakeState& state,
                     std::span<const uint8_t> msg, SessionKeys& keys);

// ---- mac1 / mac2 / cookies ----
// Writes mac1 (and mac2 from cookie, or zeros) into a message of `size` bytes whose macs sit at
// its end.
void addMacs(uint8_t* msg, size_t size, const Hash& mac1Key, const Mac* cookie);
bool mac1Valid(std::span<const uint8_t> msg, const Hash& mac1Key);
bool mac2Valid(std::span<const uint8_t> msg, const Mac& cookie);
// The cookie a source earns: MAC(secret, address bytes || port).
Mac cookieFor(const Key& secret, std::span<const uint8_t> sourceAddress, uint16_t port);
// A cookie reply for the message `msg` (its mac1 is the associated data).
void createCookieReply(const Hash& ourCookieKey, uint32_t receiverIndex, const Mac& cookie,
                       std::span<const uint8_t> msg, uint8_t* reply);
// The cookie in a reply to our message whose mac1 was `sentMac1`.
bool consumeCookieReply(const Hash& peerCookieKey, std::span<const uint8_t> reply,
                        const Mac& sentMac1, Mac& cookie);

}  // namespace manifold::tunnel
