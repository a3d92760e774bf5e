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
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocols/dns/dnssec_zone.hpp"
#include "protocols/dns/message.hpp"
#include "protocols/dns/name_table.hpp"
#include "protocols/dns/zone_memory.hpp"
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
  // NSD's defaults: the zone's NS in the authority section of positive answers, RRsets in file
  // order. Call before finish().
  void setAnswerOptions(bool minimalResponses, RrsetOrder order) {
    minimal_ = minimalResponses;
    order_ = order;
  }
  // Bytes of DO answers prebuilt at most (past it they are written per query); before finish().
  void setPrebuiltDoBudget(size_t bytes) { prebuiltDoBudget_ = bytes; }
  // Builds the lookup tables and precomputed answers.
  void finish();
  // Signed zones (dnssec_load.cpp): "zone Z: signatures expire at DATE (OWNER TYPE)" for each
  // zone whose earliest RRSIG expiration is before `now + within` seconds, and "zone Z: OWNER
  // TYPE is not signed" for RRsets of a signed zone without an RRSIG (the `-t` check).
  std::vector<std::string> signatureWarnings(uint32_t now, uint32_t within) const;
  std::vector<std::string> unsignedRrsets(size_t maxReported = 20) const;
  // Earliest RRSIG expiration of zone z (unix seconds, 0 when unsigned).
  uint32_t zoneSignatureExpiry(size_t z) const { return zones_[z].sec.earliestExpiry; }

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
          if (set.type != kTypeSoa) {
            for (const auto& rd : set.rdatas)
              f(std::string_view(n.owner), set.type, set.ttl, std::string_view(rd));
            for (const auto& rd : set.sigs)
              f(std::string_view(n.owner), kTypeRrsig, set.sigTtl, std::string_view(rd));
          }
    for (const Node& n : nodes_)  // the SOA's signatures (the SOA itself opens and ends a transfer)
      if (n.zone == z)
        for (const RRset& set : n.sets)
          if (set.type == kTypeSoa)
            for (const auto& rd : set.sigs)
              f(std::string_view(n.owner), kTypeRrsig, set.sigTtl, std::string_view(rd));
    for (const Nsec3Entry& e : zones_[z].sec.nsec3s) {
      f(std::string_view(e.owner), kTypeNsec3, e.ttl, std::string_view(e.rdata));
      for (const auto& rd : e.sigs)
        f(std::string_view(e.owner), kTypeRrsig, e.sigTtl, std::string_view(rd));
    }
  }

  size_t recordCount() const { return records_; }
  // In a worker: this database is in use (zone_memory.hpp).
  void claimMemory() { memory_.claim(); }
  size_t mappedBytes() const { return memory_.mappedBytes(); }
  size_t precomputedCount() const { return precomputed_.size(); }

 private:
  struct RRset {
    uint16_t type;
    uint32_t ttl;
    std::pmr::vector<std::pmr::string> rdatas;
    std::pmr::vector<std::pmr::string> sigs;  // RRSIGs covering this RRset (sent with DO)
    uint32_t sigTtl = 0;
  };
  struct Node {
    std::pmr::string name;   // lowercase wire
    std::pmr::string owner;  // as written in the zone
    uint32_t zone = 0;
    std::pmr::vector<RRset> sets;
    bool delegation = false;  // NS below an apex
    bool occluded = false;    // below a delegation: only glue
    bool cname = false;
    int pool = -1;
    uint32_t wildcard = NameTable::kNone;  // node of "*.<this name>", when there is one
    std::pmr::vector<std::pair<uint16_t, uint32_t>> answers;    // qtype -> precomputed index
    uint32_t nodata = NameTable::kNone;                         // any other type
    std::pmr::vector<std::pair<uint16_t, uint32_t>> answersDo;  // types present, with DNSSEC
    int nsec3 = -1;          // the NSEC3 matching this name in its zone's chain
    int wildcardCover = -1;  // the NSEC3 covering "*.<name>" (names without a wildcard child)
  };
  struct Zone {
    std::string origin;  // lowercase wire
    uint32_t apex = 0;   // node index
    const RRset* soa = nullptr;
    uint32_t negativeTtl = 0;
    ZoneSec sec;
  };
  struct Cut {
    uint32_t len;  // tail bytes kept
    uint16_t counts[3];
  };
  struct Precomputed {
    std::pmr::string tail;  // everything after the question
    uint16_t flags;         // AA and rcode bits
    uint16_t counts[3];
    std::pmr::vector<Cut> cuts;
    bool nodata;
  };

  // Generic answer writer; `cuts` (precompute mode) records RRset boundaries.
  struct Build {
    PacketWriter* w;
    AnswerContext* ctx;
    const Query* q;
    std::pmr::vector<Cut>* cuts = nullptr;
    size_t tailStart = 0;
    bool dynamic = false;
    bool truncated = false;
    bool nodata = false;
    bool dnssec = false;  // DO: RRSIGs and denial proofs
    // Names answered from a wildcard along a CNAME chain: their proofs go in the authority
    // section once the answer section is complete.
    struct Synthesized {
      const Zone* zone;
      const Node* encloser;
      uint8_t len;
      char name[kMaxName];
    };
    Synthesized synthesized[4];
    unsigned synthesizedCount = 0;
    // RRsets already in the message: additional-section processing skips them, as NSD does.
    const RRset* written[16];
    unsigned writtenCount = 0;
  };
  void build(Build& b, std::string_view qname, uint16_t qtype) const;
  bool addSet(Build& b, PacketWriter::Section s, std::string_view owner, const RRset& set) const;
  bool addRecords(Build& b, PacketWriter::Section s, std::string_view owner, uint16_t type,
                  uint32_t ttl, const std::pmr::string* rdatas, size_t n,
                  const RRset* signedBy) const;
  bool addPool(Build& b, std::string_view owner, const Pool& pool, uint16_t qtype) const;
  void addAdditional(Build& b, std::string_view target) const;
  void addSoa(Build& b, const Zone& z) const;
  const Node* findNode(std::string_view name) const;
  // The node answering for `name` in zone `zone`: the name's own node, else the wildcard below its
  // closest encloser (RFC 4592 3.3.1), else null (NXDOMAIN).
  // `encloser` (when given) receives the closest encloser of a name that does not exist.
  const Node* resolveNode(std::string_view name, uint32_t zone,
                          const Node** encloser = nullptr) const;
  const RRset* findSet(const Node& n, uint16_t type) const;
  int findZone(std::string_view name) const;
  void precompute(Node& node, uint32_t index);
  void precomputeVariant(Node& node, bool dnssec);
  // Denial of existence (dnssec_answer.cpp), written into the authority section when b.dnssec.
  enum class Denial : uint8_t { kNoData, kNxDomain, kWildcard, kWildcardNoData, kReferral };
  // `name` is the name denied (or the query name answered from a wildcard), `encloser` its
  // closest encloser (a wildcard's parent) or, for a referral, the cut.
  void addDenial(Build& b, const Zone& z, Denial kind, std::string_view name,
                 const Node* encloser) const;
  bool addNsecOf(Build& b, const Node& n) const;
  const Node* nsecCovering(const Zone& z, std::string_view name) const;
  void addNsecCovering(Build& b, const Zone& z, std::string_view name, const Node** done) const;
  void addNsec3(Build& b, const Zone& z, int index, int* done) const;
  int nsec3For(const Zone& z, std::string_view name) const;  // match, by hash
  int nsec3Covering(const Zone& z, std::string_view name) const;
  // The zone's NS (and signatures) in authority, then the additional section, of a positive
  // answer; `set` the answer RRset.
  void finishPositive(Build& b, const Zone& z, const RRset& set, bool withNs) const;
  void addSynthesizedProofs(Build& b) const;
  bool loadSigned(Zone& z, const std::map<std::string, uint32_t>& names,
                  std::vector<ZoneRecord>& sigs, std::vector<ZoneRecord>& nsec3s,
                  std::string& error);
  void finishSigned(Zone& z);
  uint32_t storePrecomputed(Precomputed&& p, bool shareable);
  size_t emitPrecomputed(const Precomputed& p, const Query& q, uint8_t* out, size_t limit,
                         AnswerInfo& info) const;

  ZoneMemory memory_;  // first: everything below may allocate from it (zone_memory.hpp)
  std::vector<Zone> zones_;
  std::pmr::vector<Node> nodes_{memory_.resource()};
  std::vector<Pool> pools_;
  std::vector<View> views_;
  std::pmr::vector<Precomputed> precomputed_{memory_.resource()};
  // Bytes of DO answers prebuilt so far, and their cap per database (precompute()).
  size_t prebuiltDoBudget_ = size_t{64} << 20;
  size_t prebuiltDoBytes_ = 0;
  std::unordered_multimap<uint64_t, uint32_t> shared_;  // NODATA answers by content (load only)
  NameTable nodeIndex_{memory_.resource()}, zoneIndex_{memory_.resource()};
  size_t records_ = 0;
  bool minimal_ = false;
  RrsetOrder order_ = RrsetOrder::kFixed;
};

}  // namespace manifold::dns
