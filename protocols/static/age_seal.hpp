// Sealing and opening files in the age v1 format (age_format.hpp) for X25519 recipients, with
// libsodium, following the format's key schedule:
//   file key      16 random bytes
//   stanza        "-> X25519 base64(ephemeral share)", body = ChaCha20-Poly1305(wrap key,
//                 nonce 0, file key); wrap key = HKDF-SHA256(ikm = X25519(ephemeral, recipient),
//                 salt = ephemeral share || recipient, info "age-encryption.org/v1/X25519")
//   header MAC    HMAC-SHA256(HKDF(ikm = file key, salt = "", info "header"), header to "---")
//   payload       nonce (16 random bytes); key = HKDF(ikm = file key, salt = nonce,
//                 info "payload"); chunk i = ChaCha20-Poly1305(key, nonce = 11-byte big-endian i
//                 || last flag, 64 KiB of plaintext)
// Recipients are bech32 "age1..." public keys, identities "AGE-SECRET-KEY-1..." secret keys:
// the same strings age-keygen writes, so files go both ways between this and the age command.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::age {

using Key32 = std::array<uint8_t, 32>;

bool parseRecipient(std::string_view text, Key32& publicKey);  // "age1..."
bool parseIdentity(std::string_view text, Key32& secretKey);   // "AGE-SECRET-KEY-1..."
std::string formatRecipient(const Key32& publicKey);
std::string formatIdentity(const Key32& secretKey);
Key32 publicKeyOf(const Key32& secretKey);
Key32 generateSecretKey();
// Appends the identities of an identity file (age-keygen's format: '#' comments, one key a
// line); false when a line is not an identity or there is none.
bool parseIdentityFile(std::string_view text, std::vector<Key32>& out);

// Streaming sealer: update() with plaintext pieces of any size, then finish(); the output (the
// header and payload nonce come with the first call) is appended to `out`.
class Sealer {
 public:
  explicit Sealer(const std::vector<Key32>& recipients);
  void update(std::string_view plaintext, std::string& out);
  void finish(std::string& out);

 private:
  void sealChunk(size_t length, bool last, std::string& out);
  std::string prefix_;  // header and nonce, not yet written
  uint8_t payloadKey_[32];
  uint64_t counter_ = 0;
  std::string pending_;  // plaintext not yet sealed (at most one chunk)
};

// Streaming opener: feed ciphertext with update(); plaintext is appended to `out`. Errors
// (wrong key, tampered or truncated data) make update()/finish() return false with why().
class Opener {
 public:
  explicit Opener(const std::vector<Key32>& identities) : identities_(identities) {}
  bool update(std::string_view ciphertext, std::string& out);
  bool finish(std::string& out);
  const std::string& why() const { return why_; }

 private:
  bool fail(std::string why);
  bool openHeader();
  bool openChunk(std::string_view chunk, bool last, std::string& out);
  std::vector<Key32> identities_;
  std::string buffer_;
  bool headerDone_ = false;
  bool payloadStarted_ = false;
  bool sawChunk_ = false;
  uint8_t payloadKey_[32] = {};
  uint8_t fileKey_[16] = {};
  uint64_t counter_ = 0;
  std::string why_;
};

// Whole-buffer conveniences.
std::string seal(std::string_view plaintext, const std::vector<Key32>& recipients);
bool open(std::string_view ciphertext, const std::vector<Key32>& identities, std::string& out,
          std::string* why = nullptr);

}  // namespace manifold::age
