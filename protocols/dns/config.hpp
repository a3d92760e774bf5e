// The master half of [dns:NAME]: the validated section and what it asks of the master
// (sockets, shm regions, counters). Parsed in config.cpp (scalar keys and zones),
// config_pools.cpp (views, pools, checks), config_lrrr.cpp (lrrr.NAME) and
// config_xfr.cpp (allow_transfer, notify);
// its requests to the master are in regions.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/health.hpp"
#include "protocols/dns/lrrr.hpp"
#include "protocols/dns/notify.hpp"
#include "protocols/dns/rrl.hpp"
#include "protocols/dns/secondary_zone.hpp"
#include "protocols/dns/transfer.hpp"
#include "protocols/dns/zone_db.hpp"
#include "protocols/service.hpp"
#include "shm/region_header.hpp"

namespace manifold::dns {

// Health region layout: HealthRegionHeader, then HealthSlot[targets] (48 bytes each).
struct HealthRegionHeader {
  shm::RegionMagic magic;  // "MFDNSHL1"
  uint32_t targets;
  uint32_t reserved;
};

struct DnsConfig : ServiceConfig {
  std::vector<config::ListenAddress> listen;
  int line = 0;
  std::shared_ptr<ZoneDb> db = std::make_shared<ZoneDb>();
  std::vector<HealthTarget> targets;
  bool wantsIcmp = false;
  std::shared_ptr<IcmpSocket> icmp;  // opened by the master while privileged, shared by workers
  uint16_t maxUdp = 1232;
  double tcpIdle = 10;
  double tcpMessageTimeout = 3;    // from the first byte of a message to its last
  size_t tcpMaxConnections = 100;  // per worker
  RrlSettings rrl;
  std::string targetsKey;  // identity of the target list, part of the region layout
  std::shared_ptr<Lrrr> lrrr;
  size_t lrrrBytes = 0;
  std::shared_ptr<Transfers> transfers = std::make_shared<Transfers>();  // allow_transfer, images
  std::vector<NotifyTarget> notify;
  std::vector<TsigKey> keys;               // `key =` (TSIG); filled before anything points at them
  std::vector<SecondaryZone> secondaries;  // `secondary =` (secondary_zone.hpp)
  std::string secondaryDir;

  std::vector<ListenRequest> listeners() const override;
  size_t regionBytes() const {
    return sizeof(HealthRegionHeader) + targets.size() * sizeof(HealthSlot);
  }
  void acquirePrivileged() override;
  std::vector<RegionRequest> regions() const override;
  // Where each region sits in regions() (and so in ServiceContext::regions); -1 = not asked for.
  struct RegionSlots {
    int lrrr = -1, health = -1, rrl = -1, notify = -1, zoneTimes = -1, secondary = -1;
  };
  RegionSlots regionSlots() const;
  RegionRequest healthRegion() const;
  std::vector<CounterSpec> counters() const override;
  // Per-zone counters (counters.hpp ZoneCounter) follow the health gauges: the served zones in
  // load order, then the secondaries without a copy.
  // Built once (indexZoneCounters, at the end of the section's parse).
  const std::vector<std::string>& zoneCounterOrigins() const { return zoneOrigins_; }
  void indexZoneCounters();
  unsigned zoneCounterBase() const {
    return kFixedCounters + 2 * static_cast<unsigned>(targets.size());
  }
  int zoneCounter(std::string_view origin, unsigned which) const;  // -1: no such zone
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;

 private:
  std::vector<std::string> zoneOrigins_;
};

// Words of a config value, split on blanks and commas.
std::vector<std::string> configWords(const std::string& value);
// "ADDR" or "ADDR*WEIGHT", IPv4 or IPv6.
bool parseAddress(const std::string& text, PoolAddress& out);

// view.V, pool.[_]NAME[@V], fallback.NAME[@V], check.NAME: adds the pools to cfg.db (finished
// afterwards by the caller) and the health targets to cfg.
void parsePools(config::SectionReader& in, DnsConfig& cfg, uint32_t poolTtl);
// lrrr.NAME and lrrr_cache; needs cfg.db finished.
void parseLrrr(config::SectionReader& in, DnsConfig& cfg);
// allow_transfer and notify; builds the transfer images; needs cfg.db finished.
void parseTransfers(config::SectionReader& in, DnsConfig& cfg);
// The `key =` named NAME (presentation form), or null.
const TsigKey* keyNamed(const DnsConfig& cfg, std::string name);
// key, secondary, secondary_dir: adds the usable copies to `zones` (config_secondary.cpp).
void parseSecondaries(config::SectionReader& in, DnsConfig& cfg, std::vector<std::string>& zones);

}  // namespace manifold::dns
