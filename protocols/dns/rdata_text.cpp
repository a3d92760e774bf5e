#include "protocols/dns/rdata_text.hpp"

#include <arpa/inet.h>
#include <sodium.h>

#include <cctype>

#include "protocols/dns/dnssec_text.hpp"
#include "protocols/dns/wire.hpp"
#include "protocols/dns/zone_parser.hpp"

namespace manifold::dns {

namespace {

enum class Field : uint8_t {
  kName,  // a domain name
  kU8,
  kU16,
  kU32,
  kTimer,  // 32-bit seconds, TTL units allowed (SOA timers)
  kIpv4,
  kIpv6,
  kString,     // one <character-string>: length byte and up to 255 bytes
  kStrings,    // one or more character-strings, to the end
  kTag,        // CAA tag: 1-15 letters and digits, length-prefixed
  kOctets,     // one string without length prefix, to the end (CAA value; may be empty)
  kUriTarget,  // the same, not empty (RFC 7553 4.4)
  kHex,        // hex in whitespace-split chunks, to the end, not empty
  kBase64,     // base64 in chunks, to the end, not empty
  kType,       // a type mnemonic as 16 bits (RRSIG type covered)
  kTime,       // RRSIG time: YYYYMMDDHHmmSS or seconds, 32 bits
  kBitmap,     // NSEC/NSEC3 type bitmap: type mnemonics to the end, may be empty
  kSalt,       // NSEC3 salt: hex or "-", length-prefixed
  kBase32,     // NSEC3 next hashed owner: base32hex, length-prefixed
};

struct FieldSpec {
  Field kind;
  const char* what;
};

struct Layout {
  uint16_t type;
  uint8_t count;
  FieldSpec fields[9];
};

using F = Field;
constexpr FieldSpec kTimer{F::kTimer, "SOA timer"};
// TLSA (RFC 6698 2.2) and SMIMEA (RFC 8162 2) share one layout.
constexpr Layout tlsaLayout(uint16_t type) {
  return {type,
          4,
          {{F::kU8, "usage"},
           {F::kU8, "selector"},
           {F::kU8, "matching type"},
           {F::kHex, "association data"}}};
}
// DS and CDS (RFC 4034 5.3, RFC 7344), DNSKEY and CDNSKEY (RFC 4034 2.2).
constexpr Layout dsLayout(uint16_t type) {
  return {
      type,
      4,
      {{F::kU16, "key tag"}, {F::kU8, "algorithm"}, {F::kU8, "digest type"}, {F::kHex, "digest"}}};
}
constexpr Layout dnskeyLayout(uint16_t type) {
  return {type,
          4,
          {{F::kU16, "flags"}, {F::kU8, "protocol"}, {F::kU8, "algorithm"}, {F::kBase64, "key"}}};
}
constexpr FieldSpec kIterations{F::kU16, "iterations"};
constexpr Layout kLayouts[] = {
    dsLayout(kTypeDs),
    dsLayout(kTypeCds),
    dnskeyLayout(kTypeDnskey),
    dnskeyLayout(kTypeCdnskey),
    {kTypeRrsig,
     9,
     {{F::kType, "type covered"},
      {F::kU8, "algorithm"},
      {F::kU8, "labels"},
      {F::kU32, "original TTL"},
      {F::kTime, "expiration"},
      {F::kTime, "inception"},
      {F::kU16, "key tag"},
      {F::kName, "signer"},
      {F::kBase64, "signature"}}},
    {kTypeNsec, 2, {{F::kName, "next name"}, {F::kBitmap, "type bitmap"}}},  // RFC 4034 4.2
    {kTypeNsec3,                                                             // RFC 5155 3.3
     6,
     {{F::kU8, "hash algorithm"},
      {F::kU8, "flags"},
      kIterations,
      {F::kSalt, "salt"},
      {F::kBase32, "next hashed owner"},
      {F::kBitmap, "type bitmap"}}},
    {kTypeNsec3param,
     4,
     {{F::kU8, "hash algorithm"}, {F::kU8, "flags"}, kIterations, {F::kSalt, "salt"}}},
    {kTypeA, 1, {{F::kIpv4, "IPv4 address"}}},
    {kTypeAaaa, 1, {{F::kIpv6, "IPv6 address"}}},
    {kTypeNs, 1, {{F::kName, "name"}}},
    {kTypeCname, 1, {{F::kName, "name"}}},
    {kTypePtr, 1, {{F::kName, "name"}}},
    {kTypeMx, 2, {{F::kU16, "preference"}, {F::kName, "exchange"}}},
    {kTypeSrv,
     4,
     {{F::kU16, "priority"}, {F::kU16, "weight"}, {F::kU16, "port"}, {F::kName, "target"}}},
    {kTypeSoa,
     7,
     {{F::kName, "mname"},
      {F::kName, "rname"},
      {F::kU32, "serial"},
      kTimer,
      kTimer,
      kTimer,
      kTimer}},
    {kTypeTxt, 1, {{F::kStrings, "string"}}},
    {kTypeSpf, 1, {{F::kStrings, "string"}}},  // RFC 7208 3.1: the TXT format
    {kTypeCaa, 3, {{F::kU8, "flags"}, {F::kTag, "tag"}, {F::kOctets, "value"}}},
    {kTypeHinfo, 2, {{F::kString, "cpu"}, {F::kString, "os"}}},
    {kTypeRp, 2, {{F::kName, "mbox"}, {F::kName, "txt"}}},
    {kTypeNaptr,
     6,
     {{F::kU16, "order"},
      {F::kU16, "preference"},
      {F::kString, "flags"},
      {F::kString, "services"},
      {F::kString, "regexp"},
      {F::kName, "replacement"}}},
    {kTypeSshfp,
     3,
     {{F::kU8, "algorithm"}, {F::kU8, "fingerprint type"}, {F::kHex, "fingerprint"}}},
    tlsaLayout(kTypeTlsa),
    tlsaLayout(kTypeSmimea),
    {kTypeOpenpgpkey, 1, {{F::kBase64, "key"}}},  // RFC 7929 2.3
    {kTypeUri,
     3,
     {{F::kU16, "priority"}, {F::kU16, "weight"}, {F::kUriTarget, "target"}}},  // RFC 7553
};

const Layout* findLayout(uint16_t type) {
  for (const auto& l : kLayouts)
    if (l.type == type) return &l;
  return nullptr;
}

// Fields that take every remaining token.
bool takesRest(Field f) {
  return f == F::kStrings || f == F::kHex || f == F::kBase64 || f == F::kBitmap;
}

bool parseUint(std::string_view text, uint64_t max, uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > max) return false;
  }
  out = v;
  return true;
}

void appendBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int k = bytes - 1; k >= 0; --k) out.push_back(static_cast<char>(v >> (8 * k)));
}

// Decodes \X and \DDD escapes of a character-string; false on a bad \DDD.
bool unescape(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 >= in.size()) return false;
    if (isdigit(static_cast<unsigned char>(in[i + 1]))) {
      if (i + 3 >= in.size() || !isdigit(static_cast<unsigned char>(in[i + 2])) ||
          !isdigit(static_cast<unsigned char>(in[i + 3])))
        return false;
      int v = (in[i + 1] - '0') * 100 + (in[i + 2] - '0') * 10 + (in[i + 3] - '0');
      if (v > 255) return false;
      out.push_back(static_cast<char>(v));
      i += 3;
    } else {
      out.push_back(in[++i]);
    }
  }
  return true;
}

// Hex digits of tokens[from..] (whitespace between chunks already gone) appended as bytes.
bool appendHex(const std::vector<RdataToken>& t, size_t from, std::string& out, std::string& why) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int high = -1;
  for (size_t i = from; i < t.size(); ++i) {
    for (char c : t[i].text) {
      int v = nib(c);
      if (v < 0) {
        why = "bad hex '" + t[i].text + "'";
        return false;
      }
      if (high < 0) {
        high = v;
      } else {
        out.push_back(static_cast<char>(high << 4 | v));
        high = -1;
      }
    }
  }
  if (high >= 0) {
    why = "odd number of hex digits";
    return false;
  }
  return true;
}

bool appendBase64(const std::vector<RdataToken>& t, size_t from, std::string& out,
                  std::string& why) {
  std::string text;
  for (size_t i = from; i < t.size(); ++i) text += t[i].text;
  std::string bin(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    why = "bad base64";
    return false;
  }
  out.append(bin.data(), len);
  return true;
}

// One field from t[i] (advanced past what it used).
bool parseField(const FieldSpec& f, const std::vector<RdataToken>& t, size_t& i,
                std::string_view origin, std::string& out, std::string& why) {
  auto bad = [&](const std::string& text) {
    why = std::string("bad ") + f.what + " '" + text + "'";
    return false;
  };
  if (f.kind == F::kBitmap) {  // the only field that may have no token at all
    std::vector<std::string_view> types;
    for (; i < t.size(); ++i) types.push_back(t[i].text);
    return appendTypeBitmap(types, out, why);
  }
  const std::string& text = t[i].text;
  uint64_t v = 0;
  std::string s;
  switch (f.kind) {
    case F::kName:
      if (!textToName(text, origin, s, why)) return false;
      out += s;
      break;
    case F::kU8:
    case F::kU16:
    case F::kU32: {
      int bytes = f.kind == F::kU8 ? 1 : f.kind == F::kU16 ? 2 : 4;
      if (!parseUint(text, (uint64_t{1} << (8 * bytes)) - 1, v)) return bad(text);
      appendBigEndian(out, v, bytes);
      break;
    }
    case F::kTimer: {
      uint32_t ttl;
      if (!parseTtl(text, ttl)) return bad(text);
      appendBigEndian(out, ttl, 4);
      break;
    }
    case F::kIpv4:
    case F::kIpv6: {
      unsigned char a[16];
      if (inet_pton(f.kind == F::kIpv4 ? AF_INET : AF_INET6, text.c_str(), a) != 1)
        return bad(text);
      out.append(reinterpret_cast<const char*>(a), f.kind == F::kIpv4 ? 4 : 16);
      break;
    }
    case F::kString:
    case F::kStrings:
      for (size_t end = f.kind == F::kString ? i + 1 : t.size(); i < end; ++i) {
        if (!unescape(t[i].text, s)) {
          why = "bad escape in '" + t[i].text + "'";
          return false;
        }
        if (s.size() > 255) {
          why = "string longer than 255 bytes";
          return false;
        }
        out.push_back(static_cast<char>(s.size()));
        out += s;
      }
      return true;
    case F::kTag:
      if (text.empty() || text.size() > 15) return bad(text);
      for (char c : text)
        if (!isalnum(static_cast<unsigned char>(c))) return bad(text);
      out.push_back(static_cast<char>(text.size()));
      out += text;
      break;
    case F::kOctets:
    case F::kUriTarget:
      if (!unescape(text, s)) {
        why = std::string("bad escape in ") + f.what;
        return false;
      }
      if (s.empty() && f.kind == F::kUriTarget) {
        why = std::string("empty ") + f.what;
        return false;
      }
      out += s;
      break;
    case F::kType: {
      uint16_t type;
      if (!parseTypeName(text, type)) return bad(text);
      appendBigEndian(out, type, 2);
      break;
    }
    case F::kTime: {
      uint32_t when;
      if (!parseDnssecTime(text, when)) return bad(text);
      appendBigEndian(out, when, 4);
      break;
    }
    case F::kBitmap:
      break;
    case F::kSalt:
    case F::kBase32: {
      bool ok = true;
      if (f.kind == F::kBase32)
        ok = base32HexDecode(text, s) && !s.empty();
      else if (text != "-")
        ok = appendHex(std::vector<RdataToken>{t[i]}, 0, s, why);
      if (!ok || s.size() > 255) return bad(text);
      out.push_back(static_cast<char>(s.size()));
      out += s;
      break;
    }
    case F::kHex:
    case F::kBase64: {
      size_t before = out.size();
      if (!(f.kind == F::kHex ? appendHex(t, i, out, why) : appendBase64(t, i, out, why)))
        return false;
      if (out.size() == before) {
        why = std::string("empty ") + f.what;
        return false;
      }
      i = t.size();
      return true;
    }
  }
  ++i;
  return true;
}

// RFC 3597 3: "\# LENGTH HEX...", checked against the type's layout when we know one.
bool parseGeneric(uint16_t type, const std::vector<RdataToken>& t, std::string& out,
                  std::string& why) {
  uint64_t len;
  if (t.size() < 2 || !parseUint(t[1].text, 65535, len)) {
    why = "bad \\# length";
    return false;
  }
  std::string rd;
  if (!appendHex(t, 2, rd, why)) {
    why = "\\# data: " + why;
    return false;
  }
  if (rd.size() != len) {
    why = "\\# length does not match the data";
    return false;
  }
  if (!checkRdataWire(type, rd, why)) {
    why = "\\# data is not a valid " + typeName(type) + ": " + why;
    return false;
  }
  out += rd;
  return true;
}

}  // namespace

bool parseRdata(uint16_t type, const std::vector<RdataToken>& t, std::string_view origin,
                std::string& out, std::string& why) {
  if (!t.empty() && !t[0].quoted && t[0].text == "\\#") return parseGeneric(type, t, out, why);
  const Layout* l = findLayout(type);
  if (!l) {
    why = "type not supported in presentation form (use \\# LENGTH HEX)";
    return false;
  }
  bool rest = takesRest(l->fields[l->count - 1].kind);
  size_t least = l->count - (l->fields[l->count - 1].kind == F::kBitmap ? 1u : 0u);
  if (rest ? t.size() < least : t.size() != l->count) {
    why = "expected " + std::to_string(l->count) + (rest ? " or more" : "") + " fields, got " +
          std::to_string(t.size());
    return false;
  }
  size_t start = out.size();
  size_t i = 0;
  for (int k = 0; k < l->count; ++k)
    if (!parseField(l->fields[k], t, i, origin, out, why)) return false;
  if (out.size() - start > 65535) {
    why = "RDATA longer than 65535 bytes";
    return false;
  }
  return true;
}

bool checkRdataWire(uint16_t type, std::string_view rd, std::string& why) {
  const Layout* l = findLayout(type);
  if (!l) return true;
  const auto* p = reinterpret_cast<const uint8_t*>(rd.data());
  size_t n = rd.size(), pos = 0;
  for (int k = 0; k < l->count; ++k) {
    const FieldSpec& f = l->fields[k];
    size_t need = 0;  // bytes of this field from pos
    switch (f.kind) {
      case F::kName:
        need = wireNameLength(p + pos, p + n);
        break;
      case F::kU8:
        need = 1;
        break;
      case F::kU16:
        need = 2;
        break;
      case F::kU32:
      case F::kTimer:
      case F::kIpv4:
        need = 4;
        break;
      case F::kIpv6:
        need = 16;
        break;
      case F::kString:
        need = pos < n ? 1 + size_t{p[pos]} : 0;
        break;
      case F::kType:
        need = 2;
        break;
      case F::kTime:
        need = 4;
        break;
      case F::kSalt:
      case F::kBase32:
        need = pos < n ? 1 + size_t{p[pos]} : 0;
        if (f.kind == F::kBase32 && need == 1) need = 0;
        break;
      case F::kBitmap:
        need = n - pos;
        if (!checkTypeBitmap(rd.substr(pos))) {
          why = "bad type bitmap";
          return false;
        }
        break;
      case F::kTag:
        need = pos < n && p[pos] >= 1 && p[pos] <= 15 ? 1 + size_t{p[pos]} : 0;
        for (size_t c = pos + 1; need && c < pos + need && c < n; ++c)
          if (!isalnum(p[c])) need = 0;
        break;
      case F::kStrings:
        // Character-strings back to back up to the end; at least one.
        for (size_t at = pos; at < n && at + 1 + p[at] <= n; at += 1 + size_t{p[at]})
          need = at + 1 + p[at] - pos;
        if (pos + need != n) need = 0;
        break;
      case F::kOctets:
      case F::kUriTarget:
      case F::kHex:
      case F::kBase64:
        need = n - pos;
        break;
    }
    bool mayBeEmpty = f.kind == F::kOctets || f.kind == F::kBitmap;
    if ((need == 0 && !mayBeEmpty) || pos + need > n) {
      why = std::string("bad or missing ") + f.what;
      return false;
    }
    pos += need;
  }
  if (pos != n) {
    why = std::to_string(n - pos) + " bytes after the last field";
    return false;
  }
  return true;
}

}  // namespace manifold::dns
