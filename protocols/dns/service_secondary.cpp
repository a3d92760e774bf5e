// Secondary zones on the query path: NOTIFY from a zone's primary accepted (RFC 1996: from the
// primary's address, signed with the zone's key when it has one) and passed to the transfer
// worker through shm (secondary_zone.hpp); queries for a secondary zone we hold no good copy of
// answered SERVFAIL, as NSD does for a zone not yet transferred or expired.
#include <netinet/in.h>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/service.hpp"
#include "worker/log.hpp"
#include "worker/peer_address.hpp"

namespace manifold::dns {

size_t DnsService::answerNotify(const uint8_t* in, size_t len, const Query& q, const sockaddr* peer,
                                uint8_t* out, size_t cap) {
  if (!q.questionParsed || q.qtype != kTypeSoa) return 0;
  const auto& zones = config_.secondaries;
  size_t i = 0;
  while (i < zones.size() && zones[i].origin != q.name()) ++i;
  if (i == zones.size()) return 0;
  const SecondaryZone& z = zones[i];
  if (!(net::peerAddress(peer) ==
        net::peerAddress(reinterpret_cast<const sockaddr*>(&z.primary)))) {
    LOG_INFO("[%s] NOTIFY for %s from %s refused: not its primary", config_.title().c_str(),
             z.name.c_str(), net::toString(net::peerAddress(peer)).c_str());
    return 0;
  }
  TsigRecord rec;
  TsigFind f = findTsig(in, len, rec);
  if (z.key || f != TsigFind::None) {
    if (f == TsigFind::None) return 0;  // the zone's key is required
    if (size_t e = checkTsig(in, len, q, out, cap)) return e;
    if (z.key && tsig_.key != z.key) return 0;
  }
  if (auto* r = static_cast<SecondaryRegion*>(region(config_.regionSlots().secondary)))
    r->notified[i].fetch_add(1, std::memory_order_relaxed);
  ctx_.counters.inc(kNotifyIn);
  // The reply: the NOTIFY's header and question echoed, QR and AA set (RFC 1996 4.7).
  PacketWriter w(out, cap);
  w.start(q.id, static_cast<uint16_t>(kFlagQr | kFlagAa | (q.flags & 0x7800)));
  w.question(q.qname, q.qnameLength, q.qtype, q.qclass);
  size_t n = w.size();
  return tsig_.key ? signReply(out, n, cap) : n;
}

size_t DnsService::unavailableZone(const Query& q, uint8_t* out, size_t cap) {
  for (const SecondaryZone& z : config_.secondaries) {
    if (z.loaded || !isSubdomain(q.name(), z.origin)) continue;
    PacketWriter w(out, cap);
    w.start(q.id, static_cast<uint16_t>(kFlagQr | (q.flags & 0x0110) | kRcodeServFail));
    w.question(q.qname, q.qnameLength, q.qtype, q.qclass);
    if (q.edns) w.opt(config_.maxUdp, 0, q.dnssecOk, nullptr, 0);
    return w.size();
  }
  return 0;
}

}  // namespace manifold::dns
