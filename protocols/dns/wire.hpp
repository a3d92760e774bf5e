// DNS wire constants and domain-name helpers shared by the zone parser, the query codec and the
// answer builder.
//
// Names are kept in uncompressed wire form (RFC 1035 3.1): a sequence of labels, each a length
// byte (1-63) and that many bytes, ended by the zero-length root label; at most 255 bytes in all.
// Lookup keys are the same bytes lowercased (ASCII only, RFC 4343), so matching is
// case-insensitive while the question keeps the client's case (0x20 randomisation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace manifold::dns {

inline constexpr uint16_t kTypeA = 1, kTypeNs = 2, kTypeCname = 5, kTypeSoa = 6, kTypePtr = 12,
                          kTypeHinfo = 13, kTypeMx = 15, kTypeTxt = 16, kTypeRp = 17,
                          kTypeAaaa = 28, kTypeSrv = 33, kTypeNaptr = 35, kTypeOpt = 41,
                          kTypeSshfp = 44, kTypeTlsa = 52, kTypeSmimea = 53, kTypeOpenpgpkey = 61,
                          kTypeSpf = 99, kTypeAxfr = 252, kTypeIxfr = 251, kTypeAny = 255,
                          kTypeUri = 256, kTypeCaa = 257;
// DNSSEC types (RFC 4034, 5155, 7344): read from signed zones, answered with DO (dnssec_*.cpp).
inline constexpr uint16_t kTypeDs = 43, kTypeRrsig = 46, kTypeNsec = 47, kTypeDnskey = 48,
                          kTypeNsec3 = 50, kTypeNsec3param = 51, kTypeCds = 59, kTypeCdnskey = 60;
inline constexpr uint8_t kOpcodeQuery = 0, kOpcodeNotify = 4;
// Header flag bits (RFC 1035 4.1.1): response, authoritative answer, truncated.
inline constexpr uint16_t kFlagQr = 0x8000, kFlagAa = 0x0400, kFlagTc = 0x0200;
inline constexpr uint16_t kClassIn = 1, kClassCh = 3, kClassAny = 255;

inline constexpr uint8_t kRcodeNoError = 0, kRcodeFormErr = 1, kRcodeServFail = 2,
                         kRcodeNxDomain = 3, kRcodeNotImp = 4, kRcodeRefused = 5, kRcodeNotAuth = 9;
inline constexpr uint16_t kRcodeBadVers = 16;  // extended: upper 8 bits go in the OPT TTL

inline constexpr size_t kMaxName = 255;
inline constexpr size_t kMaxLabel = 63;
inline constexpr size_t kHeaderSize = 12;
inline constexpr uint16_t kEdnsOptionEcs = 8;      // RFC 7871 client subnet
inline constexpr uint16_t kEdnsOptionCookie = 10;  // RFC 7873 DNS cookies

inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint8_t lowerAscii(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Length of the uncompressed wire name at p (bounded by end); 0 when malformed.
size_t wireNameLength(const uint8_t* p, const uint8_t* end);
// Lowercased copy of a wire name.
std::string lowerName(std::string_view wire);
// True when `name` equals `suffix` or lies below it (both lowercase wire names).
bool isSubdomain(std::string_view name, std::string_view suffix);
// Offsets of the suffixes of a wire name that start at each label (at most `max`), the name
// itself first and the root last; returns how many.
unsigned labelOffsets(std::string_view name, size_t* out, unsigned max);
// Number of labels, root excluded.
unsigned labelCount(std::string_view wire);
// Presentation form: "www.example.com." ("." for the root); escapes dots and odd bytes.
std::string nameToText(std::string_view wire);
// Parses presentation text; relative names (no trailing dot) get `origin` appended ("@" is the
// origin). False with `why` on a bad label, an empty label or a name over 255 bytes.
bool textToName(std::string_view text, std::string_view origin, std::string& out, std::string& why);
// Type mnemonic ("A", "TYPE65280") and its inverse (case-insensitive, also accepts TYPEnnn);
// false when unknown.
std::string typeName(uint16_t type);
bool parseTypeName(std::string_view text, uint16_t& type);

}  // namespace manifold::dns
