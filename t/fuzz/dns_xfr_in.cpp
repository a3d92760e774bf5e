// libFuzzer target: the transfer-in parser (protocols/dns/xfr_in.*). The input is a stream of
// length-prefixed messages, as a primary sends them over TCP; each goes to the parser (for
// example.net., ID 0, once without and once with a TSIG key). Whatever the bytes, nothing reads
// outside a message, a finished transfer starts and ends as the RFCs say, and what it yields can
// be applied (IXFR) and written as a zone copy.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/dns/xfr_in.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::dns;

namespace {

const std::string kOrigin("\7example\3net\0", 13);

const TsigKey& key() {
  static TsigKey k = [] {
    TsigKey out;
    std::string why;
    if (!parseTsigKey("xfr-key hmac-sha256 c2VjcmV0c2VjcmV0", out, why)) __builtin_trap();
    return out;
  }();
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::vector<uint8_t>> msgs;  // exact-size copies: ASan sees any overread
  for (size_t at = 0; at + 2 <= size;) {
    size_t len = static_cast<size_t>(data[at] << 8 | data[at + 1]);
    if (at + 2 + len > size) break;
    msgs.emplace_back(data + at + 2, data + at + 2 + len);
    at += 2 + len;
  }
  uint32_t ours = 5;
  for (const TsigKey* k : {static_cast<const TsigKey*>(nullptr), &key()}) {
    XfrInParser p(kOrigin, 0, k, std::string(32, 'm'), 1000, &ours);
    XfrInParser::Status s = XfrInParser::Status::More;
    for (const auto& m : msgs) {
      s = p.feed(m.data(), m.size());
      if (s != XfrInParser::Status::More) break;
    }
    if (s != XfrInParser::Status::Done) continue;
    const auto& rrs = p.records();
    check(!rrs.empty() && rrs.front().type == kTypeSoa && rrs.back().type == kTypeSoa);
    if (p.kind() == XfrInParser::Kind::Incremental) {
      std::vector<XfrRecord> zone = {rrs[1]};
      std::string why;
      applyIxfr(zone, rrs, why);
    }
    std::string text = zoneText(kOrigin, fullZone(rrs));
    check(!copySoaRdata(text).empty() || rrs.front().rdata.empty());
  }
  return 0;
}
