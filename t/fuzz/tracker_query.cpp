// libFuzzer target: the HTTP tracker query parsers (announce, scrape, percent-decoding) and the
// bencode decoder. Decoded lengths must stay within their buffers; a successful announce parse
// has its three required parameters.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/tracker/bencode.hpp"
#include "protocols/tracker/query.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::tracker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  AnnounceQuery q;
  std::string_view why = parseAnnounceQuery(in, q);
  if (why.empty())
    check(in.find("info_hash") != std::string_view::npos &&
          in.find("port") != std::string_view::npos);
  uint8_t hashes[8 * 20];
  const int n = parseScrapeQuery(in, hashes, 8);
  check(n >= -1 && n <= 8);
  uint8_t buf[32];
  const int d = percentDecode(in, buf, sizeof buf);
  check(d >= -1 && d <= static_cast<int>(sizeof buf));
  bencode::Value v;
  bencode::decode(in, v);
  return 0;
}
