#include "protocols/dns/zone_db.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace manifold::dns {

namespace {

constexpr uint16_t kFlagQr = 0x8000, kFlagAa = 0x0400, kFlagTc = 0x0200;
constexpr unsigned kMaxChain = 8;
constexpr uint16_t kOtherType = 65280;  // private-use type standing for "any type not present"

// The suffix of a wire name starting at each label, shortest last.
unsigned labelOffsets(std::string_view name, size_t* out, unsigned max) {
  unsigned n = 0;
  size_t i = 0;
  while (i < name.size() && n < max) {
    out[n++] = i;
    uint8_t l = static_cast<uint8_t>(name[i]);
    if (l == 0) break;
    i += 1 + l;
  }
  return n;
}

std::string fileOriginGuess(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  for (const char* ext : {".zone", ".db"}) {
    std::string e(ext);
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
      break;
    }
  }
  return base + ".";
}

}  // namespace

bool Cidr::contains(int fam, const uint8_t* addr) const {
  if (fam != family) return false;
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(addr, bytes, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (addr[full] & mask) == (bytes[full] & mask);
}

bool clientAddress(const sockaddr* peer, int& family, uint8_t addr[16]) {
  family = peer ? peer->sa_family : 0;
  if (family == AF_INET) {
    std::memcpy(addr, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, 4);
    return true;
  }
  if (family != AF_INET6) return false;
  const auto* a6 = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr);
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a6, mapped, 12) == 0) {
    family = AF_INET;
    std::memcpy(addr, a6 + 12, 4);
  } else {
    std::memcpy(addr, a6, 16);
  }
  return true;
}

bool ZoneDb::load(const std::vector<std::string>& files, std::string& error) {
  std::map<std::string, uint32_t> byName;  // lowercase name -> node (built per zone below)
  for (const std::string& spec : files) {
    std::string path = spec, originText;
    size_t eq = spec.find('=');
    if (eq != std::string::npos) {
      originText = spec.substr(0, eq);
      path = spec.substr(eq + 1);
      if (originText.empty() || originText.back() != '.') originText += '.';
    } else {
      originText = fileOriginGuess(path);
    }
    ZoneParseResult parsed = parseZoneFile(path, originText);
    if (!parsed.ok) {
      error = parsed.error;
      return false;
    }
    std::string originWire, why;
    if (!textToName(originText, "", originWire, why)) {
      error = path + ":0: bad zone origin '" + originText + "': " + why;
      return false;
    }
    originWire = lowerName(originWire);
    for (const auto& z : zones_)
      if (z.origin == originWire) {
        error = path + ":0: zone " + nameToText(originWire) + " is loaded twice";
        return false;
      }
    uint32_t zi = static_cast<uint32_t>(zones_.size());
    zones_.push_back(Zone{originWire, 0, nullptr, 0});
    std::map<std::string, uint32_t> local;
    auto nodeFor = [&](const std::string& lower, const std::string& owner) -> uint32_t {
      auto it = local.find(lower);
      if (it != local.end()) return it->second;
      Node n;
      n.name = lower;
      n.owner = owner;
      n.zone = zi;
      nodes_.push_back(std::move(n));
      uint32_t idx = static_cast<uint32_t>(nodes_.size() - 1);
      local.emplace(lower, idx);
      return idx;
    };
    zones_[zi].apex = nodeFor(originWire, originWire);
    bool haveSoa = false;
    for (auto& rec : parsed.records) {
      std::string lower = lowerName(rec.owner);
      auto where = [&]() { return rec.file + ":" + std::to_string(rec.line) + ": "; };
      if (!isSubdomain(lower, originWire)) {
        error = where() + nameToText(rec.owner) + " is outside the zone " + nameToText(originWire);
        return false;
      }
      if (rec.type == kTypeSoa) {
        if (lower != originWire) {
          error = where() + "SOA must be at the zone apex " + nameToText(originWire);
          return false;
        }
        if (haveSoa) {
          error = where() + "second SOA record";
          return false;
        }
        haveSoa = true;
      }
      // Every ancestor down to the apex exists (empty non-terminals answer NODATA).
      size_t offs[128];
      unsigned n = labelOffsets(lower, offs, 128);
      for (unsigned k = 1; k < n; ++k) {
        std::string_view anc = std::string_view(lower).substr(offs[k]);
        if (anc.size() < originWire.size()) break;
        nodeFor(std::string(anc), rec.owner.substr(offs[k]));
      }
      Node& node = nodes_[nodeFor(lower, rec.owner)];
      RRset* set = nullptr;
      for (auto& s : node.sets)
        if (s.type == rec.type) set = &s;
      bool hasCname = false, hasOther = false;
      for (auto& s : node.sets) (s.type == kTypeCname ? hasCname : hasOther) = true;
      if ((rec.type == kTypeCname && hasOther) || (rec.type != kTypeCname && hasCname)) {
        error = where() + "CNAME and other data at " + nameToText(rec.owner);
        return false;
      }
      if (rec.type == kTypeCname && set) {
        error = where() + "more than one CNAME at " + nameToText(rec.owner);
        return false;
      }
      if (!set) {
        node.sets.push_back(RRset{rec.type, rec.ttl, {}});
        set = &node.sets.back();
      }
      // RFC 2181 5.2: one TTL per RRset; the lowest wins. Duplicates are dropped.
      set->ttl = std::min(set->ttl, rec.ttl);
      if (std::find(set->rdatas.begin(), set->rdatas.end(), rec.rdata) == set->rdatas.end()) {
        set->rdatas.push_back(std::move(rec.rdata));
        ++records_;
      }
    }
    if (!haveSoa) {
      error = path + ":1: no SOA record for " + nameToText(originWire);
      return false;
    }
  }
  return true;
}

bool ZoneDb::addPools(std::vector<Pool> pools, std::vector<View> views, std::string& why) {
  views_ = std::move(views);
  for (auto& pool : pools) {
    // The longest origin containing the name.
    int best = -1;
    for (size_t z = 0; z < zones_.size(); ++z)
      if (isSubdomain(pool.name, zones_[z].origin) &&
          (best < 0 || zones_[z].origin.size() > zones_[best].origin.size()))
        best = static_cast<int>(z);
    if (best < 0) {
      why = "pool " + nameToText(pool.name) + " is not inside any loaded zone";
      return false;
    }
    uint32_t found = NameTable::kNone;
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].name == pool.name && nodes_[i].zone == static_cast<uint32_t>(best)) found = static_cast<uint32_t>(i);
    if (found == NameTable::kNone) {
      Node n;
      n.name = pool.name;
      n.owner = pool.name;
      n.zone = static_cast<uint32_t>(best);
      nodes_.push_back(std::move(n));
      found = static_cast<uint32_t>(nodes_.size() - 1);
      // Ancestors as empty non-terminals.
      size_t offs[128];
      unsigned cnt = labelOffsets(pool.name, offs, 128);
      for (unsigned k = 1; k < cnt; ++k) {
        std::string anc = pool.name.substr(offs[k]);
        if (anc.size() <= zones_[best].origin.size()) break;
        bool exists = false;
        for (auto& node : nodes_) exists = exists || (node.name == anc && node.zone == static_cast<uint32_t>(best));
        if (!exists) {
          Node e;
          e.name = anc;
          e.owner = anc;
          e.zone = static_cast<uint32_t>(best);
          nodes_.push_back(std::move(e));
        }
      }
    }
    for (auto& s : nodes_[found].sets)
      if (s.type == kTypeCname) {
        why = "pool " + nameToText(pool.name) + " is a CNAME in the zone";
        return false;
      }
    pools_.push_back(std::move(pool));
    nodes_[found].pool = static_cast<int>(pools_.size() - 1);
  }
  return true;
}

void ZoneDb::finish() {
  for (auto& z : zones_) {
    Node& apex = nodes_[z.apex];
    for (auto& s : apex.sets)
      if (s.type == kTypeSoa) z.soa = &s;
    if (z.soa) {
      const std::string& rd = z.soa->rdatas[0];
      uint32_t minimum = get32(reinterpret_cast<const uint8_t*>(rd.data()) + rd.size() - 4);
      z.negativeTtl = std::min(z.soa->ttl, minimum);
    }
  }
  // The most specific zone wins a name present in two (a parent's delegation to a child we
  // also serve).
  std::map<std::string, uint32_t> best;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    auto& n = nodes_[i];
    for (auto& s : n.sets) n.cname = n.cname || s.type == kTypeCname;
    n.delegation = n.zone < zones_.size() && n.name != zones_[n.zone].origin && findSet(n, kTypeNs);
    auto it = best.find(n.name);
    if (it == best.end() || zones_[nodes_[it->second].zone].origin.size() < zones_[n.zone].origin.size())
      best[n.name] = i;
  }
  std::vector<std::pair<std::string, uint32_t>> entries(best.begin(), best.end());
  nodeIndex_.build(entries);
  std::vector<std::pair<std::string, uint32_t>> zoneEntries;
  for (uint32_t z = 0; z < zones_.size(); ++z) zoneEntries.emplace_back(zones_[z].origin, z);
  zoneIndex_.build(zoneEntries);
  // Occlusion: anything below a delegation of its own zone is glue only.
  for (auto& n : nodes_) {
    size_t offs[128];
    unsigned cnt = labelOffsets(n.name, offs, 128);
    for (unsigned k = 1; k < cnt; ++k) {
      std::string_view anc = std::string_view(n.name).substr(offs[k]);
      if (anc.size() <= zones_[n.zone].origin.size()) break;
      const Node* a = findNode(anc);
      if (a && a->zone == n.zone && a->delegation) n.occluded = true;
    }
  }
  // Wildcards: the "*" child of each closest encloser, found at query time without a search.
  for (auto& [name, idx] : entries) {
    if (name.size() < 3 || name[0] != 1 || name[1] != '*') continue;
    uint32_t parent = nodeIndex_.find(std::string_view(name).substr(2));
    const Node& w = nodes_[idx];
    if (parent != NameTable::kNone && nodes_[parent].zone == w.zone && !w.delegation && !w.occluded)
      nodes_[parent].wildcard = idx;
  }
  for (auto& [name, idx] : entries) precompute(nodes_[idx], idx);
}

ZoneDb::SoaRecord ZoneDb::zoneSoa(size_t z) const {
  const Zone& zone = zones_[z];
  SoaRecord r;
  r.owner = nodes_[zone.apex].owner;
  if (zone.soa) {
    r.ttl = zone.soa->ttl;
    r.rdata = zone.soa->rdatas[0];
  }
  return r;
}

const ZoneDb::Node* ZoneDb::findNode(std::string_view name) const {
  uint32_t i = nodeIndex_.find(name);
  return i == NameTable::kNone ? nullptr : &nodes_[i];
}

const ZoneDb::Node* ZoneDb::resolveNode(std::string_view name, uint32_t zone) const {
  const Node* n = findNode(name);
  if (n) return n->zone == zone ? n : nullptr;
  // The closest encloser is the longest existing ancestor; only its own "*" child may match.
  size_t i = 0;
  const std::string& origin = zones_[zone].origin;
  while (i < name.size() && name[i] != 0) {
    i += 1 + static_cast<uint8_t>(name[i]);
    std::string_view sfx = name.substr(i);
    if (sfx.size() < origin.size()) break;
    const Node* encloser = findNode(sfx);
    if (!encloser) continue;
    if (encloser->zone != zone || encloser->wildcard == NameTable::kNone) return nullptr;
    return &nodes_[encloser->wildcard];
  }
  return nullptr;
}

const ZoneDb::RRset* ZoneDb::findSet(const Node& n, uint16_t type) const {
  for (const auto& s : n.sets)
    if (s.type == type) return &s;
  return nullptr;
}

int ZoneDb::findZone(std::string_view name) const {
  size_t i = 0;
  while (i < name.size()) {
    uint32_t z = zoneIndex_.find(name.substr(i));
    if (z != NameTable::kNone) return static_cast<int>(z);
    uint8_t l = static_cast<uint8_t>(name[i]);
    if (l == 0) break;
    i += 1 + l;
  }
  return -1;
}

bool ZoneDb::addSet(Build& b, PacketWriter::Section s, std::string_view owner, const RRset& set) const {
  if (b.truncated) return false;
  PacketWriter::Mark m = b.w->mark();
  for (const auto& rd : set.rdatas) {
    if (!b.w->record(s, owner, set.type, set.ttl, rd)) {
      b.w->rollback(m);
      if (s != PacketWriter::kAdditional) b.truncated = true;
      return false;
    }
  }
  if (b.cuts)
    b.cuts->push_back(Cut{static_cast<uint32_t>(b.w->size() - b.tailStart),
                          {b.w->count(PacketWriter::kAnswer), b.w->count(PacketWriter::kAuthority),
                           b.w->count(PacketWriter::kAdditional)}});
  return true;
}

void ZoneDb::addSoa(Build& b, const Zone& z) const {
  if (!z.soa) return;
  if (b.truncated) return;
  PacketWriter::Mark m = b.w->mark();
  if (!b.w->record(PacketWriter::kAuthority, z.origin, kTypeSoa, z.negativeTtl, z.soa->rdatas[0])) {
    b.w->rollback(m);
    b.truncated = true;
    return;
  }
  if (b.cuts)
    b.cuts->push_back(Cut{static_cast<uint32_t>(b.w->size() - b.tailStart),
                          {b.w->count(PacketWriter::kAnswer), b.w->count(PacketWriter::kAuthority),
                           b.w->count(PacketWriter::kAdditional)}});
}

void ZoneDb::addAdditional(Build& b, std::string_view target) const {
  char lower[kMaxName];
  size_t len = std::min(target.size(), kMaxName);
  for (size_t i = 0; i < len; ++i) lower[i] = static_cast<char>(lowerAscii(static_cast<uint8_t>(target[i])));
  const Node* n = findNode(std::string_view(lower, len));
  if (!n) return;
  if (n->pool >= 0) {
    b.dynamic = true;
    return;  // pool addresses are per query; a static answer must not freeze them
  }
  for (uint16_t t : {kTypeA, kTypeAaaa})
    if (const RRset* s = findSet(*n, t)) addSet(b, PacketWriter::kAdditional, target, *s);
}

bool ZoneDb::addPool(Build& b, std::string_view owner, const Pool& pool, uint16_t qtype) const {
  b.dynamic = true;
  if (!b.ctx) return false;
  // The client's network: the ECS address when present (RFC 7871), else the source address.
  int family = 0;
  uint8_t addr[16] = {};
  const Query* q = b.q;
  bool usedEcs = false;
  if (q && q->ecs.present) {
    family = q->ecs.family == 1 ? AF_INET : AF_INET6;
    std::memcpy(addr, q->ecs.address, 16);
    usedEcs = true;
  } else if (b.ctx->client) {
    clientAddress(b.ctx->client, family, addr);
  }
  const PoolVariant* chosen = nullptr;
  const PoolVariant* fallbackVariant = nullptr;
  bool viewsUsed = false;
  for (const auto& v : pool.variants) {
    if (v.view < 0) {
      if (!fallbackVariant) fallbackVariant = &v;
      continue;
    }
    viewsUsed = true;
    if (chosen) continue;
    for (const auto& net : views_[v.view].networks)
      if (net.contains(family, addr)) {
        chosen = &v;
        break;
      }
  }
  if (!chosen) chosen = fallbackVariant;
  if (usedEcs && viewsUsed) b.ctx->ecsScope = q->ecs.sourcePrefix;
  if (!chosen) return false;
  uint16_t type = qtype == kTypeAny ? kTypeA : qtype;
  const PoolAddress* live[64];
  unsigned n = 0;
  for (const auto& level : chosen->levels) {
    n = 0;
    for (const auto& a : level) {
      if (a.type != type || n == 64) continue;
      if (a.target >= 0 && b.ctx->health &&
          !b.ctx->health[a.target].up.load(std::memory_order_relaxed))
        continue;
      live[n++] = &a;
    }
    if (n) break;
  }
  if (!n)
    for (const auto& a : chosen->fallback)
      if (a.type == type && n < 64) live[n++] = &a;
  if (!n && !chosen->levels.empty())  // nothing configured to fall back to: never answer empty
    for (const auto& a : chosen->levels[0])
      if (a.type == type && n < 64) live[n++] = &a;
  if (!n) return false;
  uint64_t turn = b.ctx->rotation ? (*b.ctx->rotation)++ : 0;
  // Weighted: the first address is picked in proportion to its weight; the rest follow in order.
  unsigned first = 0;
  uint64_t total = 0;
  for (unsigned i = 0; i < n; ++i) total += live[i]->weight;
  uint64_t pick = total ? turn % total : 0;
  for (unsigned i = 0; i < n; ++i) {
    if (pick < live[i]->weight) {
      first = i;
      break;
    }
    pick -= live[i]->weight;
  }
  PacketWriter::Mark m = b.w->mark();
  size_t bytes = type == kTypeA ? 4 : 16;
  for (unsigned k = 0; k < n; ++k) {
    const PoolAddress* a = live[(first + k) % n];
    if (!b.w->record(PacketWriter::kAnswer, owner, type, pool.ttl,
                     std::string_view(reinterpret_cast<const char*>(a->bytes), bytes))) {
      b.w->rollback(m);
      b.truncated = true;
      return false;
    }
  }
  return true;
}

void ZoneDb::build(Build& b, std::string_view qname, uint16_t qtype) const {
  PacketWriter& w = *b.w;
  uint16_t flags = w.flags();
  int zi = findZone(qname);
  if (zi < 0 || qtype == kTypeAxfr || qtype == kTypeIxfr) {
    w.setFlags(flags | kRcodeRefused);
    return;
  }
  const Zone& zone = zones_[zi];
  // A delegation between the apex and the name: a referral (not authoritative).
  size_t offs[128];
  unsigned cnt = labelOffsets(qname, offs, 128);
  for (int k = static_cast<int>(cnt) - 1; k >= 0; --k) {
    std::string_view sfx = qname.substr(offs[k]);
    if (sfx.size() <= zone.origin.size()) continue;
    const Node* cut = findNode(sfx);
    if (cut && cut->zone == static_cast<uint32_t>(zi) && cut->delegation) {
      const RRset* ns = findSet(*cut, kTypeNs);
      addSet(b, PacketWriter::kAuthority, sfx, *ns);
      for (const auto& rd : ns->rdatas) addAdditional(b, rd);
      return;
    }
  }
  w.setFlags(flags | kFlagAa);
  const Node* node = resolveNode(qname, static_cast<uint32_t>(zi));
  if (!node) {
    w.setFlags(flags | kFlagAa | kRcodeNxDomain);
    addSoa(b, zone);
    return;
  }
  std::string_view owner = qname;
  const Zone* z = &zone;
  for (unsigned hop = 0; node->cname && qtype != kTypeCname && qtype != kTypeAny; ++hop) {
    const RRset* cn = findSet(*node, kTypeCname);
    if (!addSet(b, PacketWriter::kAnswer, owner, *cn) || hop + 1 >= kMaxChain) return;
    owner = cn->rdatas[0];
    std::string_view target = owner;  // zone data is lowercase-insensitive: look up lowercased
    char lower[kMaxName];
    for (size_t i = 0; i < target.size() && i < kMaxName; ++i)
      lower[i] = static_cast<char>(lowerAscii(static_cast<uint8_t>(target[i])));
    std::string_view lt(lower, std::min(target.size(), kMaxName));
    int zi2 = findZone(lt);
    if (zi2 < 0) return;  // out of our zones: the resolver continues from the CNAME
    z = &zones_[zi2];
    const Node* next = resolveNode(lt, static_cast<uint32_t>(zi2));
    if (!next || next->occluded || next->delegation) {
      if (!next) {
        w.setFlags(flags | kFlagAa | kRcodeNxDomain);
        addSoa(b, *z);
      }
      return;
    }
    node = next;
  }
  if (node->pool >= 0 && (qtype == kTypeA || qtype == kTypeAaaa || qtype == kTypeAny)) {
    if (addPool(b, owner, pools_[node->pool], qtype) || b.truncated) return;
    if (qtype != kTypeAny) {
      b.nodata = true;
      addSoa(b, *z);
      return;
    }
  }
  const RRset* set = nullptr;
  if (qtype == kTypeAny) {
    // RFC 8482: one RRset is enough; prefer addresses, never the SOA when something else exists.
    for (uint16_t t : {kTypeA, kTypeAaaa, kTypeMx, kTypeTxt, kTypeNs, kTypeCname})
      if (!set) set = findSet(*node, t);
    if (!set && !node->sets.empty()) set = &node->sets.front();
  } else {
    set = findSet(*node, qtype);
  }
  if (!set) {
    b.nodata = true;
    addSoa(b, *z);
    return;
  }
  if (!addSet(b, PacketWriter::kAnswer, owner, *set)) return;
  for (const auto& rd : set->rdatas) {
    if (set->type == kTypeNs) addAdditional(b, rd);
    else if (set->type == kTypeMx && rd.size() > 2) addAdditional(b, std::string_view(rd).substr(2));
    else if (set->type == kTypeSrv && rd.size() > 6) addAdditional(b, std::string_view(rd).substr(6));
  }
}

void ZoneDb::precompute(Node& node, uint32_t index) {
  (void)index;
  if (node.pool >= 0 || node.occluded || node.cname) return;
  std::vector<uint8_t> buf(65535);
  std::vector<uint16_t> types;
  for (auto& s : node.sets) types.push_back(s.type);
  types.push_back(kTypeAny);
  types.push_back(kOtherType);
  for (uint16_t t : types) {
    PacketWriter w(buf.data(), buf.size());
    w.start(0, kFlagQr);
    w.question(reinterpret_cast<const uint8_t*>(node.name.data()), node.name.size(), t, kClassIn);
    Precomputed p;
    Build b;
    b.w = &w;
    b.ctx = nullptr;
    b.q = nullptr;
    b.cuts = &p.cuts;
    b.tailStart = w.size();
    build(b, node.name, t);
    if (b.dynamic) continue;
    p.tail.assign(reinterpret_cast<const char*>(buf.data() + b.tailStart), w.size() - b.tailStart);
    p.flags = w.flags() & 0x07FF & ~kFlagTc;
    for (int s = 0; s < 3; ++s) p.counts[s] = w.count(static_cast<PacketWriter::Section>(s));
    p.nodata = b.nodata;
    precomputed_.push_back(std::move(p));
    uint32_t pi = static_cast<uint32_t>(precomputed_.size() - 1);
    if (t == kOtherType) node.nodata = pi;
    else node.answers.emplace_back(t, pi);
  }
}

size_t ZoneDb::emitPrecomputed(const Precomputed& p, const Query& q, uint8_t* out, size_t limit,
                               AnswerInfo& info) const {
  size_t qlen = q.questionEnd - kHeaderSize;
  size_t head = kHeaderSize + qlen;
  size_t optSize = optRecordSize(q);
  if (head + optSize > limit) return 0;
  size_t room = limit - head - optSize;
  uint16_t flags = static_cast<uint16_t>(kFlagQr | (q.flags & 0x0110) | p.flags);
  const uint16_t* counts = p.counts;
  size_t tailLen = p.tail.size();
  if (tailLen > room) {
    const Cut* keep = nullptr;
    for (const auto& c : p.cuts)
      if (c.len <= room) keep = &c;
    tailLen = keep ? keep->len : 0;
    static const uint16_t zero[3] = {0, 0, 0};
    counts = keep ? keep->counts : zero;
    if (counts[0] < p.counts[0] || counts[1] < p.counts[1]) {
      flags |= kFlagTc;
      info.truncated = true;
    }
  }
  put16(out, q.id);
  put16(out + 2, flags);
  put16(out + 4, 1);
  put16(out + 6, counts[0]);
  put16(out + 8, counts[1]);
  put16(out + 10, counts[2]);
  std::memcpy(out + kHeaderSize, q.qname, qlen);  // name, type and class as the client sent them
  std::memcpy(out + head, p.tail.data(), tailLen);
  size_t len = head + tailLen;
  info.rcode = static_cast<uint8_t>(p.flags & 0xF);
  info.nodata = p.nodata;
  if (q.edns) {
    len += appendOpt(out, len, limit, 1232, 0, q.dnssecOk, q.ecs.present ? &q.ecs : nullptr, 0);
  }
  return len;
}

size_t ZoneDb::answer(const Query& q, AnswerContext& ctx, uint8_t* out, size_t limit,
                      AnswerInfo& info) const {
  if (q.qclass == kClassIn) {
    const Node* node = findNode(q.name());
    if (node) {
      uint32_t pi = NameTable::kNone;
      for (const auto& [t, idx] : node->answers)
        if (t == q.qtype) pi = idx;
      if (pi == NameTable::kNone && q.qtype != kTypeAny && q.qtype != kTypeAxfr &&
          q.qtype != kTypeIxfr && !findSet(*node, q.qtype))
        pi = node->nodata;
      if (pi != NameTable::kNone) return emitPrecomputed(precomputed_[pi], q, out, limit, info);
    }
  }
  size_t optSize = optRecordSize(q);
  if (limit < kHeaderSize + optSize) return 0;
  PacketWriter w(out, limit - optSize);
  w.start(q.id, static_cast<uint16_t>(kFlagQr | (q.flags & 0x0110)));
  if (!w.question(q.qname, q.qnameLength, q.qtype, q.qclass)) return 0;
  Build b;
  b.w = &w;
  b.ctx = &ctx;
  b.q = &q;
  if (q.qclass != kClassIn) w.setFlags(w.flags() | kRcodeRefused);
  else build(b, q.name(), q.qtype);
  if (b.truncated) {
    w.setFlags(w.flags() | kFlagTc);
    info.truncated = true;
  }
  info.rcode = static_cast<uint8_t>(w.flags() & 0xF);
  info.nodata = b.nodata;
  if (q.edns) {
    w.setCap(limit);
    w.opt(1232, 0, q.dnssecOk, q.ecs.present ? &q.ecs : nullptr, ctx.ecsScope);
  }
  return w.size();
}

}  // namespace manifold::dns
