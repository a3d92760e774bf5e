#include "protocols/static/age_seal.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "protocols/static/age_format.hpp"

namespace manifold::age {

namespace {

constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::string_view kX25519Info = "age-encryption.org/v1/X25519";
constexpr size_t kFileKeySize = 16;

void ensureSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void hmac(std::string_view key, std::string_view message, uint8_t out[32]) {
  crypto_auth_hmacsha256_state state;
  static const unsigned char kNoKey = 0;
  crypto_auth_hmacsha256_init(
      &state, key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data()),
      key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, out);
}

// HKDF-SHA256 (RFC 5869) with 32 bytes of output: one expand block.
void hkdf(std::string_view ikm, std::string_view salt, std::string_view info, uint8_t out[32]) {
  uint8_t prk[32];
  hmac(salt, ikm, prk);
  std::string block(info);
  block.push_back('\x01');
  hmac(std::string_view(reinterpret_cast<char*>(prk), 32), block, out);
  sodium_memzero(prk, sizeof prk);
}

std::string_view view(const uint8_t* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

void chunkNonce(uint64_t counter, bool last, uint8_t nonce[12]) {
  memset(nonce, 0, 12);
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<uint8_t>(counter >> (8 * i));
  nonce[11] = last ? 1 : 0;
}

void headerMac(const uint8_t fileKey[kFileKeySize], std::string_view macInput, uint8_t out[32]) {
  uint8_t key[32];
  hkdf(view(fileKey, kFileKeySize), {}, "header", key);
  hmac(view(key, 32), macInput, out);
}

}  // namespace

bool parseRecipient(std::string_view text, Key32& publicKey) {
  std::string hrp, data;
  if (!bech32Decode(text, hrp, data) || hrp != kRecipientHrp || data.size() != 32) return false;
  memcpy(publicKey.data(), data.data(), 32);
  return true;
}

bool parseIdentity(std::string_view text, Key32& secretKey) {
  std::string hrp, data;
  if (!bech32Decode(text, hrp, data) || hrp != kIdentityHrp || data.size() != 32) return false;
  memcpy(secretKey.data(), data.data(), 32);
  return true;
}

std::string formatRecipient(const Key32& publicKey) {
  return bech32Encode(kRecipientHrp, view(publicKey.data(), 32));
}

std::string formatIdentity(const Key32& secretKey) {
  std::string s = bech32Encode(kIdentityHrp, view(secretKey.data(), 32));
  for (char& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return s;
}

Key32 publicKeyOf(const Key32& secretKey) {
  Key32 out;
  crypto_scalarmult_base(out.data(), secretKey.data());
  return out;
}

Key32 generateSecretKey() {
  ensureSodium();
  Key32 out;
  randombytes_buf(out.data(), out.size());
  return out;
}

bool parseIdentityFile(std::string_view text, std::vector<Key32>& out) {
  size_t start = 0, before = out.size();
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == text.npos ? text.npos : nl - start);
    start = nl == text.npos ? text.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    Key32 key;
    if (!parseIdentity(line, key)) return false;
    out.push_back(key);
  }
  return out.size() > before;
}

// ---- Sealer ----

Sealer::Sealer(const std::vector<Key32>& recipients) {
  ensureSodium();
  uint8_t fileKey[kFileKeySize];
  randombytes_buf(fileKey, sizeof fileKey);
  prefix_.assign(kVersionLine);
  for (const Key32& recipient : recipients) {
    Key32 ephemeral = generateSecretKey();
    Key32 share = publicKeyOf(ephemeral);
    uint8_t shared[32];
    if (crypto_scalarmult(shared, ephemeral.data(), recipient.data()) != 0)
      throw std::runtime_error("recipient is a low-order point");
    std::string salt =
        std::string(view(share.data(), 32)) + std::string(view(recipient.data(), 32));
    uint8_t wrapKey[32];
    hkdf(view(shared, 32), salt, kX25519Info, wrapKey);
    uint8_t body[kFileKeySize + kTagSize];
    static const uint8_t kZeroNonce[12] = {};
    crypto_aead_chacha20poly1305_ietf_encrypt(body, nullptr, fileKey, kFileKeySize, nullptr, 0,
                                              nullptr, kZeroNonce, wrapKey);
    prefix_.append("-> X25519 ").append(base64Encode(view(share.data(), 32))).append("\n");
    prefix_.append(base64Encode(view(body, sizeof body))).append("\n");
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(wrapKey, sizeof wrapKey);
  }
  prefix_.append("---");
  uint8_t mac[32];
  headerMac(fileKey, prefix_, mac);
  prefix_.append(" ").append(base64Encode(view(mac, 32))).append("\n");
  uint8_t nonce[kNonceSize];
  randombytes_buf(nonce, sizeof nonce);
  prefix_.append(view(nonce, sizeof nonce));
  hkdf(view(fileKey, kFileKeySize), view(nonce, sizeof nonce), "payload", payloadKey_);
  sodium_memzero(fileKey, sizeof fileKey);
}

void Sealer::sealChunk(size_t length, bool last, std::string& out) {
  uint8_t nonce[12];
  chunkNonce(counter_++, last, nonce);
  size_t at = out.size();
  out.resize(at + length + kTagSize);
  crypto_aead_chacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(out.data() + at),
                                            nullptr,
                                            reinterpret_cast<const unsigned char*>(pending_.data()),
                                            length, nullptr, 0, nullptr, nonce, payloadKey_);
  pending_.erase(0, length);
}

void Sealer::update(std::string_view plaintext, std::string& out) {
  out.append(prefix_);
  prefix_.clear();
  pending_.append(plaintext);
  // A full chunk is sealed as "not last" only once more plaintext follows it.
  while (pending_.size() > kChunkSize) sealChunk(kChunkSize, false, out);
}

void Sealer::finish(std::string& out) {
  out.append(prefix_);
  prefix_.clear();
  sealChunk(pending_.size(), true, out);
  sodium_memzero(payloadKey_, sizeof payloadKey_);
}

// ---- Opener ----

bool Opener::fail(std::string why) {
  if (why_.empty()) why_ = std::move(why);
  return false;
}

bool Opener::openHeader() {
  Header header;
  switch (parseHeader(buffer_, header)) {
    case ParseResult::Incomplete:
      return true;
    case ParseResult::Invalid:
      return fail("not an age v1 file (or a malformed header)");
    case ParseResult::Ok:
      break;
  }
  bool found = false;
  for (const Stanza& stanza : header.stanzas) {
    if (stanza.type != "X25519") continue;
    std::string share;
    if (stanza.args.size() != 1 || !base64Decode(stanza.args[0], share) || share.size() != 32 ||
        stanza.body.size() != kFileKeySize + kTagSize)
      return fail("malformed X25519 stanza");
    for (const Key32& identity : identities_) {
      uint8_t shared[32];
      if (crypto_scalarmult(shared, identity.data(),
                            reinterpret_cast<const unsigned char*>(share.data())) != 0)
        return fail("X25519 stanza with a low-order point");
      Key32 mine = publicKeyOf(identity);
      std::string salt = share + std::string(view(mine.data(), 32));
      uint8_t wrapKey[32];
      hkdf(view(shared, 32), salt, kX25519Info, wrapKey);
      static const uint8_t kZeroNonce[12] = {};
      unsigned long long length = 0;
      if (crypto_aead_chacha20poly1305_ietf_decrypt(
              fileKey_, &length, nullptr,
              reinterpret_cast<const unsigned char*>(stanza.body.data()), stanza.body.size(),
              nullptr, 0, kZeroNonce, wrapKey) == 0) {
        found = true;
        break;
      }
    }
    if (found) break;
  }
  if (!found) return fail("no identity matches a recipient of the file");
  uint8_t mac[32];
  headerMac(fileKey_, std::string_view(buffer_).substr(0, header.macInputLength), mac);
  if (sodium_memcmp(mac, header.mac, 32) != 0) return fail("header MAC mismatch");
  buffer_.erase(0, header.length);
  headerDone_ = true;
  return true;
}

bool Opener::openChunk(std::string_view chunk, bool last, std::string& out) {
  if (chunk.size() < kTagSize) return fail("truncated payload");
  if (last && chunk.size() == kTagSize && counter_ > 0) return fail("empty last chunk");
  uint8_t nonce[12];
  chunkNonce(counter_++, last, nonce);
  size_t at = out.size();
  out.resize(at + chunk.size() - kTagSize);
  unsigned long long length = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data() + at), &length, nullptr,
          reinterpret_cast<const unsigned char*>(chunk.data()), chunk.size(), nullptr, 0, nonce,
          payloadKey_) != 0) {
    out.resize(at);
    return fail("payload authentication failed (tampered or truncated)");
  }
  sawChunk_ = true;
  return true;
}

bool Opener::update(std::string_view ciphertext, std::string& out) {
  if (!why_.empty()) return false;
  buffer_.append(ciphertext);
  if (!headerDone_ && (!openHeader() || !headerDone_)) return why_.empty();
  if (!payloadStarted_) {
    if (buffer_.size() < kNonceSize) return true;
    hkdf(view(fileKey_, kFileKeySize), std::string_view(buffer_).substr(0, kNonceSize), "payload",
         payloadKey_);
    buffer_.erase(0, kNonceSize);
    payloadStarted_ = true;
  }
  // A full chunk is opened as "not last" only once bytes follow it.
  size_t full = kChunkSize + kTagSize, done = 0;
  while (buffer_.size() - done > full) {
    if (!openChunk(std::string_view(buffer_).substr(done, full), false, out)) return false;
    done += full;
  }
  buffer_.erase(0, done);
  return true;
}

bool Opener::finish(std::string& out) {
  if (!update({}, out)) return false;
  if (!headerDone_) return fail("truncated header");
  if (!payloadStarted_) return fail("truncated payload");
  if (buffer_.empty() && sawChunk_) return fail("truncated payload (no last chunk)");
  bool ok = openChunk(buffer_, true, out);
  buffer_.clear();
  return ok;
}

std::string seal(std::string_view plaintext, const std::vector<Key32>& recipients) {
  Sealer sealer(recipients);
  std::string out;
  sealer.update(plaintext, out);
  sealer.finish(out);
  return out;
}

bool open(std::string_view ciphertext, const std::vector<Key32>& identities, std::string& out,
          std::string* why) {
  Opener opener(identities);
  out.clear();
  bool ok = opener.update(ciphertext, out) && opener.finish(out);
  if (!ok) {
    out.clear();
    if (why) *why = opener.why();
  }
  return ok;
}

}  // namespace manifold::age
