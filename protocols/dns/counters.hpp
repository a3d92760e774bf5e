// The counters of a [dns:NAME] service (queries, rcodes, RRL, probes, transfers, NOTIFY, LRRR),
// in shm order (see ServiceConfig::counters()): the fixed table, then the LRRR block
// [kLrrrFirst, kLrrrEnd) in LrrrCounter order. After the fixed ones come two gauges per health
// target: t_<target>_up (1/0) and t_<target>_checked (unix time of the last finished check), so
// `manifold-shm` shows every target's state.
#pragma once

#include <cstdint>
#include <iterator>

#include "shm/counters.hpp"

namespace manifold::dns {

#define MANIFOLD_DNS_COUNTERS(X)                                                                  \
  X(kQueries, "queries", Counter, "queries received (UDP and TCP)")                               \
  X(kQueriesUdp, "queries_udp", Counter, "UDP datagrams received")                                \
  X(kQueriesTcp, "queries_tcp", Counter, "queries received over TCP")                             \
  X(kQtypeA, "qtype_a", Counter, "queries for type A")                                            \
  X(kQtypeAaaa, "qtype_aaaa", Counter, "queries for type AAAA")                                   \
  X(kQtypeNs, "qtype_ns", Counter, "queries for type NS")                                         \
  X(kQtypeCname, "qtype_cname", Counter, "queries for type CNAME")                                \
  X(kQtypeSoa, "qtype_soa", Counter, "queries for type SOA")                                      \
  X(kQtypePtr, "qtype_ptr", Counter, "queries for type PTR")                                      \
  X(kQtypeMx, "qtype_mx", Counter, "queries for type MX")                                         \
  X(kQtypeTxt, "qtype_txt", Counter, "queries for type TXT")                                      \
  X(kQtypeSrv, "qtype_srv", Counter, "queries for type SRV")                                      \
  X(kQtypeCaa, "qtype_caa", Counter, "queries for type CAA")                                      \
  X(kQtypeAny, "qtype_any", Counter, "queries for type ANY")                                      \
  X(kQtypeOther, "qtype_other", Counter, "queries for any other type")                            \
  X(kRcodeNoErrorCount, "rcode_noerror", Counter, "answers with rcode NOERROR")                   \
  X(kRcodeFormErrCount, "rcode_formerr", Counter, "answers with rcode FORMERR")                   \
  X(kRcodeServFailCount, "rcode_servfail", Counter, "answers with rcode SERVFAIL")                \
  X(kRcodeNxDomainCount, "rcode_nxdomain", Counter, "answers with rcode NXDOMAIN")                \
  X(kRcodeNotImpCount, "rcode_notimp", Counter, "answers with rcode NOTIMP")                      \
  X(kRcodeRefusedCount, "rcode_refused", Counter, "answers with rcode REFUSED")                   \
  X(kRcodeBadVersCount, "rcode_badvers", Counter, "answers with extended rcode BADVERS")          \
  X(kNoData, "nodata", Counter, "NOERROR answers without records of the type asked")              \
  X(kTruncated, "truncated", Counter, "UDP answers sent truncated (TC set)")                      \
  X(kDropped, "dropped", Counter, "packets dropped unanswered (malformed or not a query)")        \
  X(kEdnsQueries, "edns_queries", Counter, "queries with an EDNS OPT record")                     \
  X(kEcsQueries, "ecs_queries", Counter, "queries with an EDNS client-subnet option")             \
  X(kRrlDropped, "rrl_dropped", Counter, "answers dropped by response rate limiting")             \
  X(kRrlSlipped, "rrl_slipped", Counter, "answers sent truncated by response rate limiting")      \
  X(kTcpConnections, "tcp_connections", Counter, "TCP connections accepted")                      \
  X(kProbeOk, "probe_ok", Counter, "health checks that succeeded")                                \
  X(kProbeFail, "probe_fail", Counter, "health checks that failed")                               \
  X(kRcodeNotAuthCount, "rcode_notauth", Counter, "answers with rcode NOTAUTH")                   \
  X(kXfrServed, "xfr_served", Counter, "full transfers (AXFR, or IXFR answered AXFR-style)")      \
  X(kXfrUpToDate, "xfr_uptodate", Counter, "IXFR answered with the SOA alone")                    \
  X(kXfrRefused, "xfr_refused", Counter, "transfers refused (allow_transfer, NOTAUTH, AXFR/UDP)") \
  X(kNotifySent, "notify_sent", Counter, "NOTIFY packets sent, retries included")                 \
  X(kNotifyAcked, "notify_acked", Counter, "NOTIFY messages acknowledged")                        \
  X(kNotifyFailed, "notify_failed", Counter, "NOTIFY messages given up on")                       \
  X(kTsigSigned, "tsig_ok", Counter, "requests with a valid TSIG (answered signed)")              \
  X(kTsigFailures, "tsig_failures", Counter, "requests refused for TSIG (BADKEY/BADSIG/BADTIME)") \
  X(kXfrIncremental, "ixfr_served", Counter, "IXFR answered incrementally from the journal")      \
  X(kXfrIn, "xfr_in", Counter, "secondary zones transferred in (AXFR or IXFR)")                   \
  X(kXfrInFailed, "xfr_in_failed", Counter, "transfers in that failed (retried later)")           \
  X(kNotifyIn, "notify_in", Counter, "NOTIFY accepted for a secondary zone")

// The LRRR block, in its own index space (Lrrr::answer gets the block as a CounterSlot).
#define MANIFOLD_DNS_LRRR_COUNTERS(X)                                                            \
  X(kLrrrChains, "lrrr_chains", Counter, "LRRR chains started (name without a cached decision)") \
  X(kLrrrSteps, "lrrr_steps", Counter, "LRRR measurement-chain queries answered")                \
  X(kLrrrDecisions, "lrrr_decisions", Counter, "LRRR decisions stored")                          \
  X(kLrrrHits, "lrrr_cache_hits", Counter, "LRRR names answered from the decision cache")        \
  X(kLrrrLeftWins, "lrrr_left_wins", Counter, "LRRR decisions for the left side")                \
  X(kLrrrRightWins, "lrrr_right_wins", Counter, "LRRR decisions for the right side")             \
  X(kLrrrStale, "lrrr_stale", Counter, "LRRR tokens too old or too slow: own addresses answered")

enum LrrrCounter : unsigned { MANIFOLD_DNS_LRRR_COUNTERS(MANIFOLD_COUNTER_ENUM) kLrrrCounterCount };

enum Counter : unsigned {
  MANIFOLD_DNS_COUNTERS(MANIFOLD_COUNTER_ENUM) kLrrrFirst,
  kLrrrEnd = kLrrrFirst + kLrrrCounterCount,
  kFixedCounters = kLrrrEnd
};

// Per zone, after the health gauges (DnsConfig::zoneCounterBase), kZoneCounters each: the name
// is z_<zone>_ + the suffix below, the help "zone <zone>: " + the text below.
#define MANIFOLD_DNS_ZONE_COUNTERS(X)                                                  \
  X(kZoneSerial, "serial", Gauge, "serial served")                                     \
  X(kZoneXfrIn, "xfr_in_time", Gauge, "unix time of the last transfer in (secondary)") \
  X(kZoneXfrOut, "xfr_out", Counter, "transfers out (AXFR and IXFR)")                  \
  X(kZoneXfrOutTime, "xfr_out_time", Gauge, "unix time of the last transfer out")      \
  X(kZoneJournal, "journal_bytes", Gauge, "IXFR journal size")                         \
  X(kZoneTsigFailures, "tsig_failures", Counter, "requests refused for TSIG")          \
  X(kZoneSigExpiry, "sig_expiry", Gauge, "unix time its earliest signature expires (0 = unsigned)")

enum ZoneCounter : unsigned { MANIFOLD_DNS_ZONE_COUNTERS(MANIFOLD_COUNTER_ENUM) kZoneCounters };

inline constexpr shm::CounterDef kCounterDefs[] = {MANIFOLD_DNS_COUNTERS(MANIFOLD_COUNTER_DEF)};
inline constexpr shm::CounterDef kLrrrCounterDefs[] = {
    MANIFOLD_DNS_LRRR_COUNTERS(MANIFOLD_COUNTER_DEF)};
inline constexpr shm::CounterDef kZoneCounterDefs[] = {
    MANIFOLD_DNS_ZONE_COUNTERS(MANIFOLD_COUNTER_DEF)};
static_assert(std::size(kCounterDefs) == kLrrrFirst);

}  // namespace manifold::dns
