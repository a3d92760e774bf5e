// ZoneDb, loading half (control plane, before fork): zone files into nodes and RRsets, failover
// pools, the lookup tables, and the answers precompiled per (name, type). The per-query half is
// zone_answer.cpp.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {

namespace {

constexpr uint16_t kOtherType = 65280;  // private-use type standing for "any type not present"

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

bool ZoneDb::load(const std::vector<std::string>& files, std::string& error) {
  auto inMemory = memory_.scope();
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
    zones_.push_back(Zone{originWire, 0, nullptr, 0, {}});
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
    std::vector<ZoneRecord> sigs, nsec3s;  // attached once every RRset exists (dnssec_load.cpp)
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
      if (rec.type == kTypeRrsig || rec.type == kTypeNsec3) {
        (rec.type == kTypeRrsig ? sigs : nsec3s).push_back(std::move(rec));
        continue;
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
      // RFC 4035 2.5: a CNAME owner may also hold its NSEC (and RRSIGs, kept apart).
      bool hasCname = false, hasOther = false;
      for (auto& s : node.sets)
        if (s.type != kTypeNsec) (s.type == kTypeCname ? hasCname : hasOther) = true;
      if ((rec.type == kTypeCname && hasOther) ||
          (rec.type != kTypeCname && rec.type != kTypeNsec && hasCname)) {
        error = where() + "CNAME and other data at " + nameToText(rec.owner);
        return false;
      }
      if (rec.type == kTypeCname && set) {
        error = where() + "more than one CNAME at " + nameToText(rec.owner);
        return false;
      }
      if (!set) {
        node.sets.push_back(RRset{rec.type, rec.ttl, {}, {}, 0});
        set = &node.sets.back();
      }
      // RFC 2181 5.2: one TTL per RRset; the lowest wins. Duplicates are dropped.
      set->ttl = std::min(set->ttl, rec.ttl);
      if (std::find(set->rdatas.begin(), set->rdatas.end(), std::string_view(rec.rdata)) ==
          set->rdatas.end()) {
        set->rdatas.emplace_back(rec.rdata);
        ++records_;
      }
    }
    if (!haveSoa) {
      error = path + ":1: no SOA record for " + nameToText(originWire);
      return false;
    }
    if (!loadSigned(zones_[zi], local, sigs, nsec3s, error)) return false;
  }
  return true;
}

bool ZoneDb::addPools(std::vector<Pool> pools, std::vector<View> views, std::string& why) {
  auto inMemory = memory_.scope();
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
      if (std::string_view(nodes_[i].name) == pool.name &&
          nodes_[i].zone == static_cast<uint32_t>(best))
        found = static_cast<uint32_t>(i);
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
        for (auto& node : nodes_)
          exists = exists ||
                   (std::string_view(node.name) == anc && node.zone == static_cast<uint32_t>(best));
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
  auto inMemory = memory_.scope();
  for (auto& z : zones_) {
    Node& apex = nodes_[z.apex];
    for (auto& s : apex.sets)
      if (s.type == kTypeSoa) z.soa = &s;
    if (z.soa) {
      std::string_view rd = z.soa->rdatas[0];
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
    n.delegation = n.zone < zones_.size() && std::string_view(n.name) != zones_[n.zone].origin &&
                   findSet(n, kTypeNs);
    std::string name(n.name);
    auto it = best.find(name);
    if (it == best.end() ||
        zones_[nodes_[it->second].zone].origin.size() < zones_[n.zone].origin.size())
      best[name] = i;
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
  for (auto& z : zones_) finishSigned(z);
  for (auto& [name, idx] : entries) precompute(nodes_[idx], idx);
  std::unordered_multimap<uint64_t, uint32_t>().swap(shared_);
  precomputed_.shrink_to_fit();
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

void ZoneDb::precompute(Node& node, uint32_t index) {
  (void)index;
  if (node.pool >= 0 || node.occluded || node.cname) return;
  precomputeVariant(node, false);
  // Signed answers (an RRSIG per RRset, ~600 bytes a name) are prebuilt up to a budget: past it
  // (large zones) they are written per query from the records, which keeps a million-name zone
  // below NSD's memory; the answers are the same bytes either way.
  if (zones_[node.zone].sec.isSigned && prebuiltDoBytes_ < prebuiltDoBudget_)
    precomputeVariant(node, true);
}

uint32_t ZoneDb::storePrecomputed(Precomputed&& p, bool shareable) {
  // NODATA answers differ only by where the owner's compression pointer lands: a few distinct
  // ones per zone, shared by every name instead of one copy each.
  uint64_t key = 0;
  if (shareable) {
    key = NameTable::hash(p.tail) ^ (uint64_t{p.flags} << 48) ^ (uint64_t{p.counts[1]} << 32);
    auto [it, end] = shared_.equal_range(key);
    for (; it != end; ++it) {
      const Precomputed& o = precomputed_[it->second];
      if (o.tail == p.tail && o.flags == p.flags && o.nodata == p.nodata &&
          std::equal(o.counts, o.counts + 3, p.counts) && o.cuts.size() == p.cuts.size() &&
          std::equal(o.cuts.begin(), o.cuts.end(), p.cuts.begin(), [](const Cut& a, const Cut& b) {
            return a.len == b.len && std::equal(a.counts, a.counts + 3, b.counts);
          }))
        return it->second;
    }
  }
  p.tail.shrink_to_fit();
  p.cuts.shrink_to_fit();
  precomputed_.push_back(std::move(p));
  uint32_t pi = static_cast<uint32_t>(precomputed_.size() - 1);
  if (shareable) shared_.emplace(key, pi);
  return pi;
}

void ZoneDb::precomputeVariant(Node& node, bool dnssec) {
  static thread_local std::vector<uint8_t> buf(65535);  // scratch: not 64 KB zeroed per name
  std::vector<uint16_t> types;
  for (auto& s : node.sets) types.push_back(s.type);
  // With DO only the RRsets present are prebuilt: a signed NODATA, ANY or RRSIG answer is
  // hundreds of bytes per name, and written per query it costs no hashing (the name's NSEC or
  // NSEC3 is known), so memory for a million-name zone stays near NSD's.
  // In a signed zone ANY and RRSIG queries (rare, and hundreds of bytes each) are written per
  // query too.
  bool isSigned = zones_[node.zone].sec.isSigned;
  if (!dnssec && !isSigned) types.push_back(kTypeAny);
  if (!dnssec) types.push_back(kOtherType);
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
    b.dnssec = dnssec;
    build(b, node.name, t);
    if (b.dynamic) continue;
    p.tail.assign(reinterpret_cast<const char*>(buf.data() + b.tailStart), w.size() - b.tailStart);
    p.flags = w.flags() & 0x07FF & ~kFlagTc;
    for (int s = 0; s < 3; ++s) p.counts[s] = w.count(static_cast<PacketWriter::Section>(s));
    p.nodata = b.nodata;
    if (dnssec) prebuiltDoBytes_ += p.tail.size() + p.cuts.size() * sizeof(Cut) + sizeof(p);
    uint32_t pi = storePrecomputed(std::move(p), t == kOtherType);
    if (t == kOtherType)
      node.nodata = pi;
    else
      (dnssec ? node.answersDo : node.answers).emplace_back(t, pi);
  }
}

}  // namespace manifold::dns
