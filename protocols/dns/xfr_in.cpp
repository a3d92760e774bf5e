#include "protocols/dns/xfr_in.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "protocols/dns/message.hpp"

namespace manifold::dns {

namespace {

// How an RDATA holds names that may be compressed: a list of steps, 'N' a name, a digit that
// many fixed bytes, 'S' a character-string; the rest of the RDATA is copied as is.
const char* rdataLayout(uint16_t type) {
  switch (type) {
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
    case 7:   // MB
    case 8:   // MG
    case 9:   // MR
    case 39:  // DNAME
      return "N";
    case kTypeSoa:
      return "NN";
    case kTypeMx:
    case 18:  // AFSDB
    case 21:  // RT
    case 36:  // KX
      return "2N";
    case 14:  // MINFO
    case kTypeRp:
      return "NN";
    case 26:  // PX
      return "2NN";
    case kTypeSrv:
      return "6N";
    case kTypeNaptr:
      return "4SSSN";
    default:
      return "";
  }
}

// RDATA at msg[pos..pos+len) with its names decompressed; false when malformed.
bool readRdata(const uint8_t* msg, size_t msgLen, size_t pos, size_t len, uint16_t type,
               std::string& out) {
  out.clear();
  size_t end = pos + len;
  for (const char* s = rdataLayout(type); *s; ++s) {
    if (*s == 'N') {
      uint8_t name[kMaxName];
      size_t n = 0;
      // Pointers may reach anywhere earlier in the message, but the name must start inside.
      if (pos >= end || !readName(msg, msgLen, pos, name, n, false) || pos > end) return false;
      out.append(reinterpret_cast<char*>(name), n);
    } else if (*s == 'S') {
      if (pos >= end || pos + 1 + msg[pos] > end) return false;
      out.append(reinterpret_cast<const char*>(msg + pos), 1 + msg[pos]);
      pos += 1 + msg[pos];
    } else {
      size_t n = static_cast<size_t>(*s - '0');
      if (pos + n > end) return false;
      out.append(reinterpret_cast<const char*>(msg + pos), n);
      pos += n;
    }
  }
  out.append(reinterpret_cast<const char*>(msg + pos), end - pos);
  return true;
}

bool isSoa(const XfrRecord& r) { return r.type == kTypeSoa; }

bool sameRecord(const XfrRecord& a, const XfrRecord& b) {
  return a.type == b.type && a.klass == b.klass && a.rdata == b.rdata &&
         lowerName(a.owner) == lowerName(b.owner);
}

}  // namespace

uint32_t soaSerial(std::string_view rdata) {
  if (rdata.size() < 22) return 0;
  return get32(reinterpret_cast<const uint8_t*>(rdata.data()) + rdata.size() - 20);
}

SoaTimers soaTimers(std::string_view rdata) {
  SoaTimers t;
  if (rdata.size() < 22) return t;
  const auto* p = reinterpret_cast<const uint8_t*>(rdata.data()) + rdata.size() - 16;
  t.refresh = get32(p);
  t.retry = get32(p + 4);
  t.expire = get32(p + 8);
  return t;
}

XfrInParser::XfrInParser(std::string origin, uint16_t id, const TsigKey* key,
                         std::string requestMac, uint64_t now, const uint32_t* ixfrSerial)
    : origin_(std::move(origin)),
      id_(id),
      key_(key),
      mac_(std::move(requestMac)),
      now_(now),
      ixfr_(ixfrSerial != nullptr),
      ourSerial_(ixfrSerial ? *ixfrSerial : 0) {}

XfrInParser::Status XfrInParser::fail(std::string why) {
  error_ = std::move(why);
  done_ = true;
  return Status::Error;
}

// RFC 8945 5.3.1: the first message signed with the request's MAC; later ones chained, timers
// only, with up to 99 unsigned messages in between hashed into the next signed one.
bool XfrInParser::verify(const uint8_t* msg, size_t len) {
  if (!key_) return true;
  TsigRecord rec;
  TsigFind f = findTsig(msg, len, rec);
  if (f == TsigFind::Malformed) return false;
  if (f == TsigFind::None) {
    if (messages_ == 1 || ++unsignedCount_ > 99) return false;
    unsigned_.append(reinterpret_cast<const char*>(msg), len);
    return true;
  }
  std::vector<TsigKey> keys{*key_};
  if (rec.error != 0 ||
      verifyTsig(msg, len, rec, keys, mac_, now_, messages_ > 1, unsigned_) != TsigStatus::Ok)
    return false;
  mac_.assign(rec.macView());
  unsigned_.clear();
  unsignedCount_ = 0;
  return true;
}

XfrInParser::Status XfrInParser::feed(const uint8_t* msg, size_t len) {
  if (done_) return fail("data after the end of the transfer");
  ++messages_;
  if (len < kHeaderSize) return fail("short message");
  uint16_t flags = get16(msg + 2);
  if (get16(msg) != id_ || !(flags & kFlagQr)) return fail("not a reply to our request");
  if ((flags & 0xF) != kRcodeNoError)
    return fail("the primary answered rcode " + std::to_string(flags & 0xF));
  if (!verify(msg, len)) return fail("TSIG verification failed");
  unsigned qd = get16(msg + 4), an = get16(msg + 6);
  size_t pos = kHeaderSize;
  for (unsigned i = 0; i < qd; ++i) {
    uint8_t name[kMaxName];
    size_t n = 0;
    if (!readName(msg, len, pos, name, n) || pos + 4 > len) return fail("bad question");
    if (std::string_view(reinterpret_cast<char*>(name), n) != origin_)
      return fail("the reply is for another zone");
    pos += 4;
  }
  for (unsigned i = 0; i < an; ++i) {
    XfrRecord r;
    uint8_t name[kMaxName];
    size_t n = 0;
    if (!readName(msg, len, pos, name, n, false) || pos + 10 > len) return fail("bad record");
    r.owner.assign(reinterpret_cast<char*>(name), n);
    r.type = get16(msg + pos);
    r.klass = get16(msg + pos + 2);
    r.ttl = get32(msg + pos + 4);
    uint16_t rdlen = get16(msg + pos + 8);
    pos += 10;
    if (pos + rdlen > len || !readRdata(msg, len, pos, rdlen, r.type, r.rdata))
      return fail("bad data in a " + typeName(r.type) + " record of " + nameToText(r.owner));
    pos += rdlen;
    if (done_) return fail("records after the closing SOA");
    if (r.klass != kClassIn) return fail("a record of class " + std::to_string(r.klass));
    if (!isSubdomain(lowerName(r.owner), origin_))
      return fail("a record outside the zone: " + nameToText(r.owner));
    if (records_.empty()) {
      if (!isSoa(r) || lowerName(r.owner) != origin_)
        return fail("the transfer does not start with the zone's SOA");
      if (r.rdata.size() < 22) return fail("bad SOA");
      serial_ = soaSerial(r.rdata);
    }
    records_.push_back(std::move(r));
    if (Status s = finishIfComplete(); s != Status::More) {
      if (i + 1 != an) return fail("records after the closing SOA");
      return s;
    }
  }
  // A first message with a lone SOA not newer than ours (RFC 1982) answers our IXFR: current.
  if (records_.size() == 1 && messages_ == 1 && ixfr_ &&
      static_cast<int32_t>(serial_ - ourSerial_) <= 0) {
    kind_ = Kind::UpToDate;
    done_ = true;
    return key_ && !unsigned_.empty() ? fail("the last message is not signed") : Status::Done;
  }
  return Status::More;
}

XfrInParser::Status XfrInParser::finishIfComplete() {
  const XfrRecord& last = records_.back();
  if (records_.size() < 2 || !isSoa(last) || soaSerial(last.rdata) != serial_) return Status::More;
  // SOA(new) SOA(old) ...: incremental, complete when SOA(new) comes in the "additions" role.
  if (isSoa(records_[1]) && records_.size() > 2) {
    // Count SOAs: new, then pairs (old_i, new_i); the closing SOA makes the count even + 1 ...
    size_t soas = 0;
    for (const XfrRecord& r : records_) soas += isSoa(r);
    // 1 (opening) + 2 per step + 1 (closing): the closing one is the last with the new serial
    // in an even position among the SOAs after the first.
    if ((soas - 1) % 2 != 1) return Status::More;
    // The last step's second SOA also has the new serial; the closing one follows it.
    size_t k = records_.size() - 2;
    while (k > 0 && !isSoa(records_[k])) --k;
    if (k == 0 || soaSerial(records_[k].rdata) != serial_) return Status::More;
    kind_ = Kind::Incremental;
  } else {
    kind_ = Kind::Full;
  }
  done_ = true;
  if (key_ && !unsigned_.empty()) return fail("the last message is not signed");
  return Status::Done;
}

bool applyIxfr(std::vector<XfrRecord>& zone, const std::vector<XfrRecord>& ixfr, std::string& why) {
  // ixfr: SOA(new) [SOA(old) dels... SOA(next) adds...]+ SOA(new)
  if (ixfr.size() < 3) {
    why = "short incremental transfer";
    return false;
  }
  size_t i = 1;
  while (i + 1 < ixfr.size()) {
    const XfrRecord& from = ixfr[i];
    if (!isSoa(from)) {
      why = "an IXFR step does not start with an SOA";
      return false;
    }
    // The step must start from the version we hold.
    auto soa = std::find_if(zone.begin(), zone.end(), isSoa);
    if (soa == zone.end() || soaSerial(soa->rdata) != soaSerial(from.rdata)) {
      why = "the IXFR step does not start from our serial";
      return false;
    }
    for (++i; i < ixfr.size() && !isSoa(ixfr[i]); ++i) {
      auto it = std::find_if(zone.begin(), zone.end(),
                             [&](const XfrRecord& r) { return sameRecord(r, ixfr[i]); });
      if (it == zone.end()) {
        why = "IXFR deletes a record we do not have: " + nameToText(ixfr[i].owner) + " " +
              typeName(ixfr[i].type);
        return false;
      }
      zone.erase(it);
    }
    if (i + 1 >= ixfr.size()) {
      why = "an IXFR step has no additions part";
      return false;
    }
    *soa = ixfr[i];  // the SOA of the step's result
    for (++i; i < ixfr.size() && !isSoa(ixfr[i]); ++i) {
      bool have = false;
      for (const XfrRecord& r : zone) have = have || sameRecord(r, ixfr[i]);
      if (!have) zone.push_back(ixfr[i]);
    }
    if (i + 1 == ixfr.size()) break;  // the closing SOA
  }
  return true;
}

std::vector<XfrRecord> fullZone(const std::vector<XfrRecord>& records) {
  return std::vector<XfrRecord>(records.begin(), records.end() - (records.size() > 1 ? 1 : 0));
}

std::string zoneText(std::string_view origin, const std::vector<XfrRecord>& records) {
  std::string out = "; zone " + nameToText(origin) + " transferred in by manifold\n";
  static const char kHex[] = "0123456789abcdef";
  // The SOA first: the loader wants it before the zone's other records.
  for (int pass = 0; pass < 2; ++pass)
    for (const XfrRecord& r : records) {
      if ((r.type == kTypeSoa) != (pass == 0)) continue;
      if (r.klass != kClassIn) continue;
      char head[64];
      snprintf(head, sizeof head, " %u IN TYPE%u \\# %zu ", r.ttl, r.type, r.rdata.size());
      out += nameToText(r.owner);
      out += head;
      for (unsigned char c : r.rdata) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      if (r.rdata.empty()) out.pop_back();  // "\# 0" takes no data
      out.push_back('\n');
      if (pass == 0) break;
    }
  return out;
}

std::string copySoaRdata(std::string_view text) {
  size_t at = text.find(" IN TYPE6 \\# ");
  if (at == std::string_view::npos) return "";
  at = text.find(' ', at + 13);
  size_t end = text.find('\n', at);
  if (at == std::string_view::npos || end == std::string_view::npos) return "";
  std::string out;
  auto hex = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = at + 1; i + 1 < end; i += 2)
    out.push_back(static_cast<char>(hex(text[i]) << 4 | hex(text[i + 1])));
  return out;
}

std::string xfrRequest(std::string_view origin, uint16_t qtype, uint16_t id, const XfrRecord* soa,
                       const TsigKey* key, uint64_t now, std::string* mac) {
  std::vector<uint8_t> buf(kHeaderSize + origin.size() + 4 +
                           (soa ? 12 + origin.size() + soa->rdata.size() : 0) +
                           (key ? key->recordSize() : 0) + 16);
  PacketWriter w(buf.data(), buf.size());
  w.start(id, 0);
  w.question(reinterpret_cast<const uint8_t*>(origin.data()), origin.size(), qtype, kClassIn);
  if (soa) w.record(PacketWriter::kAuthority, soa->owner, kTypeSoa, soa->ttl, soa->rdata);
  size_t n = w.size();
  if (key) n = signTsig(buf.data(), n, buf.size(), *key, {}, now, false, mac);
  return std::string(reinterpret_cast<char*>(buf.data()), n);
}

}  // namespace manifold::dns
