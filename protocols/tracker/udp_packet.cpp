#include "protocols/tracker/udp_packet.hpp"

#include <cstring>

namespace manifold::tracker {

namespace {

UdpRequest errorReply(uint32_t transactionId, std::string_view why) {
  UdpRequest r;
  r.kind = UdpParse::Error;
  r.transactionId = transactionId;
  r.error = why;
  return r;
}

}  // namespace

UdpRequest parseUdpRequest(std::span<const uint8_t> d, size_t maxScrapeHashes) {
  UdpRequest r;
  if (d.size() < 16) return r;  // no room for a transaction id: drop
  const uint8_t* p = d.data();
  const uint64_t first = readBe64(p);
  const uint32_t action = readBe32(p + 8);
  const uint32_t tid = readBe32(p + 12);
  switch (action) {
    case static_cast<uint32_t>(UdpAction::Connect):
      if (first != kProtocolId) return r;  // not a tracker client: stay silent
      r.kind = UdpParse::Connect;
      r.transactionId = tid;
      return r;
    case static_cast<uint32_t>(UdpAction::Announce): {
      if (d.size() < kAnnounceBytes) return errorReply(tid, "malformed announce");
      UdpAnnounce& a = r.announce;
      a.connectionId = first;
      a.infoHash = p + 16;
      a.peerId = p + 36;
      a.downloaded = readBe64(p + 56);
      a.left = readBe64(p + 64);
      a.uploaded = readBe64(p + 72);
      const uint32_t event = readBe32(p + 80);
      if (event > 3) return errorReply(tid, "unknown event");
      a.event = static_cast<Event>(event);
      a.ip = readBe32(p + 84);
      a.key = readBe32(p + 88);
      a.numWant = static_cast<int32_t>(readBe32(p + 92));
      a.port = static_cast<uint16_t>(p[96] << 8 | p[97]);
      a.options = d.subspan(kAnnounceBytes);
      r.kind = UdpParse::Announce;
      r.transactionId = tid;
      return r;
    }
    case static_cast<uint32_t>(UdpAction::Scrape): {
      const size_t bytes = d.size() - 16;
      if (bytes == 0 || bytes % kInfoHashBytes != 0) return errorReply(tid, "malformed scrape");
      size_t count = bytes / kInfoHashBytes;
      if (count > maxScrapeHashes) count = maxScrapeHashes;
      r.scrape = {first, p + 16, count};
      r.kind = UdpParse::Scrape;
      r.transactionId = tid;
      return r;
    }
    default:
      // Action 3 (error) or anything else from a client: answer so a confused client learns.
      return errorReply(tid, "unknown action");
  }
}

size_t announceUrlData(std::span<const uint8_t> options, char* out, size_t cap) {
  size_t i = 0, n = 0;
  while (i < options.size()) {
    const uint8_t type = options[i++];
    if (type == 0) break;     // end of options
    if (type == 1) continue;  // no-op
    if (i >= options.size()) break;
    const size_t len = options[i++];
    if (len > options.size() - i) break;
    if (type == 2) {
      const size_t take = len < cap - n ? len : cap - n;
      std::memcpy(out + n, options.data() + i, take);
      n += take;
    }
    i += len;
  }
  return n;
}

size_t writeConnectResponse(uint8_t* out, size_t cap, uint32_t tid, uint64_t connectionId) {
  if (cap < 16) return 0;
  writeBe32(out, 0);
  writeBe32(out + 4, tid);
  writeBe64(out + 8, connectionId);
  return 16;
}

size_t writeAnnounceHeader(uint8_t* out, size_t cap, uint32_t tid, uint32_t interval,
                           uint32_t leechers, uint32_t seeders) {
  if (cap < 20) return 0;
  writeBe32(out, 1);
  writeBe32(out + 4, tid);
  writeBe32(out + 8, interval);
  writeBe32(out + 12, leechers);
  writeBe32(out + 16, seeders);
  return 20;
}

size_t writeScrapeHeader(uint8_t* out, size_t cap, uint32_t tid) {
  if (cap < 8) return 0;
  writeBe32(out, 2);
  writeBe32(out + 4, tid);
  return 8;
}

size_t writeScrapeEntry(uint8_t* out, size_t cap, uint32_t seeders, uint32_t completed,
                        uint32_t leechers) {
  if (cap < 12) return 0;
  writeBe32(out, seeders);
  writeBe32(out + 4, completed);
  writeBe32(out + 8, leechers);
  return 12;
}

size_t writeErrorResponse(uint8_t* out, size_t cap, uint32_t tid, std::string_view message) {
  if (cap < 8) return 0;
  writeBe32(out, 3);
  writeBe32(out + 4, tid);
  const size_t n = message.size() < cap - 8 ? message.size() : cap - 8;
  std::memcpy(out + 8, message.data(), n);
  return 8 + n;
}

size_t writeConnectRequest(uint8_t* out, size_t cap, uint32_t tid) {
  if (cap < 16) return 0;
  writeBe64(out, kProtocolId);
  writeBe32(out + 8, 0);
  writeBe32(out + 12, tid);
  return 16;
}

size_t writeAnnounceRequest(uint8_t* out, size_t cap, const AnnounceFields& f) {
  if (cap < kAnnounceBytes) return 0;
  writeBe64(out, f.connectionId);
  writeBe32(out + 8, 1);
  writeBe32(out + 12, f.transactionId);
  if (f.infoHash)
    std::memcpy(out + 16, f.infoHash, 20);
  else
    std::memset(out + 16, 0, 20);
  if (f.peerId)
    std::memcpy(out + 36, f.peerId, 20);
  else
    std::memset(out + 36, 0, 20);
  writeBe64(out + 56, f.downloaded);
  writeBe64(out + 64, f.left);
  writeBe64(out + 72, f.uploaded);
  writeBe32(out + 80, f.event);
  writeBe32(out + 84, f.ip);
  writeBe32(out + 88, f.key);
  writeBe32(out + 92, static_cast<uint32_t>(f.numWant));
  out[96] = static_cast<uint8_t>(f.port >> 8);
  out[97] = static_cast<uint8_t>(f.port);
  return kAnnounceBytes;
}

size_t writeScrapeRequest(uint8_t* out, size_t cap, uint64_t connectionId, uint32_t tid,
                          std::span<const uint8_t> hashes) {
  if (cap < 16 + hashes.size()) return 0;
  writeBe64(out, connectionId);
  writeBe32(out + 8, 2);
  writeBe32(out + 12, tid);
  std::memcpy(out + 16, hashes.data(), hashes.size());
  return 16 + hashes.size();
}

}  // namespace manifold::tracker
