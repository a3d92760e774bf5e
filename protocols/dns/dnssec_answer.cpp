// ZoneDb, the authenticated denial of existence in answers to DO queries (RFC 4035 3.1.3,
// RFC 5155 7.2), and the authority/additional part of positive answers. NSEC: the record of the
// name itself (NODATA), or the one covering a missing name, found by binary search in the chain
// sorted at load. NSEC3: the record matching an existing name is found at load (Node::nsec3);
// only the names that do not exist (next closer, wildcard) are hashed per query. No allocation.
#include <cstring>

#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {

namespace {

// The suffix of `name` one label longer than `encloser` (the "next closer name").
std::string_view nextCloser(std::string_view name, std::string_view encloser) {
  size_t i = 0;
  while (i < name.size() && name[i] != 0) {
    size_t next = i + 1 + static_cast<uint8_t>(name[i]);
    if (name.size() - next == encloser.size()) return name.substr(i);
    i = next;
  }
  return name;
}

// "*." + name into buf; its length (0 when too long).
size_t wildcardOf(std::string_view name, char* buf) {
  if (name.size() + 2 > kMaxName) return 0;
  buf[0] = 1;
  buf[1] = '*';
  std::memcpy(buf + 2, name.data(), name.size());
  return name.size() + 2;
}

}  // namespace

bool ZoneDb::addNsecOf(Build& b, const Node& n) const {
  const RRset* s = findSet(n, kTypeNsec);
  if (!s) return false;
  addSet(b, PacketWriter::kAuthority, n.owner, *s);
  return true;
}

const ZoneDb::Node* ZoneDb::nsecCovering(const Zone& z, std::string_view name) const {
  const auto& order = z.sec.nsecOrder;
  if (order.empty()) return nullptr;
  // The last owner not after `name` in canonical order (the apex sorts first).
  size_t lo = 0, hi = order.size();
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (canonicalCompare(nodes_[order[mid]].name, name) <= 0)
      lo = mid;
    else
      hi = mid;
  }
  return &nodes_[order[lo]];
}

void ZoneDb::addNsecCovering(Build& b, const Zone& z, std::string_view name,
                             const Node** done) const {
  const Node* n = nsecCovering(z, name);
  if (!n || done[0] == n || done[1] == n) return;
  (done[0] ? done[1] : done[0]) = n;
  addNsecOf(b, *n);
}

int ZoneDb::nsec3For(const Zone& z, std::string_view name) const {
  const Node* n = findNode(name);
  if (n && &zones_[n->zone] == &z) return n->nsec3;
  char h[20];
  nsec3HashInto(name, z.sec.salt, z.sec.iterations, h);
  return z.sec.nsec3Match(std::string_view(h, 20));
}

int ZoneDb::nsec3Covering(const Zone& z, std::string_view name) const {
  char h[20];
  nsec3HashInto(name, z.sec.salt, z.sec.iterations, h);
  return z.sec.nsec3Cover(std::string_view(h, 20));
}

void ZoneDb::addNsec3(Build& b, const Zone& z, int index, int* done) const {
  if (index < 0) return;
  for (int i = 0; i < 3; ++i)
    if (done[i] == index) return;
  for (int i = 0; i < 3; ++i)
    if (done[i] < 0) {
      done[i] = index;
      break;
    }
  const Nsec3Entry& e = z.sec.nsec3s[static_cast<size_t>(index)];
  if (b.truncated) return;
  PacketWriter::Mark m = b.w->mark();
  bool ok = b.w->record(PacketWriter::kAuthority, e.owner, kTypeNsec3, e.ttl, e.rdata);
  for (size_t i = 0; ok && i < e.sigs.size(); ++i)
    ok = b.w->record(PacketWriter::kAuthority, e.owner, kTypeRrsig, e.sigTtl, e.sigs[i]);
  if (!ok) {
    b.w->rollback(m);
    b.truncated = true;
    return;
  }
  if (b.cuts)
    b.cuts->push_back(Cut{static_cast<uint32_t>(b.w->size() - b.tailStart),
                          {b.w->count(PacketWriter::kAnswer), b.w->count(PacketWriter::kAuthority),
                           b.w->count(PacketWriter::kAdditional)}});
}

void ZoneDb::addDenial(Build& b, const Zone& z, Denial kind, std::string_view name,
                       const Node* encloser) const {
  if (!b.dnssec || !z.sec.isSigned) return;
  char wild[kMaxName];
  if (!z.sec.nsec3) {
    const Node* done[2] = {nullptr, nullptr};
    switch (kind) {
      case Denial::kNoData:  // the name's own NSEC; an empty non-terminal has none: its cover
        if (!addNsecOf(b, *encloser)) addNsecCovering(b, z, name, done);
        break;
      case Denial::kNxDomain:
        addNsecCovering(b, z, name, done);
        if (encloser) {
          size_t n = wildcardOf(encloser->name, wild);
          if (n) addNsecCovering(b, z, std::string_view(wild, n), done);
        }
        break;
      case Denial::kWildcard:
        addNsecCovering(b, z, name, done);
        break;
      case Denial::kWildcardNoData:  // after kWildcard's cover: the wildcard's own NSEC
        if (nsecCovering(z, name) != &nodes_[encloser->wildcard])
          addNsecOf(b, nodes_[encloser->wildcard]);
        break;
      case Denial::kReferral:  // an insecure delegation: its NSEC shows NS without DS
        addNsecOf(b, *encloser);
        break;
    }
    return;
  }
  int done[3] = {-1, -1, -1};
  // Closest provable encloser proof (RFC 5155 7.2.1) of a name with no NSEC3 of its own.
  auto provableEncloser = [&](std::string_view of) {
    size_t i = 0;
    while (i < of.size() && of[i] != 0) {
      size_t next = i + 1 + static_cast<uint8_t>(of[i]);
      std::string_view parent = of.substr(next);
      if (parent.size() < z.origin.size()) break;
      int m = nsec3For(z, parent);
      if (m >= 0) {
        addNsec3(b, z, m, done);
        addNsec3(b, z, nsec3Covering(z, of.substr(i)), done);
        return;
      }
      i = next;
    }
  };
  switch (kind) {
    case Denial::kNoData:
      if (encloser->nsec3 >= 0)
        addNsec3(b, z, encloser->nsec3, done);
      else
        provableEncloser(name);
      break;
    case Denial::kNxDomain:  // NSD's order: next closer, closest encloser, wildcard
      if (!encloser) break;
      addNsec3(b, z, nsec3Covering(z, nextCloser(name, encloser->name)), done);
      addNsec3(b, z, encloser->nsec3, done);
      addNsec3(b, z, encloser->wildcardCover, done);  // found at load
      break;
    case Denial::kWildcard:
      addNsec3(b, z, nsec3Covering(z, nextCloser(name, encloser->name)), done);
      break;
    case Denial::kWildcardNoData:  // after kWildcard's next closer cover, sent once
      done[0] = nsec3Covering(z, nextCloser(name, encloser->name));
      addNsec3(b, z, encloser->nsec3, done);
      addNsec3(b, z, nodes_[encloser->wildcard].nsec3, done);
      break;
    case Denial::kReferral:
      if (encloser->nsec3 >= 0)
        addNsec3(b, z, encloser->nsec3, done);
      else
        provableEncloser(name);  // opt-out (RFC 5155 7.2.7)
      break;
  }
}

void ZoneDb::addSynthesizedProofs(Build& b) const {
  for (unsigned i = 0; i < b.synthesizedCount; ++i) {
    const Build::Synthesized& s = b.synthesized[i];
    addDenial(b, *s.zone, Denial::kWildcard, std::string_view(s.name, s.len), s.encloser);
  }
  b.synthesizedCount = 0;
}

void ZoneDb::finishPositive(Build& b, const Zone& z, const RRset& set, bool withNs) const {
  addSynthesizedProofs(b);
  // NSD's default (minimal-responses: no): the zone's NS in authority, their addresses after.
  const RRset* ns = nullptr;
  // Not for DS and DNSKEY, as NSD (a validator asks for those; the NS adds nothing).
  if (withNs && !minimal_ && &set != findSet(nodes_[z.apex], kTypeNs) && set.type != kTypeDs &&
      set.type != kTypeDnskey) {
    ns = findSet(nodes_[z.apex], kTypeNs);
    if (ns) addSet(b, PacketWriter::kAuthority, nodes_[z.apex].owner, *ns);
  }
  for (const auto& rd : set.rdatas) {
    if (set.type == kTypeNs)
      addAdditional(b, rd);
    else if (set.type == kTypeMx && rd.size() > 2)
      addAdditional(b, std::string_view(rd).substr(2));
    else if (set.type == kTypeSrv && rd.size() > 6)
      addAdditional(b, std::string_view(rd).substr(6));
  }
  if (ns)
    for (const auto& rd : ns->rdatas) addAdditional(b, rd);
}

}  // namespace manifold::dns
