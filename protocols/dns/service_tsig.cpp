// TSIG on the query path (tsig.hpp): a signed query is verified before it is answered, its answer
// signed with the request's MAC; a failure gets NSD's NOTAUTH with the TSIG error.
#include <ctime>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/service.hpp"
#include "worker/log.hpp"

namespace manifold::dns {

size_t DnsService::checkTsig(const uint8_t* in, size_t len, const Query& q, uint8_t* out,
                             size_t cap) {
  TsigRecord rec;
  if (findTsig(in, len, rec) != TsigFind::Found) {
    ctx_.counters.inc(kRcodeFormErrCount);
    return writeErrorReply(in, len, q, kRcodeFormErr, out, cap);
  }
  const uint64_t now = static_cast<uint64_t>(::time(nullptr));
  TsigStatus st = verifyTsig(in, len, rec, config_.keys, {}, now);
  if (st == TsigStatus::Ok) {
    ctx_.counters.inc(kTsigSigned);
    tsig_.key = findTsigKey(config_.keys, rec.key());
    tsig_.mac.assign(rec.macView());
    tsig_.time = now;
    return 0;
  }
  ctx_.counters.inc(kTsigFailures);
  countZone(q.name(), kZoneTsigFailures);
  ctx_.counters.inc(kRcodeNotAuthCount);
  const char* what = st == TsigStatus::BadKey   ? "BADKEY"
                     : st == TsigStatus::BadSig ? "BADSIG"
                                                : "BADTIME";
  LOG_INFO("[%s] TSIG %s for key %s", config_.title().c_str(), what, nameToText(rec.key()).c_str());
  // As NSD: NOTAUTH without the question (the OPT kept), the TSIG error in the TSIG RR.
  PacketWriter w(out, cap);
  w.start(q.id, static_cast<uint16_t>(kFlagQr | (q.flags & 0x7900) | kRcodeNotAuth));
  if (q.edns) w.opt(config_.maxUdp, 0, false, nullptr, 0);
  size_t n = w.size();
  if (!n) return 0;
  if (st != TsigStatus::BadTime)
    return appendUnsignedTsig(out, n, cap, rec,
                              st == TsigStatus::BadKey ? kTsigBadKey : kTsigBadSig);
  // BADTIME: our time in other data so the client can see the skew; unsigned, as NSD.
  uint8_t ours[6];
  put16(ours, static_cast<uint16_t>(now >> 32));
  put32(ours + 2, static_cast<uint32_t>(now));
  return appendUnsignedTsig(out, n, cap, rec, kTsigBadTime,
                            {reinterpret_cast<char*>(ours), sizeof ours});
}

size_t DnsService::signReply(uint8_t* out, size_t n, size_t cap) {
  size_t signedLen = signTsig(out, n, cap, *tsig_.key, tsig_.mac, tsig_.time, false, &tsig_.mac);
  return signedLen ? signedLen : n;
}

}  // namespace manifold::dns
