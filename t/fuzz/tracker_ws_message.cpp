// libFuzzer target: the WebTorrent message parser (protocols/tracker/ws_message). Raw views stay
// inside the input, counts within their arrays, and every id written back parses to itself.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "protocols/tracker/ws_message.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::tracker::ws;

namespace {
bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static Request r;
  r = Request{};
  if (parseRequest(in, r) != nullptr) return 0;
  check(r.offerCount <= kMaxOffersParsed && r.scrapeCount <= kMaxScrapeHashes);
  check(inside(r.answer, in));
  for (uint32_t i = 0; i < r.offerCount; ++i) check(inside(r.offers[i].offer, in));
  if (r.action == Action::Announce) {
    check(r.hasInfoHash && r.hasPeerId);
    std::string out = R"({"action":"announce","info_hash":)";
    appendId(out, r.infoHash);
    out += R"(,"peer_id":)";
    appendId(out, r.peerId);
    out += "}";
    static Request back;
    back = Request{};
    check(parseRequest(out, back) == nullptr &&
          std::memcmp(back.infoHash, r.infoHash, kIdBytes) == 0 &&
          std::memcmp(back.peerId, r.peerId, kIdBytes) == 0);
  }
  return 0;
}
