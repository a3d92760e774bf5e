// The age v1 file format (https://age-encryption.org/v1): the header parser, and the bech32 and
// base64 codings its keys and stanzas use. Pure functions over bytes, no I/O, no crypto (the
// sealing itself is in age_seal.hpp). A file is
//
//   age-encryption.org/v1\n
//   -> TYPE ARG ARG...\n          one or more recipient stanzas: "-> " then space-separated
//   BODY\n                          arguments, then the body in unpadded standard base64 wrapped
//   ...                             at 64 columns; the last body line is shorter than 64 (maybe
//   --- MAC\n                       empty). MAC: 43 base64 chars, HMAC-SHA256 over the header up
//   PAYLOAD                         to and including "---".
//
// PAYLOAD: a 16-byte nonce, then the STREAM of ChaCha20-Poly1305 chunks (64 KiB of plaintext +
// 16-byte tag each; the last one is shorter or flagged last, and is empty only when the whole
// plaintext is). The parser checks the grammar strictly (canonical base64, no trailing bytes on
// a line, argument characters) but cannot check the MAC, which needs the file key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::age {

inline constexpr std::string_view kVersionLine = "age-encryption.org/v1\n";
inline constexpr size_t kChunkSize = 64 * 1024;  // plaintext bytes per STREAM chunk
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kNonceSize = 16;         // payload nonce after the header
inline constexpr size_t kMaxHeader = 64 * 1024;  // longer headers are refused (not a limit of age)
inline constexpr size_t kMinPayload = kNonceSize + kTagSize;  // nonce + an empty last chunk

struct Stanza {
  std::string_view type;               // "X25519", "scrypt", ...
  std::vector<std::string_view> args;  // after the type
  std::string body;                    // decoded
};

struct Header {
  std::vector<Stanza> stanzas;
  size_t macInputLength = 0;  // bytes covered by the MAC: up to and including "---"
  uint8_t mac[32] = {};
  size_t length = 0;  // whole header including the final '\n'; the payload starts here
};

enum class ParseResult { Ok, Incomplete, Invalid };

// Parses the header at the start of `data`. Incomplete: `data` is a valid prefix of a header
// (more bytes may complete it); Invalid: it cannot be an age v1 binary header (plaintext, the
// ASCII-armored form, a grammar error, or longer than kMaxHeader). Views in `out` point into
// `data`.
ParseResult parseHeader(std::string_view data, Header& out);

// Standard base64 without padding, canonical (unused bits zero). Decode returns false on any
// other input.
std::string base64Encode(std::string_view bytes);
bool base64Decode(std::string_view text, std::string& out);

// Bech32 (BIP 173, without its 90-character limit, as age uses it). decode lowercases the hrp
// and refuses mixed case; encode writes lowercase (callers uppercase identities).
std::string bech32Encode(std::string_view hrp, std::string_view data);
bool bech32Decode(std::string_view text, std::string& hrp, std::string& data);

}  // namespace manifold::age
