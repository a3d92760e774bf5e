// The counters of a [dns:NAME] service (queries, rcodes, RRL, probes, transfers, NOTIFY, LRRR),
// in shm order (see ServiceConfig::counters()). After the
// fixed ones come two gauges per health target: <target>_up (1/0) and <target>_checked (unix
// time of the last finished check), so `manifold-shm` shows every target's state.
#pragma once

#include <cstdint>

namespace manifold::dns {

enum Counter : unsigned {
  kQueries,
  kQueriesUdp,
  kQueriesTcp,
  kQtypeA,
  kQtypeAaaa,
  kQtypeNs,
  kQtypeCname,
  kQtypeSoa,
  kQtypePtr,
  kQtypeMx,
  kQtypeTxt,
  kQtypeSrv,
  kQtypeCaa,
  kQtypeAny,
  kQtypeOther,
  kRcodeNoErrorCount,
  kRcodeFormErrCount,
  kRcodeServFailCount,
  kRcodeNxDomainCount,
  kRcodeNotImpCount,
  kRcodeRefusedCount,
  kRcodeBadVersCount,
  kNoData,
  kTruncated,
  kDropped,
  kEdnsQueries,
  kEcsQueries,
  kRrlDropped,
  kRrlSlipped,
  kTcpConnections,
  kProbeOk,
  kProbeFail,
  kRcodeNotAuthCount,
  kXfrServed,    // full transfers (AXFR, or IXFR answered AXFR-style)
  kXfrUpToDate,  // IXFR answered with the SOA alone
  kXfrRefused,   // REFUSED by allow_transfer, NOTAUTH, or AXFR over UDP
  kNotifySent,   // NOTIFY packets, retries included
  kNotifyAcked,
  kNotifyFailed,
  kLrrrFirst,  // kLrrrCounterCount slots in LrrrCounter order (lrrr.hpp)
  kLrrrEnd = kLrrrFirst + 7,
  kFixedCounters = kLrrrEnd
};

inline constexpr const char* kCounterNames[kFixedCounters] = {
    "queries",        "queries_udp",     "queries_tcp",     "qtype_a",          "qtype_aaaa",
    "qtype_ns",       "qtype_cname",     "qtype_soa",       "qtype_ptr",        "qtype_mx",
    "qtype_txt",      "qtype_srv",       "qtype_caa",       "qtype_any",        "qtype_other",
    "rcode_noerror",  "rcode_formerr",   "rcode_servfail",  "rcode_nxdomain",   "rcode_notimp",
    "rcode_refused",  "rcode_badvers",   "nodata",          "truncated",        "dropped",
    "edns_queries",   "ecs_queries",     "rrl_dropped",     "rrl_slipped",      "tcp_connections",
    "probe_ok",       "probe_fail",      "rcode_notauth",   "xfr_served",       "xfr_uptodate",
    "xfr_refused",    "notify_sent",     "notify_acked",    "notify_failed",
    "lrrr_chains",    "lrrr_steps",      "lrrr_decisions",  "lrrr_cache_hits",  "lrrr_left_wins",
    "lrrr_right_wins", "lrrr_stale"};

}  // namespace manifold::dns
