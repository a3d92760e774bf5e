// [dns:NAME]: an authoritative DNS server over UDP (batched) and TCP (RFC 7766: 2-byte length
// prefix, several queries per connection, idle timeout), with health-checked failover pools.
//
//   listen = 127.0.0.1:53 [::1]:53         UDP and TCP on each address
//   zones = example.com=etc/zones/example.com.zone other.zone   (origin=path, or path named
//   ORIGIN.zone) max_udp_payload = 1232                 cap for EDNS answers (512 without EDNS)
//   tcp_idle_timeout = 10s
//   tcp_max_connections = 100              per worker (NSD's tcp-count); at the cap new ones wait
//   pool_ttl = 30                          TTL of pool answers
//   rrl_rate = 0                           UDP answers/s per client prefix, all workers together (0
//   = off) rrl_slip = 2                           every Nth limited answer goes out truncated (TC)
//   view.NAME = 10.0.0.0/8 2001:db8::/32   client networks (source address, or ECS when present)
//   pool.www.example.com = 192.0.2.1 192.0.2.2*3 2001:db8::1   (*W = weight)
//   pool._www.example.com = 192.0.2.10     backup level 1 (3nsd's _name), __name = level 2, ...
//   pool.www.example.com@NAME = ...        the pool for clients in view NAME
//   fallback.www.example.com = 192.0.2.99  when every level is down
//   check.www.example.com = tcp:80 interval=2s timeout=1s rise=2 fall=2
//                         | http:8080/health status=200 ... | icmp ...
//   lrrr.www.example.com = side=left left=192.0.2.1,2001:db8::1 right=198.51.100.1 key=SECRET
//                          [prefix=lr lr_ttl=60s ttl=30 max_rtt=2s prefix4=24 prefix6=56]
//   lrrr_cache = 1m                        shm budget of the LRRR decision cache
//   allow_transfer = 192.0.2.0/24 ::1      who may AXFR/IXFR (default none: REFUSED)
//   notify = 192.0.2.53 [2001:db8::53]:5300   secondaries told of a new serial (NOTIFY)
//   minimal_responses = off                 on: no zone NS/glue added to positive answers
//   rrset_order = fixed                     cyclic | random: zone-file RRsets rotated/shuffled
//
// This file: the scalar keys, the zones and the registration; pools and checks are in
// config_pools.cpp, lrrr.NAME in config_lrrr.cpp, transfers in config_xfr.cpp.
#include "protocols/dns/config.hpp"

#include <arpa/inet.h>
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "worker/log.hpp"

namespace manifold::dns {

bool parseAddress(const std::string& text, PoolAddress& out) {
  std::string addr = text;
  size_t star = text.rfind('*');
  if (star != std::string::npos) {
    addr = text.substr(0, star);
    int w = atoi(text.c_str() + star + 1);
    if (w <= 0 || w > 1000) return false;
    out.weight = static_cast<uint32_t>(w);
  }
  if (inet_pton(AF_INET, addr.c_str(), out.bytes) == 1) {
    out.type = kTypeA;
    return true;
  }
  if (inet_pton(AF_INET6, addr.c_str(), out.bytes) == 1) {
    out.type = kTypeAaaa;
    return true;
  }
  return false;
}

std::vector<std::string> configWords(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

namespace {

// Signed zones: signatures expired or expiring within a week, and RRsets left unsigned, are
// logged at every load (so `manifold -t` prints them) without refusing the zone, as NSD.
void warnAboutSignatures(const std::string& section, const ZoneDb& db) {
  constexpr uint32_t kSoon = 7 * 86400;
  for (const std::string& w : db.signatureWarnings(static_cast<uint32_t>(time(nullptr)), kSoon))
    LOG_WARN("[dns:%s] %s", section.c_str(), w.c_str());
  for (const std::string& w : db.unsignedRrsets())
    LOG_WARN("[dns:%s] %s", section.c_str(), w.c_str());
}

std::unique_ptr<ServiceConfig> parseDnsSection(config::SectionReader& in) {
  auto cfg = std::make_unique<DnsConfig>();
  cfg->listen = in.listen("listen");
  cfg->line = in.lineOf("listen");
  cfg->maxUdp = static_cast<uint16_t>(in.integer("max_udp_payload", 1232, 512, 4096));
  cfg->tcpIdle = in.seconds("tcp_idle_timeout", config::Millis(10000), config::Millis(100),
                            config::Millis(3600000));
  cfg->tcpMaxConnections = static_cast<size_t>(in.integer("tcp_max_connections", 100, 1, 100000));
  // A message must arrive whole this long after its first byte (a slow sender cannot hold a
  // connection by trickling one message, as HTTP's client_header_timeout for request heads).
  cfg->tcpMessageTimeout = in.seconds("tcp_message_timeout", config::Millis(3000),
                                      config::Millis(100), config::Millis(3600000));
  uint32_t poolTtl = static_cast<uint32_t>(in.integer("pool_ttl", 30, 0, 86400));
  cfg->rrl.rate = static_cast<unsigned>(in.integer("rrl_rate", 0, 0, 1000000));
  cfg->rrl.slip = static_cast<unsigned>(in.integer("rrl_slip", 2, 0, 10));
  cfg->rrl.ipv4Prefix = static_cast<unsigned>(in.integer("rrl_ipv4_prefix", 24, 8, 32));
  cfg->rrl.ipv6Prefix = static_cast<unsigned>(in.integer("rrl_ipv6_prefix", 56, 16, 128));
  std::vector<std::string> zones = in.list("zones", "");
  if (zones.empty() && !in.has("secondary"))
    in.fail("zones", "at least one zone file (or secondary zone) is required");
  char cwd[4096];
  std::string base = getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" : "";
  for (auto& z : zones) {
    size_t eq = z.find('=');
    size_t p = eq == std::string::npos ? 0 : eq + 1;
    if (z.size() > p && z[p] != '/') z.insert(p, base);
  }
  parseSecondaries(in, *cfg, zones);  // keys, and the secondaries' copies added to zones
  std::string error;
  if (!cfg->db->load(zones, error)) in.fail("zones", error);
  // NSD's defaults: the zone's NS in positive answers, zone-file RRsets in file order.
  std::string order = in.choice("rrset_order", "fixed", {"fixed", "cyclic", "random"});
  cfg->db->setAnswerOptions(in.flag("minimal_responses", false),
                            order == "cyclic"   ? RrsetOrder::kCyclic
                            : order == "random" ? RrsetOrder::kRandom
                                                : RrsetOrder::kFixed);
  // Signed answers prebuilt up to this many bytes (README "DNSSEC"); 0: all written per query.
  cfg->db->setPrebuiltDoBudget(in.size("dnssec_prebuilt", 64ull << 20, 0, 1ull << 40));
  parsePools(in, *cfg, poolTtl);
  cfg->db->finish();
  malloc_trim(0);  // the parse's garbage (gigabytes for a large zone) back to the system
  warnAboutSignatures(in.section().name, *cfg->db);
  parseLrrr(in, *cfg);
  parseTransfers(in, *cfg);
  cfg->indexZoneCounters();
  LOG_INFO(
      "[dns:%s] %zu zone(s), %zu records, %zu precomputed answers, %zu MB, %zu health "
      "target(s)",
      in.section().name.c_str(), cfg->db->zoneCount(), cfg->db->recordCount(),
      cfg->db->precomputedCount(), cfg->db->mappedBytes() >> 20, cfg->targets.size());
  return cfg;
}

}  // namespace

MANIFOLD_PROTOCOL("dns", parseDnsSection);

}  // namespace manifold::dns
