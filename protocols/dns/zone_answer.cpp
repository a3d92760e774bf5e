// ZoneDb, answering half (data path): the per-query lookup, the precomputed answer patched for
// the query, and the dynamic answer (pools, views, CNAME chains) written into the send buffer.
// No allocation. Loading and precompiling are zone_load.cpp.
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {

namespace {

constexpr unsigned kMaxChain = 8;

// An ECS option's address (RFC 7871) as a peer address, for matching views.
net::PeerAddress ecsAddress(const ClientSubnet& ecs) {
  sockaddr_storage ss{};
  if (ecs.family == 1) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    v4->sin_family = AF_INET;
    std::memcpy(&v4->sin_addr, ecs.address, 4);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    v6->sin6_family = AF_INET6;
    std::memcpy(&v6->sin6_addr, ecs.address, 16);
  }
  return net::peerAddress(reinterpret_cast<const sockaddr*>(&ss));
}

}  // namespace

const ZoneDb::Node* ZoneDb::findNode(std::string_view name) const {
  uint32_t i = nodeIndex_.find(name);
  return i == NameTable::kNone ? nullptr : &nodes_[i];
}

const ZoneDb::Node* ZoneDb::resolveNode(std::string_view name, uint32_t zone,
                                        const Node** closest) const {
  if (closest) *closest = nullptr;
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
    if (closest) *closest = encloser;
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

bool ZoneDb::addSet(Build& b, PacketWriter::Section s, std::string_view owner,
                    const RRset& set) const {
  return addRecords(b, s, owner, set.type, set.ttl, set.rdatas.data(), set.rdatas.size(), &set);
}

bool ZoneDb::addRecords(Build& b, PacketWriter::Section s, std::string_view owner, uint16_t type,
                        uint32_t ttl, const std::pmr::string* rdatas, size_t n,
                        const RRset* signedBy) const {
  if (b.truncated) return false;
  if (signedBy && s == PacketWriter::kAdditional)
    for (unsigned i = 0; i < b.writtenCount; ++i)
      if (b.written[i] == signedBy) return false;
  PacketWriter::Mark m = b.w->mark();
  // rrset_order: zone-file RRsets in the answer rotate per query (cyclic) or are shuffled
  // (random); such answers are never precomputed.
  size_t first = 0;
  uint16_t order[64];
  bool shuffled = false;
  if (s == PacketWriter::kAnswer && order_ != RrsetOrder::kFixed && n > 1) {
    if (!b.ctx || !b.ctx->rotation) {
      b.dynamic = true;
    } else {
      uint64_t turn = (*b.ctx->rotation)++;
      first = static_cast<size_t>(turn % n);
      if (order_ == RrsetOrder::kRandom && n <= 64) {
        uint64_t x = (turn + 1) * 0x9E3779B97F4A7C15ull;  // per-worker sequence, no syscall
        for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint16_t>(i);
        for (size_t i = n - 1; i > 0; --i) {
          x ^= x >> 29;
          x *= 0xBF58476D1CE4E5B9ull;
          std::swap(order[i], order[x % (i + 1)]);
        }
        shuffled = true;
      }
    }
  }
  for (size_t k = 0; k < n; ++k) {
    const std::pmr::string& rd = rdatas[shuffled ? order[k] : (first + k) % n];
    if (!b.w->record(s, owner, type, ttl, rd)) {
      b.w->rollback(m);
      if (s != PacketWriter::kAdditional) b.truncated = true;
      return false;
    }
  }
  if (b.dnssec && signedBy)
    for (const auto& sig : signedBy->sigs)
      if (!b.w->record(s, owner, kTypeRrsig, signedBy->sigTtl, sig)) {
        b.w->rollback(m);
        if (s != PacketWriter::kAdditional) b.truncated = true;
        return false;
      }
  if (signedBy && b.writtenCount < std::size(b.written)) b.written[b.writtenCount++] = signedBy;
  if (b.cuts)
    b.cuts->push_back(Cut{static_cast<uint32_t>(b.w->size() - b.tailStart),
                          {b.w->count(PacketWriter::kAnswer), b.w->count(PacketWriter::kAuthority),
                           b.w->count(PacketWriter::kAdditional)}});
  return true;
}

void ZoneDb::addSoa(Build& b, const Zone& z) const {
  if (!z.soa) return;
  // Its signature goes with the negative TTL too, as NSD sends it.
  addRecords(b, PacketWriter::kAuthority, z.origin, kTypeSoa, z.negativeTtl, z.soa->rdatas.data(),
             1, nullptr);
  if (b.dnssec && !b.truncated && !z.soa->sigs.empty())
    addRecords(b, PacketWriter::kAuthority, z.origin, kTypeRrsig, z.negativeTtl, z.soa->sigs.data(),
               z.soa->sigs.size(), nullptr);
}

void ZoneDb::addAdditional(Build& b, std::string_view target) const {
  char lower[kMaxName];
  size_t len = std::min(target.size(), kMaxName);
  for (size_t i = 0; i < len; ++i)
    lower[i] = static_cast<char>(lowerAscii(static_cast<uint8_t>(target[i])));
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
  const Query* q = b.q;
  bool usedEcs = q && q->ecs.present;
  net::PeerAddress client = usedEcs ? ecsAddress(q->ecs) : net::peerAddress(b.ctx->client);
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
    if (net::anyContains(views_[v.view].networks, client)) chosen = &v;
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
  // A delegation between the apex and the name: a referral (not authoritative). The DS of a
  // cut is the parent's data (RFC 4035 3.1.4.1): a DS query for the cut itself is answered.
  size_t offs[128];
  unsigned cnt = labelOffsets(qname, offs, 128);
  for (int k = static_cast<int>(cnt) - 1; k >= 0; --k) {
    std::string_view sfx = qname.substr(offs[k]);
    if (sfx.size() <= zone.origin.size() || (k == 0 && qtype == kTypeDs)) continue;
    const Node* cut = findNode(sfx);
    if (cut && cut->zone == static_cast<uint32_t>(zi) && cut->delegation) {
      const RRset* ns = findSet(*cut, kTypeNs);
      addSet(b, PacketWriter::kAuthority, cut->owner, *ns);
      if (b.dnssec && zone.sec.isSigned) {
        if (const RRset* ds = findSet(*cut, kTypeDs))
          addSet(b, PacketWriter::kAuthority, cut->owner, *ds);
        else
          addDenial(b, zone, Denial::kReferral, cut->name, cut);
      }
      for (const auto& rd : ns->rdatas) addAdditional(b, rd);
      return;
    }
  }
  w.setFlags(flags | kFlagAa);
  const Node* encloser = nullptr;
  const Node* node = resolveNode(qname, static_cast<uint32_t>(zi), &encloser);
  if (!node) {  // NSD's order: the proofs, then the SOA
    w.setFlags(flags | kFlagAa | kRcodeNxDomain);
    addDenial(b, zone, Denial::kNxDomain, qname, encloser);
    addSoa(b, zone);
    return;
  }
  std::string_view owner = qname;
  std::string_view lowerOwner = qname;
  const Zone* z = &zone;
  auto noteSynthesized = [&](std::string_view name) {
    if (!encloser || b.synthesizedCount == 4) return;
    Build::Synthesized& s = b.synthesized[b.synthesizedCount++];
    s.zone = z;
    s.encloser = encloser;
    s.len = static_cast<uint8_t>(name.size());
    std::memcpy(s.name, name.data(), name.size());
  };
  char lower[kMaxName];
  for (unsigned hop = 0; node->cname && qtype != kTypeCname && qtype != kTypeAny; ++hop) {
    const RRset* cn = findSet(*node, kTypeCname);
    noteSynthesized(lowerOwner);
    if (!addSet(b, PacketWriter::kAnswer, owner, *cn) || hop + 1 >= kMaxChain) return;
    owner = cn->rdatas[0];
    std::string_view target = owner;  // zone data is lowercase-insensitive: look up lowercased
    for (size_t i = 0; i < target.size() && i < kMaxName; ++i)
      lower[i] = static_cast<char>(lowerAscii(static_cast<uint8_t>(target[i])));
    std::string_view lt(lower, std::min(target.size(), kMaxName));
    lowerOwner = lt;
    int zi2 = findZone(lt);
    if (zi2 < 0) return;  // out of our zones: the resolver continues from the CNAME
    z = &zones_[zi2];
    const Node* next = resolveNode(lt, static_cast<uint32_t>(zi2), &encloser);
    if (!next || next->occluded || next->delegation) {
      if (!next) {
        w.setFlags(flags | kFlagAa | kRcodeNxDomain);
        addSynthesizedProofs(b);
        addDenial(b, *z, Denial::kNxDomain, lt, encloser);
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
  } else if (qtype == kTypeRrsig) {
    // The signatures at the name, whatever they cover, as one answer.
    bool any = false;
    for (const RRset& s : node->sets)
      if (!s.sigs.empty()) {
        any = true;
        if (!addRecords(b, PacketWriter::kAnswer, owner, kTypeRrsig, s.sigTtl, s.sigs.data(),
                        s.sigs.size(), nullptr))
          return;
      }
    static const RRset kSignatures{kTypeRrsig, 0, {}, {}, 0};
    if (any) return finishPositive(b, *z, kSignatures, true);
  } else {
    set = findSet(*node, qtype);
  }
  if (!set) {
    // NSD's order: what denies the name comes before the SOA, what denies the type after it
    // (an empty non-terminal's NSEC3 counts as the former, its covering NSEC as the latter).
    b.nodata = true;
    addSynthesizedProofs(b);  // CNAME owners on the way
    if (encloser) {           // the node is the wildcard of this encloser
      addDenial(b, *z, Denial::kWildcard, lowerOwner, encloser);
      addSoa(b, *z);
      addDenial(b, *z, Denial::kWildcardNoData, lowerOwner, encloser);
    } else if (node->sets.empty() && z->sec.nsec3) {
      addDenial(b, *z, Denial::kNoData, lowerOwner, node);
      addSoa(b, *z);
    } else {
      addSoa(b, *z);
      addDenial(b, *z, Denial::kNoData, lowerOwner, node);
    }
    return;
  }
  noteSynthesized(lowerOwner);
  if (!addSet(b, PacketWriter::kAnswer, owner, *set)) return;
  finishPositive(b, *z, *set, qtype != kTypeAny);  // NSD adds no NS to ANY
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
    // The DS of a cut without one is the parent's NODATA, not the referral precomputed for it.
    if (node && !(q.qtype == kTypeDs && node->delegation)) {
      bool withDnssec = q.dnssecOk && zones_[node->zone].sec.isSigned;
      uint32_t pi = NameTable::kNone;
      for (const auto& [t, idx] : withDnssec ? node->answersDo : node->answers)
        if (t == q.qtype) pi = idx;
      if (pi == NameTable::kNone && q.qtype != kTypeAny && q.qtype != kTypeAxfr &&
          q.qtype != kTypeIxfr && !findSet(*node, q.qtype) &&
          !(q.qtype == kTypeRrsig && zones_[node->zone].sec.isSigned))
        pi = withDnssec ? NameTable::kNone : node->nodata;  // DO NODATA: written per query
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
  b.dnssec = q.dnssecOk;
  if (q.qclass != kClassIn)
    w.setFlags(w.flags() | kRcodeRefused);
  else
    build(b, q.name(), q.qtype);
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
