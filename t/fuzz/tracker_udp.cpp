// libFuzzer target: the BEP 15 datagram parser. Every parse must stay inside the datagram,
// scrape counts must respect the cap, and a parsed announce must round-trip through the
// request builder to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "protocols/tracker/udp_packet.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::tracker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t cap = size ? data[0] % 80 + 1 : 74;
  UdpRequest r = parseUdpRequest({data, size}, cap);
  const uint8_t* end = data + size;
  switch (r.kind) {
    case UdpParse::Drop:
    case UdpParse::Connect:
      break;
    case UdpParse::Error:
      check(!r.error.empty());
      break;
    case UdpParse::Scrape:
      check(r.scrape.count >= 1 && r.scrape.count <= cap);
      check(r.scrape.hashes + r.scrape.count * 20 <= end);
      break;
    case UdpParse::Announce: {
      check(size >= kAnnounceBytes && r.announce.infoHash + 20 <= end &&
            r.announce.peerId + 20 <= end);
      check(static_cast<uint8_t>(r.announce.event) <= 3);
      char url[300];
      check(announceUrlData(r.announce.options, url, sizeof url) <= r.announce.options.size());
      AnnounceFields f;
      f.connectionId = r.announce.connectionId;
      f.transactionId = r.transactionId;
      f.infoHash = r.announce.infoHash;
      f.peerId = r.announce.peerId;
      f.downloaded = r.announce.downloaded;
      f.left = r.announce.left;
      f.uploaded = r.announce.uploaded;
      f.event = static_cast<uint32_t>(r.announce.event);
      f.ip = r.announce.ip;
      f.key = r.announce.key;
      f.numWant = r.announce.numWant;
      f.port = r.announce.port;
      uint8_t again[kAnnounceBytes];
      check(writeAnnounceRequest(again, sizeof again, f) == kAnnounceBytes);
      check(std::memcmp(again, data, kAnnounceBytes) == 0);
      break;
    }
  }
  uint8_t out[64];
  check(writeErrorResponse(out, sizeof out, r.transactionId, r.error) <= sizeof out);
  return 0;
}
