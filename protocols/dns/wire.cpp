#include "protocols/dns/wire.hpp"

#include <cctype>
#include <cstdio>

namespace manifold::dns {

size_t wireNameLength(const uint8_t* p, const uint8_t* end) {
  const uint8_t* start = p;
  while (p < end) {
    uint8_t len = *p;
    if (len == 0) {
      size_t total = static_cast<size_t>(p - start) + 1;
      return total <= kMaxName ? total : 0;
    }
    if (len > kMaxLabel) return 0;
    p += 1 + len;
  }
  return 0;
}

std::string lowerName(std::string_view wire) {
  std::string out(wire);
  size_t i = 0;
  while (i < out.size()) {
    size_t len = static_cast<uint8_t>(out[i]);
    if (len == 0) break;
    for (size_t k = i + 1; k <= i + len && k < out.size(); ++k)
      out[k] = static_cast<char>(lowerAscii(static_cast<uint8_t>(out[k])));
    i += 1 + len;
  }
  return out;
}

bool isSubdomain(std::string_view name, std::string_view suffix) {
  if (suffix.size() > name.size()) return false;
  size_t i = 0;
  while (name.size() - i > suffix.size()) {
    uint8_t len = static_cast<uint8_t>(name[i]);
    if (len == 0) return false;
    i += 1 + len;
  }
  return name.size() - i == suffix.size() && name.substr(i) == suffix;
}

unsigned labelOffsets(std::string_view name, size_t* out, unsigned max) {
  unsigned n = 0;
  size_t i = 0;
  while (i < name.size() && n < max) {
    out[n++] = i;
    uint8_t l = static_cast<uint8_t>(name[i]);
    if (l == 0) break;
    i += 1 + l;
  }
  return n;
}

unsigned labelCount(std::string_view wire) {
  unsigned n = 0;
  size_t i = 0;
  while (i < wire.size() && wire[i] != 0) {
    ++n;
    i += 1 + static_cast<uint8_t>(wire[i]);
  }
  return n;
}

std::string nameToText(std::string_view wire) {
  std::string out;
  size_t i = 0;
  while (i < wire.size()) {
    size_t len = static_cast<uint8_t>(wire[i]);
    if (len == 0) break;
    for (size_t k = i + 1; k <= i + len && k < wire.size(); ++k) {
      uint8_t c = static_cast<uint8_t>(wire[k]);
      if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[5];
        snprintf(buf, sizeof buf, "\\%03u", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('.');
    i += 1 + len;
  }
  return out.empty() ? "." : out;
}

bool textToName(std::string_view text, std::string_view origin, std::string& out,
                std::string& why) {
  out.clear();
  if (text == "@") {
    out.assign(origin);
    if (out.empty()) {
      why = "'@' used but no origin is known";
      return false;
    }
    return true;
  }
  if (text == ".") {
    out.assign(1, '\0');
    return true;
  }
  if (text.empty()) {
    why = "empty name";
    return false;
  }
  std::string label;
  bool absolute = false;
  auto endLabel = [&]() -> bool {
    if (label.empty()) {
      why = "empty label in '" + std::string(text) + "'";
      return false;
    }
    if (label.size() > kMaxLabel) {
      why = "label longer than 63 bytes in '" + std::string(text) + "'";
      return false;
    }
    out.push_back(static_cast<char>(label.size()));
    out += label;
    label.clear();
    return true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (i + 3 < text.size() && isdigit(static_cast<unsigned char>(text[i + 1])) &&
          isdigit(static_cast<unsigned char>(text[i + 2])) &&
          isdigit(static_cast<unsigned char>(text[i + 3]))) {
        int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255) {
          why = "bad escape in '" + std::string(text) + "'";
          return false;
        }
        label.push_back(static_cast<char>(v));
        i += 3;
      } else if (i + 1 < text.size()) {
        label.push_back(text[++i]);
      } else {
        why = "dangling backslash in '" + std::string(text) + "'";
        return false;
      }
    } else if (c == '.') {
      if (!endLabel()) return false;
      if (i + 1 == text.size()) absolute = true;
    } else {
      label.push_back(c);
    }
  }
  if (!label.empty() && !endLabel()) return false;
  if (absolute) {
    out.push_back('\0');
  } else {
    if (origin.empty()) {
      why = "relative name '" + std::string(text) + "' but no origin is known";
      return false;
    }
    out.append(origin);
  }
  if (out.size() > kMaxName) {
    why = "name longer than 255 bytes: '" + std::string(text) + "'";
    return false;
  }
  return true;
}

namespace {
struct TypeEntry {
  uint16_t type;
  const char* name;
};
constexpr TypeEntry kTypes[] = {{kTypeA, "A"},
                                {kTypeNs, "NS"},
                                {kTypeCname, "CNAME"},
                                {kTypeSoa, "SOA"},
                                {kTypePtr, "PTR"},
                                {kTypeHinfo, "HINFO"},
                                {kTypeMx, "MX"},
                                {kTypeTxt, "TXT"},
                                {kTypeRp, "RP"},
                                {kTypeAaaa, "AAAA"},
                                {kTypeSrv, "SRV"},
                                {kTypeNaptr, "NAPTR"},
                                {kTypeOpt, "OPT"},
                                {kTypeDs, "DS"},
                                {kTypeSshfp, "SSHFP"},
                                {kTypeRrsig, "RRSIG"},
                                {kTypeNsec, "NSEC"},
                                {kTypeDnskey, "DNSKEY"},
                                {kTypeNsec3, "NSEC3"},
                                {kTypeNsec3param, "NSEC3PARAM"},
                                {kTypeTlsa, "TLSA"},
                                {kTypeSmimea, "SMIMEA"},
                                {kTypeCds, "CDS"},
                                {kTypeCdnskey, "CDNSKEY"},
                                {kTypeOpenpgpkey, "OPENPGPKEY"},
                                {kTypeSpf, "SPF"},
                                {kTypeIxfr, "IXFR"},
                                {kTypeAxfr, "AXFR"},
                                {kTypeAny, "ANY"},
                                {kTypeUri, "URI"},
                                {kTypeCaa, "CAA"}};

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lowerAscii(static_cast<uint8_t>(a[i])) != lowerAscii(static_cast<uint8_t>(b[i])))
      return false;
  return true;
}
}  // namespace

std::string typeName(uint16_t type) {
  for (const auto& e : kTypes)
    if (e.type == type) return e.name;
  return "TYPE" + std::to_string(type);
}

bool parseTypeName(std::string_view text, uint16_t& type) {
  for (const auto& e : kTypes) {
    if (equalsNoCase(text, e.name)) {
      type = e.type;
      return true;
    }
  }
  if (text.size() > 4 && equalsNoCase(text.substr(0, 4), "TYPE")) {
    unsigned v = 0;
    for (char c : text.substr(4)) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
      if (v > 65535) return false;
    }
    type = static_cast<uint16_t>(v);
    return true;
  }
  return false;
}

}  // namespace manifold::dns
