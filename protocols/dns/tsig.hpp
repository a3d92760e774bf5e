// TSIG (RFC 8945): transaction signatures with HMAC-SHA256 and HMAC-SHA512 (libsodium), for zone
// transfers and NOTIFY. Pure functions over bytes: finding the TSIG RR of a message, verifying
// it, and writing one.
//
// TSIG RR (the last RR of the additional section; its owner is the key name, never compressed):
//   NAME key name, TYPE 250, CLASS ANY (255), TTL 0, RDLENGTH, RDATA =
//   algorithm name (wire) | time signed (48 bits, unix s) | fudge (16) | MAC size (16) | MAC |
//   original ID (16) | error (16) | other length (16) | other data
// The MAC is an HMAC over, in this order:
//   - a reply: the request's MAC (2-byte length + MAC); a later message of a stream: the previous
//     signed message's MAC (same form);
//   - the message without its TSIG RR (ARCOUNT one less, the original ID in place);
//   - the "variables": key name (canonical), class ANY, TTL 0, algorithm name, time signed,
//     fudge, error, other length, other data; for messages after the first of a stream only the
//     "timers" (time signed, fudge).
// Failures answered as NSD 4.6 does: NOTAUTH with a TSIG RR carrying BADKEY (unknown key or
// algorithm), BADSIG (wrong MAC) or BADTIME (outside the fudge, the server's time in other data),
// all without a MAC (RFC 8945 5.2.3 would sign BADTIME; NSD does not, and neither do we).
#pragma once

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/dns/wire.hpp"

namespace manifold::dns {

inline constexpr uint16_t kTypeTsig = 250;
inline constexpr uint16_t kTsigBadSig = 16, kTsigBadKey = 17, kTsigBadTime = 18;
inline constexpr uint16_t kTsigFudge = 300;  // seconds, as BIND and NSD sign
inline constexpr size_t kTsigMaxMac = 64;

// Reads a possibly compressed name at p[pos] (pointers followed within p[0..len)) into out,
// lowercased when `lower`; pos moves past it. False when malformed.
bool readName(const uint8_t* p, size_t len, size_t& pos, uint8_t* out, size_t& outLen,
              bool lower = true);

enum class TsigAlgorithm : uint8_t { HmacSha256, HmacSha512 };

struct TsigKey {
  std::string name;  // lowercase wire
  std::string text;  // as configured, for logs and errors
  TsigAlgorithm algorithm = TsigAlgorithm::HmacSha256;
  std::string secret;
  std::string_view algorithmName() const;  // wire "hmac-sha256." / "hmac-sha512."
  size_t macSize() const { return algorithm == TsigAlgorithm::HmacSha256 ? 32 : 64; }
  // Bytes a TSIG RR signed with this key takes (plus 6 of other data for BADTIME).
  size_t recordSize() const;
};

// "NAME hmac-sha256|hmac-sha512 BASE64"; false with why.
bool parseTsigKey(std::string_view text, TsigKey& out, std::string& why);
// The key of that (lowercase wire) name, or null.
const TsigKey* findTsigKey(const std::vector<TsigKey>& keys, std::string_view name);

struct TsigRecord {
  size_t offset = 0;  // where the TSIG RR starts: the signed message ends here
  uint8_t keyName[kMaxName];
  size_t keyNameLength = 0;
  uint8_t algorithm[kMaxName];
  size_t algorithmLength = 0;
  uint64_t timeSigned = 0;
  uint16_t fudge = 0;
  const uint8_t* mac = nullptr;
  uint16_t macSize = 0;
  uint16_t originalId = 0;
  uint16_t error = 0;
  const uint8_t* other = nullptr;
  uint16_t otherLength = 0;
  std::string_view key() const { return {reinterpret_cast<const char*>(keyName), keyNameLength}; }
  std::string_view macView() const { return {reinterpret_cast<const char*>(mac), macSize}; }
};

enum class TsigFind : uint8_t { None, Found, Malformed };
// The TSIG RR of a message (names lowercased). Malformed: a TSIG RR that is not the last RR, a
// bad class, or truncated data.
TsigFind findTsig(const uint8_t* msg, size_t len, TsigRecord& out);

// An HMAC in progress with a key.
class TsigMac {
 public:
  explicit TsigMac(const TsigKey& key);
  void update(const void* data, size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  void updatePriorMac(std::string_view mac);  // 2-byte length, then the MAC
  // Writes the MAC (key.macSize() bytes) into out.
  size_t final(uint8_t* out);

 private:
  TsigAlgorithm algorithm_;
  union {
    crypto_auth_hmacsha256_state s256;
    crypto_auth_hmacsha512_state s512;
  } state_;
};

// The TSIG variables (full) or timers only, as hashed after the message.
std::string tsigVariables(const TsigKey& key, uint64_t timeSigned, uint16_t fudge, uint16_t error,
                          std::string_view other, bool timersOnly);

enum class TsigStatus : uint8_t { Ok, BadKey, BadSig, BadTime };

// Verifies the TSIG `rec` found in msg[0..len). `priorMac`: empty for a request, the request's
// MAC for the first reply, the previous MAC for later messages of a stream (then `timersOnly`).
// `unsigned` holds earlier unsigned messages of a stream, hashed before this one. `now`: unix
// seconds. The key is looked up by name and must match the algorithm.
TsigStatus verifyTsig(const uint8_t* msg, size_t len, const TsigRecord& rec,
                      const std::vector<TsigKey>& keys, std::string_view priorMac, uint64_t now,
                      bool timersOnly = false, std::string_view unsignedBefore = {});

// A verified request: the key and MAC a reply is signed with, and the running MAC of a stream.
struct TsigState {
  const TsigKey* key = nullptr;
  std::string mac;  // the request's, then the last signed message's
  uint64_t time = 0;
};

// Writes a TSIG RR at out (cap bytes); returns its length, 0 when it does not fit.
size_t writeTsigRecord(uint8_t* out, size_t cap, const TsigKey& key, uint64_t timeSigned,
                       uint16_t originalId, uint16_t error, std::string_view mac,
                       std::string_view other);

// Signs msg[0..len) in place: appends the TSIG RR and bumps ARCOUNT. `priorMac` as for
// verifyTsig. The MAC is stored in `macOut` (when given) for the next message of a stream.
// Returns the new length, 0 when it does not fit `cap`.
size_t signTsig(uint8_t* msg, size_t len, size_t cap, const TsigKey& key, std::string_view priorMac,
                uint64_t timeSigned, bool timersOnly, std::string* macOut = nullptr,
                uint16_t error = 0, std::string_view other = {});

// An error reply's TSIG (no MAC, the request's key, algorithm and time; `other`: our time for
// BADTIME) appended to msg[0..len); returns the new length, 0 when it does not fit.
size_t appendUnsignedTsig(uint8_t* msg, size_t len, size_t cap, const TsigRecord& rec,
                          uint16_t error, std::string_view other = {});

}  // namespace manifold::dns
