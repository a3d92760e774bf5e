// Zone transfers in (secondary zones): pure parsing of the reply messages to our AXFR/IXFR
// request, IXFR deltas applied to the records we hold, and the zone copy written as a master
// file the ordinary loader reads back.
//
// XfrInParser takes the reply messages one by one (without their TCP length): each must be a
// response (QR) to our ID with rcode NOERROR; the first echoes our question (or none); RRs are
// read with their names decompressed, RDATA names too for the types whose RDATA may be
// compressed (RFC 3597 4: NS CNAME SOA PTR MX MB MG MR MINFO RP AFSDB RT PX KX SRV NAPTR
// DNAME). With a TSIG key, the first message must be signed (MAC over our request's MAC) and
// the others either signed (chained, timers only) or unsigned, at most 99 in a row, the last one
// signed (RFC 8945 5.3.1). The transfer is complete at the closing SOA:
//   - one SOA alone: the primary is not newer than our serial (IXFR "up to date");
//   - SOA(new) SOA(old) deletions SOA(mid) additions ... SOA(new): incremental (RFC 1995);
//   - SOA(new) records ... SOA(new): the whole zone (AXFR, or IXFR answered AXFR-style).
// The zone copy is one RR per line with absolute owners and RFC 3597 generic RDATA
// (`owner TTL IN TYPEnnn \# LEN HEX`), which the zone parser checks against each known type's
// layout, so the copy loads exactly as the primary's data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/dns/tsig.hpp"

namespace manifold::dns {

struct XfrRecord {
  std::string owner;  // wire, lowercase
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  std::string rdata;  // uncompressed
  bool operator==(const XfrRecord& o) const {
    return owner == o.owner && type == o.type && klass == o.klass && rdata == o.rdata;
  }
};

// The serial of an SOA RDATA (uncompressed); 0 when malformed.
uint32_t soaSerial(std::string_view rdata);
// Refresh, retry, expire of an SOA RDATA (seconds).
struct SoaTimers {
  uint32_t refresh = 0, retry = 0, expire = 0;
};
SoaTimers soaTimers(std::string_view rdata);

class XfrInParser {
 public:
  enum class Status : uint8_t { More, Done, Error };
  enum class Kind : uint8_t { UpToDate, Incremental, Full };

  // `origin`: lowercase wire; `id`: our request's; `key` (may be null) and `requestMac` for
  // TSIG; `now` for its time check. `ixfrSerial`: the serial our IXFR request carried (a lone
  // SOA not newer than it is "up to date"); null for AXFR.
  XfrInParser(std::string origin, uint16_t id, const TsigKey* key, std::string requestMac,
              uint64_t now, const uint32_t* ixfrSerial = nullptr);
  Status feed(const uint8_t* msg, size_t len);
  const std::string& error() const { return error_; }
  Kind kind() const { return kind_; }
  uint32_t serial() const { return serial_; }  // the new serial (first SOA)
  // Every RR in order, SOAs included.
  const std::vector<XfrRecord>& records() const { return records_; }
  size_t messages() const { return messages_; }

 private:
  Status fail(std::string why);
  bool verify(const uint8_t* msg, size_t len);
  Status finishIfComplete();

  std::string origin_;
  uint16_t id_;
  const TsigKey* key_;
  std::string mac_;
  uint64_t now_;
  bool ixfr_ = false;
  uint32_t ourSerial_ = 0;
  std::string unsigned_;  // messages since the last signed one (TSIG)
  unsigned unsignedCount_ = 0;
  size_t messages_ = 0;
  std::vector<XfrRecord> records_;
  uint32_t serial_ = 0;
  Kind kind_ = Kind::Full;
  std::string error_;
  bool done_ = false;
};

// Applies an incremental transfer (records as parsed) to `zone` (the current records, the SOA
// among them); false with why when a deletion is missing or the sequence is malformed.
bool applyIxfr(std::vector<XfrRecord>& zone, const std::vector<XfrRecord>& ixfr, std::string& why);

// The zone's records (the SOA first) as master-file text.
std::string zoneText(std::string_view origin, const std::vector<XfrRecord>& records);
// The SOA RDATA of a copy written by zoneText (its first record); empty when not found.
std::string copySoaRdata(std::string_view text);
// The records of a full transfer, without the closing SOA.
std::vector<XfrRecord> fullZone(const std::vector<XfrRecord>& records);

// A query for `origin` of `qtype` (AXFR or IXFR with our SOA `soa` in authority), id `id`,
// signed with `key` when given (its MAC into `mac`).
std::string xfrRequest(std::string_view origin, uint16_t qtype, uint16_t id, const XfrRecord* soa,
                       const TsigKey* key, uint64_t now, std::string* mac);

}  // namespace manifold::dns
