#include "protocols/dns/message.hpp"

#include <cstring>

namespace manifold::dns {

namespace {

// Skips a possibly compressed name in an additional RR; false when malformed.
bool skipName(const uint8_t* p, size_t len, size_t& pos) {
  size_t total = 0;
  while (pos < len) {
    uint8_t l = p[pos];
    if (l == 0) {
      ++pos;
      return true;
    }
    if ((l & 0xC0) == 0xC0) {
      if (pos + 2 > len) return false;
      pos += 2;  // the target is never followed: nothing of it is used
      return true;
    }
    if (l & 0xC0) return false;
    total += 1 + l;
    if (total > kMaxName) return false;
    pos += 1 + l;
  }
  return false;
}

bool parseOptions(const uint8_t* p, size_t len, Query& q) {
  size_t pos = 0;
  while (pos < len) {
    if (pos + 4 > len) return false;
    uint16_t code = get16(p + pos), olen = get16(p + pos + 2);
    pos += 4;
    if (pos + olen > len) return false;
    // RFC 7873 5.2.2: a client cookie alone (8 bytes) or with a server cookie (8 to 32 bytes);
    // any other length is malformed (FORMERR, as NSD answers). We issue no server cookies.
    if (code == kEdnsOptionCookie && olen != 8 && (olen < 16 || olen > 40)) return false;
    if (code == kEdnsOptionEcs) {
      // FAMILY(2) SOURCE PREFIX(1) SCOPE PREFIX(1) ADDRESS(ceil(source/8))
      if (olen < 4 || q.ecs.present) return false;
      const uint8_t* o = p + pos;
      uint16_t family = get16(o);
      uint8_t source = o[2], scope = o[3];
      size_t maxBits = family == 1 ? 32 : family == 2 ? 128 : 0;
      if (maxBits == 0 || source > maxBits || scope != 0) return false;
      size_t bytes = (source + 7u) / 8u;
      if (olen != 4 + bytes) return false;
      q.ecs.present = true;
      q.ecs.family = family;
      q.ecs.sourcePrefix = source;
      std::memcpy(q.ecs.address, o + 4, bytes);
      if (source % 8 && bytes)
        q.ecs.address[bytes - 1] &= static_cast<uint8_t>(0xFF << (8 - source % 8));
    }
    pos += olen;
  }
  return true;
}

// The SOA of an IXFR query's authority section: owner, SOA, rdata = MNAME RNAME SERIAL ...
bool parseIxfrSoa(const uint8_t* p, size_t len, size_t& pos, Query& q) {
  if (!skipName(p, len, pos) || pos + 10 > len) return false;
  uint16_t type = get16(p + pos), rdlen = get16(p + pos + 8);
  pos += 10;
  size_t end = pos + rdlen;
  if (type != kTypeSoa || end > len) return false;
  size_t at = pos;
  if (!skipName(p, end, at) || !skipName(p, end, at) || at + 20 != end) return false;
  q.ixfrSerial = get32(p + at);
  q.ixfrSoa = true;
  pos = end;
  return true;
}

}  // namespace

QueryStatus parseQuery(const uint8_t* p, size_t len, Query& q) {
  if (len < kHeaderSize) return QueryStatus::Drop;
  q.id = get16(p);
  q.flags = get16(p + 2);
  if (q.flags & 0x8000) return QueryStatus::Drop;
  q.opcode = static_cast<uint8_t>((q.flags >> 11) & 0xF);
  q.questionParsed = false;
  q.edns = false;
  q.ecs.present = false;
  q.udpPayload = 512;
  q.dnssecOk = false;
  q.ednsVersion = 0;
  q.ixfrSoa = false;
  q.tsig = false;
  uint16_t qd = get16(p + 4), an = get16(p + 6), ns = get16(p + 8), ar = get16(p + 10);
  if (qd != 1) return q.opcode ? QueryStatus::NotImp : QueryStatus::FormErr;
  // The question: labels only, no compression pointers.
  size_t pos = kHeaderSize;
  size_t nameLen = 0;
  for (;;) {
    if (pos >= len) return QueryStatus::FormErr;
    uint8_t l = p[pos];
    if (l & 0xC0) return QueryStatus::FormErr;  // pointers and extended label types
    if (nameLen + 1 + l > kMaxName) return QueryStatus::FormErr;
    if (pos + 1 + l > len) return QueryStatus::FormErr;
    q.lowerName[nameLen] = l;
    for (size_t i = 1; i <= l; ++i) q.lowerName[nameLen + i] = lowerAscii(p[pos + i]);
    nameLen += 1 + l;
    pos += 1 + l;
    if (l == 0) break;
  }
  if (pos + 4 > len) return QueryStatus::FormErr;
  q.qname = p + kHeaderSize;
  q.qnameLength = nameLen;
  q.qtype = get16(p + pos);
  q.qclass = get16(p + pos + 2);
  pos += 4;
  q.questionEnd = pos;
  q.questionParsed = true;
  if (q.opcode != 0) return QueryStatus::NotImp;
  if (an != 0 || ns > (q.qtype == kTypeIxfr ? 1 : 0)) return QueryStatus::FormErr;
  if (ns && !parseIxfrSoa(p, len, pos, q)) return QueryStatus::FormErr;
  for (unsigned i = 0; i < ar; ++i) {
    size_t ownerStart = pos;
    if (!skipName(p, len, pos)) return QueryStatus::FormErr;
    if (pos + 10 > len) return QueryStatus::FormErr;
    uint16_t type = get16(p + pos), klass = get16(p + pos + 2);
    uint32_t ttl = get32(p + pos + 4);
    uint16_t rdlen = get16(p + pos + 8);
    pos += 10;
    if (pos + rdlen > len) return QueryStatus::FormErr;
    if (type == kTypeOpt) {
      // One OPT, owned by the root (RFC 6891 6.1.1).
      if (q.edns || pos - 10 - ownerStart != 1 || p[ownerStart] != 0) return QueryStatus::FormErr;
      q.edns = true;
      q.udpPayload = klass < 512 ? 512 : klass;
      q.ednsVersion = static_cast<uint8_t>(ttl >> 16);
      q.dnssecOk = ttl & 0x8000;
      if (!parseOptions(p + pos, rdlen, q)) return QueryStatus::FormErr;
    }
    if (type == 250) q.tsig = true;  // TSIG (RFC 8945): verified by the service
    pos += rdlen;
  }
  return QueryStatus::Ok;
}

void PacketWriter::start(uint16_t id, uint16_t flags) {
  len_ = 0;
  names_ = 0;
  failed_ = false;
  counts_[0] = counts_[1] = counts_[2] = 0;
  if (cap_ < kHeaderSize) {
    failed_ = true;
    return;
  }
  std::memset(buf_, 0, kHeaderSize);
  put16(buf_, id);
  put16(buf_ + 2, flags);
  len_ = kHeaderSize;
}

bool PacketWriter::question(const uint8_t* name, size_t nameLen, uint16_t qtype, uint16_t qclass) {
  if (failed_ || len_ + nameLen + 4 > cap_) return false;
  size_t at = len_;
  std::memcpy(buf_ + len_, name, nameLen);
  len_ += nameLen;
  put16(buf_ + len_, qtype);
  put16(buf_ + len_ + 2, qclass);
  len_ += 4;
  put16(buf_ + 4, 1);
  remember(at);
  return true;
}

void PacketWriter::remember(size_t offset) {
  // Every label start of the name at `offset` (until a pointer) is a compression target.
  while (offset < len_ && offset < 0x3FFF && names_ < kMaxNames) {
    uint8_t l = buf_[offset];
    if (l == 0 || (l & 0xC0)) return;
    nameOffsets_[names_++] = static_cast<uint16_t>(offset);
    offset += 1 + l;
  }
}

// Does the (possibly compressed) name at `offset` equal `suffix`, case-insensitively?
bool PacketWriter::nameAt(size_t offset, std::string_view suffix) const {
  size_t i = 0;
  for (int hops = 0; hops < 64; ++hops) {
    if (offset >= len_) return false;
    uint8_t l = buf_[offset];
    if ((l & 0xC0) == 0xC0) {
      offset = static_cast<size_t>(l & 0x3F) << 8 | buf_[offset + 1];
      continue;
    }
    if (i >= suffix.size() || static_cast<uint8_t>(suffix[i]) != l) return false;
    if (l == 0) return i + 1 == suffix.size();
    for (size_t k = 1; k <= l; ++k)
      if (i + k >= suffix.size() ||
          lowerAscii(buf_[offset + k]) != lowerAscii(static_cast<uint8_t>(suffix[i + k])))
        return false;
    i += 1 + l;
    offset += 1 + l;
  }
  return false;
}

bool PacketWriter::writeName(std::string_view name, bool compress) {
  size_t start = len_;
  size_t i = 0;
  while (i < name.size()) {
    uint8_t l = static_cast<uint8_t>(name[i]);
    if (l == 0) break;
    if (compress) {
      std::string_view suffix = name.substr(i);
      for (unsigned k = 0; k < names_; ++k) {
        if (nameAt(nameOffsets_[k], suffix)) {
          if (len_ + 2 > cap_) return false;
          put16(buf_ + len_, static_cast<uint16_t>(0xC000 | nameOffsets_[k]));
          len_ += 2;
          if (compress) remember(start);
          return true;
        }
      }
    }
    if (len_ + 1 + l > cap_) return false;
    std::memcpy(buf_ + len_, name.data() + i, 1 + l);
    len_ += 1 + l;
    i += 1 + l;
  }
  if (len_ + 1 > cap_) return false;
  buf_[len_++] = 0;
  if (compress) remember(start);
  return true;
}

bool PacketWriter::writeRdata(uint16_t type, std::string_view rd) {
  auto raw = [&](std::string_view bytes) {
    if (len_ + bytes.size() > cap_) return false;
    std::memcpy(buf_ + len_, bytes.data(), bytes.size());
    len_ += bytes.size();
    return true;
  };
  const auto* u = reinterpret_cast<const uint8_t*>(rd.data());
  const uint8_t* end = u + rd.size();
  switch (type) {
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
      return writeName(rd, true);
    case kTypeMx: {
      if (rd.size() < 3) return raw(rd);
      return raw(rd.substr(0, 2)) && writeName(rd.substr(2), true);
    }
    case kTypeSoa: {
      size_t a = wireNameLength(u, end);
      size_t b = a ? wireNameLength(u + a, end) : 0;
      if (!a || !b || rd.size() != a + b + 20) return raw(rd);
      return writeName(rd.substr(0, a), true) && writeName(rd.substr(a, b), true) &&
             raw(rd.substr(a + b));
    }
    default:
      return raw(rd);
  }
}

bool PacketWriter::record(Section section, std::string_view owner, uint16_t type, uint32_t ttl,
                          std::string_view rdata) {
  if (failed_) return false;
  Mark m = mark();
  if (!writeName(owner, true) || len_ + 10 > cap_) {
    rollback(m);
    return false;
  }
  put16(buf_ + len_, type);
  put16(buf_ + len_ + 2, kClassIn);
  put32(buf_ + len_ + 4, ttl);
  size_t rdlenAt = len_ + 8;
  len_ += 10;
  size_t rdStart = len_;
  if (!writeRdata(type, rdata)) {
    rollback(m);
    return false;
  }
  put16(buf_ + rdlenAt, static_cast<uint16_t>(len_ - rdStart));
  ++counts_[section];
  put16(buf_ + 6 + 2 * section, counts_[section]);
  return true;
}

size_t appendOpt(uint8_t* buf, size_t len, size_t cap, uint16_t payload, uint16_t extRcode,
                 bool dnssecOk, const ClientSubnet* ecs, uint8_t ecsScope) {
  size_t optLen = 0;
  size_t addrBytes = 0;
  if (ecs && ecs->present) {
    addrBytes = (ecs->sourcePrefix + 7u) / 8u;
    optLen = 4 + 4 + addrBytes;
  }
  if (len < kHeaderSize || len + 11 + optLen > cap) return 0;
  uint8_t* o = buf + len;
  o[0] = 0;
  put16(o + 1, kTypeOpt);
  put16(o + 3, payload);
  put32(o + 5, static_cast<uint32_t>(extRcode >> 4) << 24 | (dnssecOk ? 0x8000u : 0u));
  put16(o + 9, static_cast<uint16_t>(optLen));
  if (optLen) {
    uint8_t* e = o + 11;
    put16(e, kEdnsOptionEcs);
    put16(e + 2, static_cast<uint16_t>(4 + addrBytes));
    put16(e + 4, ecs->family);
    e[6] = ecs->sourcePrefix;
    e[7] = ecsScope;
    std::memcpy(e + 8, ecs->address, addrBytes);
  }
  put16(buf + 10, static_cast<uint16_t>(get16(buf + 10) + 1));
  return 11 + optLen;
}

bool PacketWriter::opt(uint16_t payload, uint16_t extRcode, bool dnssecOk, const ClientSubnet* ecs,
                       uint8_t ecsScope) {
  size_t n = appendOpt(buf_, len_, cap_, payload, extRcode, dnssecOk, ecs, ecsScope);
  if (!n) return false;
  len_ += n;
  ++counts_[kAdditional];
  return true;
}

void PacketWriter::rollback(const Mark& m) {
  len_ = m.len;
  names_ = static_cast<uint16_t>(m.names);
  for (int s = 0; s < 3; ++s) {
    counts_[s] = m.counts[s];
    if (len_ >= kHeaderSize) put16(buf_ + 6 + 2 * s, counts_[s]);
  }
}

size_t writeErrorReply(const uint8_t* packet, size_t len, const Query& q, uint8_t rcode,
                       uint8_t* out, size_t cap) {
  if (len < 2 || cap < kHeaderSize) return 0;
  uint16_t inFlags = len >= 4 ? get16(packet + 2) : 0;
  // QR, the opcode and RD echoed; everything else zero.
  uint16_t flags = static_cast<uint16_t>(0x8000 | (inFlags & 0x7900) | rcode);
  PacketWriter w(out, cap);
  w.start(get16(packet), flags);
  if (q.questionParsed) w.question(q.qname, q.qnameLength, q.qtype, q.qclass);
  if (q.questionParsed && q.edns) w.opt(1232, 0, false, nullptr, 0);
  return w.size();
}

}  // namespace manifold::dns
