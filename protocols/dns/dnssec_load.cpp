// ZoneDb, the signed-zone half of loading (control plane): RRSIGs attached to the RRsets they
// cover, the NSEC3 chain kept apart from the names, the NSEC chain in canonical order, the
// NSEC3 matching each name found once (so answers never hash an existing name), the earliest
// signature expiry, and the checks behind `-t` and the load warnings.
#include <algorithm>
#include <unordered_map>

#include "protocols/dns/dnssec_text.hpp"
#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {

namespace {

// RRSIG RDATA (RFC 4034 3.1): type covered 2, algorithm 1, labels 1, original TTL 4,
// expiration 4, inception 4, key tag 2, signer, signature.
constexpr size_t kRrsigFixed = 18;
uint16_t rrsigCovered(std::string_view rd) {
  return get16(reinterpret_cast<const uint8_t*>(rd.data()));
}
uint32_t rrsigExpiration(std::string_view rd) {
  return get32(reinterpret_cast<const uint8_t*>(rd.data()) + 8);
}

// Serial arithmetic on 32-bit times (RFC 4034 3.1.5): is a before b?
bool timeBefore(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

}  // namespace

bool ZoneDb::loadSigned(Zone& z, const std::map<std::string, uint32_t>& names,
                        std::vector<ZoneRecord>& sigs, std::vector<ZoneRecord>& nsec3s,
                        std::string& error) {
  ZoneSec& sec = z.sec;
  const Node& apex = nodes_[z.apex];
  sec.isSigned = findSet(apex, kTypeDnskey) != nullptr;
  if (const RRset* param = findSet(apex, kTypeNsec3param)) {
    std::string_view rd = param->rdatas[0];  // hash alg, flags, iterations, salt
    sec.iterations = get16(reinterpret_cast<const uint8_t*>(rd.data()) + 2);
    sec.salt = std::string(rd.substr(5, static_cast<uint8_t>(rd[4])));
  }
  for (ZoneRecord& rec : nsec3s) {
    std::string lower = lowerName(rec.owner);
    auto where = rec.file + ":" + std::to_string(rec.line) + ": NSEC3: ";
    std::string hash;
    uint8_t first = static_cast<uint8_t>(lower[0]);
    if (std::string_view(lower).substr(1 + first) != z.origin ||
        !base32HexDecode(std::string_view(lower).substr(1, first), hash) || hash.size() != 20) {
      error = where + nameToText(rec.owner) + " is not a hashed name directly below the apex";
      return false;
    }
    Nsec3Entry e;
    e.hash = hash;
    e.owner = rec.owner;
    e.ttl = rec.ttl;
    e.rdata = rec.rdata;
    sec.nsec3s.push_back(std::move(e));
    ++records_;
  }
  std::sort(sec.nsec3s.begin(), sec.nsec3s.end(),
            [](const Nsec3Entry& a, const Nsec3Entry& b) { return a.hash < b.hash; });
  sec.hashes.reserve(sec.nsec3s.size() * 20);
  for (Nsec3Entry& e : sec.nsec3s) {
    sec.hashes += e.hash;
    e.hash.clear();  // the search keys hold it now
    e.hash.shrink_to_fit();
  }
  sec.nsec3 = !sec.nsec3s.empty() && findSet(apex, kTypeNsec3param);
  std::unordered_map<std::string, uint32_t> hashed;  // lowercase NSEC3 owner -> entry
  for (uint32_t i = 0; i < sec.nsec3s.size(); ++i)
    hashed.emplace(lowerName(sec.nsec3s[i].owner), i);
  for (ZoneRecord& rec : sigs) {
    auto where = rec.file + ":" + std::to_string(rec.line) + ": RRSIG: ";
    if (rec.rdata.size() < kRrsigFixed) {
      error = where + "too short";
      return false;
    }
    uint16_t covered = rrsigCovered(rec.rdata);
    std::pmr::vector<std::pmr::string>* into = nullptr;
    uint32_t* ttl = nullptr;
    std::string lower = lowerName(rec.owner);
    if (auto h = hashed.find(lower); covered == kTypeNsec3 && h != hashed.end()) {
      into = &sec.nsec3s[h->second].sigs;
      ttl = &sec.nsec3s[h->second].sigTtl;
    } else if (auto it = names.find(lower); it != names.end()) {
      for (RRset& s : nodes_[it->second].sets)
        if (s.type == covered) {
          into = &s.sigs;
          ttl = &s.sigTtl;
        }
    }
    if (!into) {
      error = where + "covers " + typeName(covered) + " but " + nameToText(rec.owner) +
              " has no such RRset";
      return false;
    }
    *ttl = into->empty() ? rec.ttl : std::min(*ttl, rec.ttl);
    uint32_t expires = rrsigExpiration(rec.rdata);
    if (sec.earliestExpiry == 0 || timeBefore(expires, sec.earliestExpiry)) {
      sec.earliestExpiry = expires;
      sec.expiryOwner = nameToText(rec.owner) + " " + typeName(covered);
    }
    into->emplace_back(rec.rdata);
    ++records_;
  }
  return true;
}

void ZoneDb::finishSigned(Zone& z) {
  ZoneSec& sec = z.sec;
  if (!sec.isSigned) return;
  uint32_t zi = static_cast<uint32_t>(&z - zones_.data());
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.zone != zi) continue;
    if (findSet(n, kTypeNsec)) sec.nsecOrder.push_back(i);
    if (sec.nsec3 && !n.occluded) {
      char h[20];
      nsec3HashInto(n.name, sec.salt, sec.iterations, h);
      n.nsec3 = sec.nsec3Match(std::string_view(h, 20));
      // The NSEC3 covering "*.<this name>", for NXDOMAIN answers with this closest encloser.
      if (n.name.size() + 2 <= kMaxName && n.wildcard == NameTable::kNone) {
        std::string wild = std::string("\x01*", 2);
        wild += n.name;
        nsec3HashInto(wild, sec.salt, sec.iterations, h);
        n.wildcardCover = sec.nsec3Cover(std::string_view(h, 20));
      }
    }
  }
  std::sort(sec.nsecOrder.begin(), sec.nsecOrder.end(), [&](uint32_t a, uint32_t b) {
    return canonicalCompare(nodes_[a].name, nodes_[b].name) < 0;
  });
}

std::vector<std::string> ZoneDb::signatureWarnings(uint32_t now, uint32_t within) const {
  std::vector<std::string> out;
  for (const Zone& z : zones_) {
    const ZoneSec& sec = z.sec;
    if (!sec.earliestExpiry) continue;
    bool expired = timeBefore(sec.earliestExpiry, now);
    if (expired || timeBefore(sec.earliestExpiry, now + within))
      out.push_back("zone " + nameToText(z.origin) + ": signatures " +
                    (expired ? "expired" : "expire") + " at " + dnssecTimeText(sec.earliestExpiry) +
                    " UTC (" + sec.expiryOwner + ")");
  }
  return out;
}

std::vector<std::string> ZoneDb::unsignedRrsets(size_t maxReported) const {
  std::vector<std::string> out;
  for (const Node& n : nodes_) {
    const Zone& z = zones_[n.zone];
    if (!z.sec.isSigned || n.occluded) continue;
    for (const RRset& s : n.sets) {
      // RFC 4035 2.2: everything authoritative is signed; at a cut only DS and NSEC are.
      if (n.delegation && s.type != kTypeDs && s.type != kTypeNsec) continue;
      if (!s.sigs.empty()) continue;
      if (out.size() < maxReported)
        out.push_back("zone " + nameToText(z.origin) + ": " + nameToText(n.owner) + " " +
                      typeName(s.type) + " is not signed");
    }
  }
  for (const Zone& z : zones_)
    for (const Nsec3Entry& e : z.sec.nsec3s)
      if (e.sigs.empty() && out.size() < maxReported)
        out.push_back("zone " + nameToText(z.origin) + ": " + nameToText(e.owner) +
                      " NSEC3 is not signed");
  return out;
}

}  // namespace manifold::dns
