// libFuzzer target: the RFC 1035 master-file parser. The input is a zone text; $INCLUDE reads
// from a tiny in-memory map (including itself, to exercise the depth limit). Either an error of
// the form "file:line: why" or records whose names and RDATA are well-formed wire data: the RDATA
// of every type we know passes the same layout check as generic "\#" data; signed-zone records
// (RRSIG, NSEC, NSEC3, DS, DNSKEY...) included: NSEC bitmaps well formed, and the canonical order
// of the owners antisymmetric.
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/dns/dnssec_text.hpp"
#include "protocols/dns/dnssec_zone.hpp"
#include "protocols/dns/rdata_text.hpp"
#include "protocols/dns/wire.hpp"
#include "protocols/dns/zone_parser.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::dns;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  IncludeReader reader = [&text](const std::string& path, std::string& content, std::string& why) {
    if (path == "/z/self.inc") {
      content = text;
      return true;
    }
    if (path == "/z/a.inc") {
      content = "x A 10.0.0.1\n";
      return true;
    }
    why = "no such file";
    return false;
  };
  ZoneParseResult r = parseZoneText(text, "/z/main.zone", "example.com.", reader);
  if (!r.ok) {
    check(!r.error.empty() && r.error.find(':') != std::string::npos);
    return 0;
  }
  for (size_t i = 0; i + 1 < r.records.size(); ++i) {
    std::string a = lowerName(r.records[i].owner), b = lowerName(r.records[i + 1].owner);
    check(canonicalCompare(a, b) == -canonicalCompare(b, a));
    check((canonicalCompare(a, b) == 0) == (a == b));
  }
  for (const auto& rec : r.records) {
    const auto* p = reinterpret_cast<const uint8_t*>(rec.owner.data());
    check(wireNameLength(p, p + rec.owner.size()) == rec.owner.size());
    check(rec.rdata.size() <= 65535);
    if (rec.type == kTypeA) check(rec.rdata.size() == 4);
    if (rec.type == kTypeAaaa) check(rec.rdata.size() == 16);
    if (rec.type == kTypeNs || rec.type == kTypeCname || rec.type == kTypePtr) {
      const auto* d = reinterpret_cast<const uint8_t*>(rec.rdata.data());
      check(wireNameLength(d, d + rec.rdata.size()) == rec.rdata.size());
    }
    std::string why;
    check(checkRdataWire(rec.type, rec.rdata, why));
    if (rec.type == kTypeRrsig) check(rec.rdata.size() > 18);
    if (rec.type == kTypeNsec) {
      const auto* d = reinterpret_cast<const uint8_t*>(rec.rdata.data());
      size_t next = wireNameLength(d, d + rec.rdata.size());
      check(next > 0 && checkTypeBitmap(std::string_view(rec.rdata).substr(next)));
    }
    check(nameToText(rec.owner).size() > 0);
  }
  return 0;
}
