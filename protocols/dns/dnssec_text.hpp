// Presentation forms of the DNSSEC fields (RFC 4034 and 5155) that rdata_text's layouts use:
// RRSIG times, NSEC/NSEC3 type bitmaps, NSEC3 salts and hashed names. Pure.
//
// Wire forms: a time is 32-bit seconds since the epoch (serial arithmetic, RFC 4034 3.1.5),
// written YYYYMMDDHHmmSS or as plain seconds; a type bitmap is windows {window, length 1-32,
// bitmap bytes} in increasing window order with bit 0 of byte 0 = type window*256 (RFC 4034
// 4.1.2); a salt is a length byte and the bytes ("-" = empty); an NSEC3 next hashed owner is a
// length byte and the hash, written in base32hex without padding (RFC 4648 7).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::dns {

bool parseDnssecTime(std::string_view text, uint32_t& out);
// "YYYYMMDDHHmmSS" of a time (UTC).
std::string dnssecTimeText(uint32_t t);
// Type mnemonics to a bitmap appended to out; false with why on an unknown type.
bool appendTypeBitmap(const std::vector<std::string_view>& types, std::string& out,
                      std::string& why);
// Length of a well-formed bitmap occupying all of `wire` (true) or why not.
bool checkTypeBitmap(std::string_view wire);
// True when the bitmap lists `type`.
bool bitmapHas(std::string_view wire, uint16_t type);
bool base32HexDecode(std::string_view text, std::string& out);
std::string base32HexEncode(std::string_view bytes);

}  // namespace manifold::dns
