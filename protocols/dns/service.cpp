#include "protocols/dns/service.hpp"

#include <algorithm>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/journal.hpp"
#include "protocols/dns/message.hpp"
#include "protocols/dns/tcp_session.hpp"
#include "protocols/dns/zone_times.hpp"
#include "shm/segment.hpp"
#include "shm/stats.hpp"
#include "shm/table.hpp"
#include "worker/clock.hpp"
#include "worker/connection.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::dns {

DnsService::DnsService(const DnsConfig& config, ServiceContext& ctx)
    : config_(config),
      ctx_(ctx),
      rrl_(config.rrl, region(config.regionSlots().rrl)),
      tcpBuffer_(65535 + 2),
      tcpQuota_(config.tcpMaxConnections) {
  DnsConfig::RegionSlots slots = config.regionSlots();
  if (void* r = region(slots.lrrr)) lrrrCache_ = shm::Table::at(r);
  if (void* r = region(slots.health))
    health_ = reinterpret_cast<HealthSlot*>(static_cast<HealthRegionHeader*>(r) + 1);
  config.db->claimMemory();
}

void* DnsService::region(int slot) const {
  return slot >= 0 && static_cast<size_t>(slot) < ctx_.regions.size() ? ctx_.regions[slot]
                                                                      : nullptr;
}

void DnsService::start() {
  // Once every service of this worker exists (the loop's first turn), the databases none of
  // them claimed (an older generation's, inherited from the master) are unmapped.
  releaseStale_ = std::make_unique<Timer>(ctx_.loop, [] {
    if (size_t bytes = ZoneMemory::releaseUnclaimed())
      LOG_INFO("dns: released %zu MB of an older generation's zones", bytes >> 20);
  });
  releaseStale_->once(0);
  const auto& listeners = config_.listeners();
  for (size_t i = 0; i < listeners.size() && i < ctx_.fds.size(); ++i) {
    if (listeners[i].transport == Transport::Udp) {
      udp_.push_back(std::make_unique<UdpEndpoint>(*ctx_.runtime, ctx_.fds[i], *this, 64, 4096));
      udp_.back()->start();
    } else {
      acceptors_.push_back(std::make_unique<Acceptor>(
          *ctx_.runtime, ctx_.fds[i],
          [this](Connection& conn) -> std::unique_ptr<ConnectionHandler> {
            conn.setIdleTimeout(config_.tcpIdle);
            ctx_.counters.inc(kTcpConnections);
            return std::make_unique<TcpHandler>(*this, tcpQuota_, conn);
          },
          &tcpQuota_));
      acceptors_.back()->start();
    }
  }
  if (ctx_.runtime->runsInstanceTasks() && health_) {
    if (config_.wantsIcmp && (!config_.icmp || config_.icmp->fd < 0))
      LOG_WARN("[%s] %s; ICMP checks fall back to ping sockets", config_.title().c_str(),
               config_.icmp ? config_.icmp->error.c_str() : "no raw ICMP socket");
    prober_ =
        std::make_unique<Prober>(*ctx_.runtime, config_.title(), config_.targets, health_,
                                 ctx_.counters.from(kFixedCounters), ctx_.counters.from(kProbeOk),
                                 config_.icmp ? config_.icmp->fd : -1);
    prober_->start();
  }
  if (ctx_.runtime->runsInstanceTasks() && !config_.notify.empty()) startNotifier();
  if (ctx_.runtime->runsInstanceTasks()) {
    publishZoneGauges();
    // Transfers in and out happen later, in any worker: their times are copied every second.
    gauges_ = std::make_unique<Timer>(ctx_.loop, [this] { publishZoneGauges(); });
    gauges_->keepsLoopAlive(false);
    gauges_->repeat(1.0);
  }
  if (ctx_.runtime->runsInstanceTasks() && !config_.secondaries.empty()) {
    secondary_ = std::make_unique<SecondaryClient>(
        *ctx_.runtime, config_.title(), config_.secondaries, *config_.db,
        static_cast<SecondaryRegion*>(region(config_.regionSlots().secondary)), ctx_.counters);
    secondary_->start();
  }
}

// True once no worker of an older generation is alive: until then a secondary that asks right
// after our NOTIFY, over a TCP connection it kept open to a draining worker, is answered from
// the old zone and believes itself current until its next refresh.
bool DnsService::olderGenerationsGone() const {
  const void* base = ctx_.segment ? ctx_.segment->findRegion("stats") : nullptr;
  const shm::StatsRegion* stats = base ? shm::StatsRegion::at(base) : nullptr;
  if (!stats) return true;
  const uint64_t mine = stats->readWorker(ctx_.slot).generation;
  for (unsigned s = 0; s < stats->slotCount(); ++s) {
    const shm::WorkerInfo w = stats->readWorker(s);
    if (w.state != shm::kWorkerFree && w.generation < mine) return false;
  }
  return true;
}

void DnsService::startNotifier() {
  // Wait (polling, bounded) for the previous generation to finish before announcing.
  const double started = ctx_.runtime->loopTime();
  notifyDelay_ = std::make_unique<Timer>(ctx_.loop, [this, started] {
    if (!olderGenerationsGone() && ctx_.runtime->loopTime() - started < kNotifyWaitMax) return;
    notifyDelay_->stop();
    announceChangedZones();
  });
  notifyDelay_->repeat(0.1, 0);
}

// Zones whose serial was not announced yet (by an earlier generation, or before a respawn).
void DnsService::announceChangedZones() {
  auto* announced = static_cast<NotifyRegion*>(region(config_.regionSlots().notify));
  std::vector<const ZoneTransfer*> zones;
  for (const ZoneTransfer& z : config_.transfers->zones())
    if (!announced || announced->changed(z.origin, z.serial)) zones.push_back(&z);
  if (zones.empty()) return;
  notifier_ = std::make_unique<Notifier>(ctx_.loop, config_.title(), config_.notify,
                                         ctx_.counters.from(kNotifySent));
  notifier_->start(zones);
}

void DnsService::stopAccepting() {
  for (auto& u : udp_) u->stop();
  for (auto& a : acceptors_) a->stop();
  if (prober_) prober_->stop();
  if (notifyDelay_) notifyDelay_->stop();
  if (notifier_) notifier_->stop();
  if (secondary_) secondary_->stop();
  if (gauges_) gauges_->stop();
}

size_t DnsService::onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t,
                              uint8_t* out, size_t outCap) {
  ctx_.counters.inc(kQueriesUdp);
  return handle(in, len, peer, out, outCap, true);
}

size_t DnsService::handle(const uint8_t* in, size_t len, const sockaddr* peer, uint8_t* out,
                          size_t cap, bool udp, const ZoneTransfer** stream) {
  shm::CounterSlot c = ctx_.counters;
  c.inc(kQueries);
  Query q;
  QueryStatus st = parseQuery(in, len, q);
  if (st == QueryStatus::Drop) {
    c.inc(kDropped);
    return 0;
  }
  tsig_.key = nullptr;
  if (st == QueryStatus::Ok && q.tsig)
    if (size_t e = checkTsig(in, len, q, out, cap)) return e;
  if (st == QueryStatus::NotImp && q.opcode == kOpcodeNotify && !config_.secondaries.empty())
    if (size_t n = answerNotify(in, len, q, peer, out, cap)) return n;
  if (st == QueryStatus::NotImp && q.opcode == kOpcodeNotify) {
    // Not a secondary zone of ours (or not from its primary): REFUSED, with AA as NSD sets it.
    c.inc(kRcodeRefusedCount);
    size_t n = writeErrorReply(in, len, q, kRcodeRefused, out, cap);
    if (n) put16(out + 2, static_cast<uint16_t>(get16(out + 2) | 0x0400));
    return n;
  }
  if (st != QueryStatus::Ok) {
    uint8_t rcode = st == QueryStatus::NotImp ? kRcodeNotImp : kRcodeFormErr;
    c.inc(rcode == kRcodeNotImp ? kRcodeNotImpCount : kRcodeFormErrCount);
    return writeErrorReply(in, len, q, rcode, out, cap);
  }
  countType(q.qtype);
  if (q.edns) c.inc(kEdnsQueries);
  if (q.ecs.present) c.inc(kEcsQueries);
  if (q.edns && q.ednsVersion > 0) {
    // RFC 6891 6.1.3: BADVERS, our version (0) in the OPT.
    c.inc(kRcodeBadVersCount);
    PacketWriter w(out, cap);
    w.start(q.id, static_cast<uint16_t>(0x8000 | (q.flags & 0x0110)));
    w.question(q.qname, q.qnameLength, q.qtype, q.qclass);
    w.opt(config_.maxUdp, kRcodeBadVers, false, nullptr, 0);
    return w.size();
  }
  size_t limit = 65535;
  if (udp)
    limit = q.edns ? std::min<size_t>(std::max<size_t>(q.udpPayload, 512), config_.maxUdp) : 512;
  limit = std::min(limit, cap);
  if (tsig_.key) limit -= std::min(limit, tsig_.key->recordSize());  // room for the signature
  AnswerContext actx;
  actx.health = health_;
  actx.client = peer;
  actx.rotation = &rotation_;
  AnswerInfo info;
  size_t n = 0;
  const ZoneTransfer* rest = nullptr;
  ixfrRest_.clear();
  TransferOutcome xfr = config_.transfers->answer(q, peer, udp, out, limit, n, rest, tsig_.key,
                                                  udp ? nullptr : &ixfrRest_);
  if (xfr != TransferOutcome::NotTransfer) {
    countTransfer(xfr);
    if (xfr == TransferOutcome::Served || xfr == TransferOutcome::Incremental)
      noteTransferOut(q.name());
    if (stream) *stream = rest;
    if (n) {
      info.rcode = out[3] & 0xF;
      info.truncated = out[2] & 0x02;
    }
  } else {
    if (config_.lrrr)
      n = config_.lrrr->answer(q, peer, lrrrCache_, out, limit, info, c.from(kLrrrFirst));
    if (!n && !config_.secondaries.empty() && (n = unavailableZone(q, out, limit)))
      info.rcode = kRcodeServFail;
    if (!n) n = config_.db->answer(q, actx, out, limit, info);
  }
  if (udp && config_.rrl.rate && n) {
    RrlVerdict v = rrl_.check(peer, clock::monotonicNs());
    if (v == RrlVerdict::Drop) {
      c.inc(kRrlDropped);
      return 0;
    }
    if (v == RrlVerdict::Slip) {
      // A truncated, empty answer: a real client retries over TCP.
      c.inc(kRrlSlipped);
      PacketWriter w(out, cap);
      w.start(q.id, static_cast<uint16_t>(0x8000 | 0x0200 | (q.flags & 0x0110) |
                                          (get16(out + 2) & 0x040F)));
      w.question(q.qname, q.qnameLength, q.qtype, q.qclass);
      if (q.edns) w.opt(config_.maxUdp, 0, q.dnssecOk, nullptr, 0);
      return w.size();
    }
  }
  if (info.truncated) c.inc(kTruncated);
  if (info.nodata) c.inc(kNoData);
  switch (info.rcode) {
    case kRcodeNoError:
      c.inc(kRcodeNoErrorCount);
      break;
    case kRcodeNxDomain:
      c.inc(kRcodeNxDomainCount);
      break;
    case kRcodeRefused:
      c.inc(kRcodeRefusedCount);
      break;
    case kRcodeServFail:
      c.inc(kRcodeServFailCount);
      break;
    case kRcodeFormErr:
      c.inc(kRcodeFormErrCount);
      break;
    case kRcodeNotImp:
      c.inc(kRcodeNotImpCount);
      break;
    case kRcodeNotAuth:
      c.inc(kRcodeNotAuthCount);
      break;
    default:
      break;
  }
  return tsig_.key && n ? signReply(out, n, cap) : n;
}

// Gauges are summed over workers: only the instance-task worker sets them.
void DnsService::publishZoneGauges() {
  auto* sec = static_cast<SecondaryRegion*>(region(config_.regionSlots().secondary));
  for (const ZoneTransfer& z : config_.transfers->zones()) {
    if (int i = config_.zoneCounter(z.origin, kZoneSerial); i >= 0) ctx_.counters.set(i, z.serial);
    if (int i = config_.zoneCounter(z.origin, kZoneJournal); i >= 0 && config_.transfers->journal)
      ctx_.counters.set(i, config_.transfers->journal->bytes(z.origin));
  }
  for (size_t z = 0; z < config_.db->zoneCount(); ++z)
    if (int i = config_.zoneCounter(config_.db->zoneOrigin(z), kZoneSigExpiry); i >= 0)
      ctx_.counters.set(i, config_.db->zoneSignatureExpiry(z));
  for (size_t s = 0; s < config_.secondaries.size() && sec; ++s)
    if (int i = config_.zoneCounter(config_.secondaries[s].origin, kZoneXfrIn); i >= 0)
      ctx_.counters.set(i, sec->transferred[s].load(std::memory_order_relaxed));
  if (auto* times = static_cast<ZoneTimesRegion*>(region(config_.regionSlots().zoneTimes)))
    for (uint32_t z = 0; z < times->zones; ++z)
      ctx_.counters.set(config_.zoneCounterBase() + z * kZoneCounters + kZoneXfrOutTime,
                        times->lastOut[z].load(std::memory_order_relaxed));
}

void DnsService::countZone(std::string_view origin, unsigned which) {
  const auto& zones = config_.transfers->zones();
  if (const ZoneTransfer* z = config_.transfers->find(origin))
    ctx_.counters.inc(config_.zoneCounterBase() +
                      static_cast<unsigned>(z - zones.data()) * kZoneCounters + which);
}

void DnsService::noteTransferOut(std::string_view origin) {
  countZone(origin, kZoneXfrOut);
  auto* times = static_cast<ZoneTimesRegion*>(region(config_.regionSlots().zoneTimes));
  const auto& zones = config_.transfers->zones();
  if (const ZoneTransfer* z = config_.transfers->find(origin); z && times)
    times->noteOut(static_cast<uint32_t>(z - zones.data()), clock::wallSeconds());
}

void DnsService::countTransfer(TransferOutcome o) {
  switch (o) {
    case TransferOutcome::Served:
      ctx_.counters.inc(kXfrServed);
      break;
    case TransferOutcome::UpToDate:
      ctx_.counters.inc(kXfrUpToDate);
      break;
    case TransferOutcome::Incremental:
      ctx_.counters.inc(kXfrIncremental);
      break;
    case TransferOutcome::Refused:
    case TransferOutcome::NotAuth:
      ctx_.counters.inc(kXfrRefused);
      break;
    default:
      break;
  }
}

void DnsService::countType(uint16_t t) {
  unsigned i;
  switch (t) {
    case kTypeA:
      i = kQtypeA;
      break;
    case kTypeAaaa:
      i = kQtypeAaaa;
      break;
    case kTypeNs:
      i = kQtypeNs;
      break;
    case kTypeCname:
      i = kQtypeCname;
      break;
    case kTypeSoa:
      i = kQtypeSoa;
      break;
    case kTypePtr:
      i = kQtypePtr;
      break;
    case kTypeMx:
      i = kQtypeMx;
      break;
    case kTypeTxt:
      i = kQtypeTxt;
      break;
    case kTypeSrv:
      i = kQtypeSrv;
      break;
    case kTypeCaa:
      i = kQtypeCaa;
      break;
    case kTypeAny:
      i = kQtypeAny;
      break;
    default:
      i = kQtypeOther;
  }
  ctx_.counters.inc(i);
}

std::unique_ptr<Service> DnsConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<DnsService>(*this, ctx);
}

}  // namespace manifold::dns
