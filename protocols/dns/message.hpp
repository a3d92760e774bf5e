// DNS message codec: a pure query parser and a response writer with name compression that writes
// straight into the caller's send buffer.
//
// Query wire format (RFC 1035 4.1):
//   header 12 bytes: ID, flags (QR opcode AA TC RD | RA Z AD CD rcode), QDCOUNT, ANCOUNT,
//   NSCOUNT, ARCOUNT; then QDCOUNT questions (QNAME, QTYPE, QCLASS); then RRs. We accept exactly
//   one question with an uncompressed QNAME, and read the additional section for one EDNS0 OPT RR
//   (RFC 6891: owner root, TYPE 41, CLASS = UDP payload size, TTL = ext-rcode|version|DO|Z,
//   RDATA = options {code, length, data}); the ECS option (RFC 7871: family, source prefix,
//   scope prefix, address truncated to the source prefix) is decoded when present. An IXFR query
//   (RFC 1995) carries the client's SOA in the authority section: its serial is read (the only
//   query with NSCOUNT != 0 we accept; its names may be compressed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/dns/wire.hpp"

namespace manifold::dns {

enum class QueryStatus : uint8_t {
  Ok,
  Drop,     // not worth an answer: a response (QR=1) or shorter than a header
  FormErr,  // malformed; header (and question if parsed) usable for the error reply
  NotImp,   // opcode other than QUERY
};

struct ClientSubnet {
  bool present = false;
  uint16_t family = 0;  // 1 = IPv4, 2 = IPv6
  uint8_t sourcePrefix = 0;
  uint8_t address[16] = {};
};

struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;  // as received
  uint8_t opcode = 0;
  bool questionParsed = false;
  const uint8_t* qname = nullptr;  // points into the packet, client's case
  size_t qnameLength = 0;          // wire length incl. the root label
  uint8_t lowerName[kMaxName];     // lowercased copy of qname, used for lookups
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t questionEnd = 0;  // offset just past the question
  bool edns = false;
  uint8_t ednsVersion = 0;
  uint16_t udpPayload = 512;
  bool dnssecOk = false;
  ClientSubnet ecs;
  bool ixfrSoa = false;     // IXFR: the authority section held the client's SOA
  uint32_t ixfrSerial = 0;  // its serial
  bool tsig = false;        // the additional section ends with a TSIG RR (tsig.hpp checks it)
  bool rd() const { return flags & 0x0100; }
  bool cd() const { return flags & 0x0010; }
  std::string_view name() const { return {reinterpret_cast<const char*>(lowerName), qnameLength}; }
};

QueryStatus parseQuery(const uint8_t* packet, size_t len, Query& q);

// Writes an answer into a fixed buffer. Names are compressed against every name already written
// (RFC 1035 4.1.4): the question at offset 12 and owners/RDATA names in NS, CNAME, PTR, MX and
// SOA; SRV targets are never compressed (RFC 2782). A write that does not fit leaves the
// buffer as it was at the last mark(), so answers are cut at whole-RRset boundaries.
class PacketWriter {
 public:
  PacketWriter(uint8_t* buf, size_t cap) : buf_(buf), cap_(cap) {}

  // Header with counts 0; the question (name copied as given).
  void start(uint16_t id, uint16_t flags);
  bool question(const uint8_t* name, size_t nameLen, uint16_t qtype, uint16_t qclass);

  enum Section { kAnswer = 0, kAuthority = 1, kAdditional = 2 };
  // One RR; `rdata` is uncompressed wire form. False (and rolled back to the last mark) when full.
  bool record(Section section, std::string_view owner, uint16_t type, uint32_t ttl,
              std::string_view rdata);
  // An OPT RR (EDNS0) with an optional ECS option echoed with `ecsScope`.
  bool opt(uint16_t payload, uint16_t extRcode, bool dnssecOk, const ClientSubnet* ecs,
           uint8_t ecsScope);

  struct Mark {
    size_t len;
    uint16_t counts[3];
    unsigned names;
  };
  Mark mark() const { return {len_, {counts_[0], counts_[1], counts_[2]}, names_}; }
  void rollback(const Mark& m);
  void setCap(size_t cap) { cap_ = cap; }

  size_t size() const { return len_; }
  uint16_t count(Section s) const { return counts_[s]; }
  uint8_t* data() { return buf_; }
  void setFlags(uint16_t flags) { put16(buf_ + 2, flags); }
  uint16_t flags() const { return get16(buf_ + 2); }
  bool failed() const { return failed_; }

 private:
  bool writeName(std::string_view name, bool compress);
  bool nameAt(size_t offset, std::string_view suffix) const;
  void remember(size_t offset);
  bool writeRdata(uint16_t type, std::string_view rdata);
  void finishCounts();

  static constexpr unsigned kMaxNames = 64;
  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  uint16_t counts_[3] = {0, 0, 0};
  uint16_t arOpt_ = 0;
  uint16_t names_ = 0;
  uint16_t nameOffsets_[kMaxNames];
  bool failed_ = false;
};

// Appends an OPT RR at buf+len (bumping ARCOUNT in the header at buf); returns its length, 0 when
// it does not fit in cap. `extRcode` is the full 12-bit rcode (its upper 8 bits go in the TTL).
size_t appendOpt(uint8_t* buf, size_t len, size_t cap, uint16_t payload, uint16_t extRcode,
                 bool dnssecOk, const ClientSubnet* ecs, uint8_t ecsScope);

// A header-only (or header + question) error reply for a query that could not be answered;
// returns its length (0 when the packet is too short to have an ID).
size_t writeErrorReply(const uint8_t* packet, size_t len, const Query& q, uint8_t rcode,
                       uint8_t* out, size_t cap);

// Bytes the OPT record of the answer to `q` takes (0 without EDNS): answers reserve it first so
// truncation never drops the OPT. 11 fixed bytes, plus the ECS option echoed with its address.
inline size_t optRecordSize(const Query& q) {
  if (!q.edns) return 0;
  return 11 + (q.ecs.present ? 8 + (q.ecs.sourcePrefix + 7u) / 8u : 0);
}

}  // namespace manifold::dns
