// Zones compiled at load into a lookup structure, and the answer logic of an authoritative
// server (RFC 1034 4.3.2): exact-name hash -> node -> RRsets; delegations answered with
// referrals and glue; CNAME chains followed inside our zones; NXDOMAIN/NODATA with the SOA in the
// authority section (TTL min(SOA TTL, MINIMUM), RFC 2308); REFUSED outside our zones; ANY answered
// with one RRset (RFC 8482); additional A/AAAA for NS, MX and SRV targets; wildcards (RFC 4592):
// a name that does not exist is answered from "*.<closest encloser>" when that node exists, with
// the query name as owner (existing names, empty non-terminals included, block it; nothing below
// a zone cut matches).
//
// Answers that depend only on (name, type) are built once at load ("precomputed": the bytes after
// the question, with compression pointers valid because the question always sits at offset 12
// with the same length) together with the RRset boundaries where they may be cut for a UDP
// limit. Query time is then a hash lookup and a memcpy. Failover pools and anything else dynamic
// are written per query with PacketWriter into the send buffer; neither path allocates.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocols/dns/message.hpp"
#include "protocols/dns/name_table.hpp"
#include "protocols/dns/zone_parser.hpp"
#include "worker/peer_address.hpp"

namespace manifold::dns {

// Health of one probed target, in shm, written only by the probing worker (the one that runs
// instance tasks).
struct HealthSlot {
  std::atomic<uint32_t> up;  // 1 = serving, 0 = hidden
  uint32_t okStreak;
  uint32_t failStreak;
  std::atomic<uint32_t> latencyUs;     // round trip of the last good probe (the dashboard)
  std::atomic<uint64_t> lastCheckMs;   // wall clock of the last finished probe
  std::atomic<uint64_t> lastChangeMs;  // wall clock of the last up/down change
  std::atomic<uint64_t> checks;
  std::atomic<uint64_t> failures;
};
static_assert(sizeof(HealthSlot) == 48);

struct PoolAddress {
  uint16_t type = kTypeA;  // A or AAAA
  uint8_t bytes[16] = {};
  int target = -1;  // HealthSlot index, -1 = not probed (always up)
  uint32_t weight = 1;
};

struct View {
  std::string name;
  std::vector<net::Cidr> networks;
};

// One name's addresses for one view (or the default): level 0 is the pool itself, level 1 its
// `_name` backup, level 2 `__name`, ...; `fallback` answers when every level is down.
struct PoolVariant {
  int view = -1;  // index in views, -1 = default
  std::vector<std::vector<PoolAddress>> levels;
  std::vector<PoolAddress> fallback;
};

struct Pool {
  std::string name;  // lowercase wire
  uint32_t ttl = 30;
  std::vector<PoolVariant> variants;
};

// Everything an answer may depend on besides the query itself.
struct AnswerContext {
  const HealthSlot* health = nullptr;
  const sockaddr* client = nullptr;
  uint64_t* rotation = nullptr;  // per-worker round-robin counter
  uint8_t ecsScope = 0;          // out: scope prefix to echo when the view used ECS
};

struct AnswerInfo {
  uint8_t rcode = 0;
  bool truncated = false;
  bool nodata = false;
};

class ZoneDb {
 public:
  // Parses and compiles `files` (each "path" or "path origin"; without an origin it is taken
  // from the file's SOA owner... so the first record must be the SOA, or $ORIGIN given).
  // Returns false with "file:line: why".
  bool load(const std::vector<std::string>& files, std::string& error);
  // Adds failover pools (call before finish()); returns false with why when a pool name is not
  // inside one of our zones.
  bool addPools(std::vector<Pool> pools, std::vector<View> views, std::string& why);
  // Builds the lookup tables and precomputed answers.
  void finish();

  // Answers a parsed query into `out`, limited to `limit` bytes (UDP size or 65535 on TCP).
  size_t answer(const Query& q, AnswerContext& ctx, uint8_t* out, size_t limit,
                AnswerInfo& info) const;

  // True when a lowercase wire name lies inside one of our zones.
  bool inZone(std::string_view lowerName) const { return findZone(lowerName) >= 0; }
  // True when the name carries a failover pool.
  bool hasPool(std::string_view lowerName) const {
    const Node* n = findNode(lowerName);
    return n && n->pool >= 0;
  }

  // Zone enumeration for transfers and NOTIFY (control plane). The zone's SOA: owner as written,
  // TTL and uncompressed RDATA (the serial is its 20th-from-last byte).
  size_t zoneCount() const { return zones_.size(); }
  const std::string& zoneOrigin(size_t z) const { return zones_[z].origin; }
  struct SoaRecord {
    std::string_view owner;
    uint32_t ttl = 0;
    std::string_view rdata;
    uint32_t serial() const {
      return get32(reinterpret_cast<const uint8_t*>(rdata.data()) + rdata.size() - 20);
    }
  };
  SoaRecord zoneSoa(size_t z) const;
  // Every RR of zone z as loaded from its file (delegation NS and glue included, the SOA left
  // out; pools and wildcard synthesis are answers, not records), in load order.
  template <class F>
  void forEachRecord(size_t z, F&& f) const {
    for (const Node& n : nodes_)
      if (n.zone == z)
        for (const RRset& set : n.sets)
          if (set.type != kTypeSoa)
            for (const std::string& rd : set.rdatas)
              f(std::string_view(n.owner), set.type, set.ttl, std::string_view(rd));
  }

  size_t recordCount() const { return records_; }
  size_t precomputedCount() const { return precomputed_.size(); }

 private:
  struct RRset {
    uint16_t type;
    uint32_t ttl;
    std::vector<std::string> rdatas;
  };
  struct Node {
    std::string name;   // lowercase wire
    std::string owner;  // as written in the zone
    uint32_t zone = 0;
    std::vector<RRset> sets;
    bool delegation = false;  // NS below an apex
    bool occluded = false;    // below a delegation: only glue
    bool cname = false;
    int pool = -1;
    uint32_t wildcard = NameTable::kNone;  // node of "*.<this name>", when there is one
    std::vector<std::pair<uint16_t, uint32_t>> answers;  // qtype -> precomputed index
    uint32_t nodata = NameTable::kNone;                  // any other type
  };
  struct Zone {
    std::string origin;  // lowercase wire
    uint32_t apex = 0;   // node index
    const RRset* soa = nullptr;
    uint32_t negativeTtl = 0;
  };
  struct Cut {
    uint32_t len;  // tail bytes kept
    uint16_t counts[3];
  };
  struct Precomputed {
    std::string tail;  // everything after the question
    uint16_t flags;    // AA and rcode bits
    uint16_t counts[3];
    std::vector<Cut> cuts;
    bool nodata;
  };

  // Generic answer writer; `cuts` (precompute mode) records RRset boundaries.
  struct Build {
    PacketWriter* w;
    AnswerContext* ctx;
    const Query* q;
    std::vector<Cut>* cuts = nullptr;
    size_t tailStart = 0;
    bool dynamic = false;
    bool truncated = false;
    bool nodata = false;
  };
  void build(Build& b, std::string_view qname, uint16_t qtype) const;
  bool addSet(Build& b, PacketWriter::Section s, std::string_view owner, const RRset& set) const;
  bool addPool(Build& b, std::string_view owner, const Pool& pool, uint16_t qtype) const;
  void addAdditional(Build& b, std::string_view target) const;
  void addSoa(Build& b, const Zone& z) const;
  const Node* findNode(std::string_view name) const;
  // The node answering for `name` in zone `zone`: the name's own node, else the wildcard below its
  // closest encloser (RFC 4592 3.3.1), else null (NXDOMAIN).
  const Node* resolveNode(std::string_view name, uint32_t zone) const;
  const RRset* findSet(const Node& n, uint16_t type) const;
  int findZone(std::string_view name) const;
  void precompute(Node& node, uint32_t index);
  size_t emitPrecomputed(const Precomputed& p, const Query& q, uint8_t* out, size_t limit,
                         AnswerInfo& info) const;

  std::vector<Zone> zones_;
  std::vector<Node> nodes_;
  std::vector<Pool> pools_;
  std::vector<View> views_;
  std::vector<Precomputed> precomputed_;
  NameTable nodeIndex_, zoneIndex_;
  size_t records_ = 0;
};

}  // namespace manifold::dns
