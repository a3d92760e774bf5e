// RDATA of a master-file entry: presentation form to uncompressed wire form (RFC 1035 5.1 and
// each type's own RFC), and the RFC 3597 generic form "\# LENGTH HEX" for any type. One table
// of field layouts per type drives both the text parser and the check of generic data given for
// a type we know (NSD refuses "A \# 3 ..." too, so a bad RP cannot sneak in as TYPE17).
//
// Types by name: SOA NS A AAAA CNAME MX TXT SRV PTR CAA HINFO RP NAPTR SSHFP TLSA SMIMEA
// OPENPGPKEY SPF URI, and DS CDS DNSKEY CDNSKEY RRSIG NSEC NSEC3 NSEC3PARAM (dnssec_text.hpp).
// Names inside RDATA come out absolute and uncompressed; only the RFC 1035 types among them are
// ever compressed when written (PacketWriter::writeRdata), RP and NAPTR names never (RFC 3597 4).
// Hex and base64 fields may be split by whitespace, as NSD accepts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::dns {

// One field as the tokenizer cut it: escapes still in the text, quotes removed.
struct RdataToken {
  std::string text;
  bool quoted = false;
};

// Appends the wire RDATA of `tokens` to `out`; false with `why` (no file, line or type in it).
// Relative names get `origin` (a wire name).
bool parseRdata(uint16_t type, const std::vector<RdataToken>& tokens, std::string_view origin,
                std::string& out, std::string& why);

// True when `rdata` is well formed for `type` (always for types without a layout here).
bool checkRdataWire(uint16_t type, std::string_view rdata, std::string& why);

}  // namespace manifold::dns
