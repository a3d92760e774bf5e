// Zone transfers out: AXFR (RFC 5936) over TCP, IXFR (RFC 1995) answered with a full AXFR-style
// transfer (its allowed fallback) or, when the client is current, with the SOA alone. Behaviour
// matched against NSD 4.6 (see README.md, "Zone transfers").
//
// A transfer is built once per zone at load: SOA, every RR of the zone, SOA, compressed, cut into
// messages of at most 16384 bytes (as NSD: every name stays a compression target). The image of
// a zone is the messages each preceded by its 2-byte TCP length:
//   [len][header, question "origin AXFR IN", answers][len][header, answers]...[len][..., SOA]
// Only the first message carries the question (and, when the query had EDNS, an OPT appended at
// its end: 11 bytes are kept free). Every message is sent with the query's ID patched in.
// The first message stays in memory (its question takes the client's case and QTYPE); the others
// go into one memfd per [dns:NAME], filled by the master before fork, so every worker sends them
// with sendfile from the same pages: a connection queues [len, id] bytes then the rest of each
// message as a file range, through its ordinary send queue (no loop is blocked, nothing copied).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/dns/message.hpp"
#include "protocols/dns/tsig.hpp"
#include "protocols/dns/zone_db.hpp"

namespace manifold {
struct OpenFile;
class Connection;
}  // namespace manifold

namespace manifold::dns {

class Journal;

inline constexpr size_t kTransferMessageMax = 16384;

// Pure builder of one zone's transfer image (above).
class TransferWriter {
 public:
  // `origin`: the zone's wire name (the question); `soa*`: the apex SOA, sent first and last.
  TransferWriter(std::string_view origin, std::string_view soaOwner, uint32_t soaTtl,
                 std::string_view soaRdata, size_t maxMessage = kTransferMessageMax);
  // False when the RR cannot fit even an otherwise empty message.
  bool add(std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rdata);
  // Appends the closing SOA and returns the image; `messages` gets each message's offset in it
  // (at its length prefix).
  std::string finish(std::vector<size_t>* messages = nullptr);

 private:
  void begin();
  void end();
  std::string_view origin_, soaOwner_, soaRdata_;
  uint32_t soaTtl_;
  size_t max_;
  std::vector<uint8_t> buf_;
  PacketWriter w_;
  std::string image_;
  std::vector<size_t> offsets_;
};

// What a transfer query gets; `rcode` is also in the reply's header.
enum class TransferOutcome : uint8_t {
  NotTransfer,  // not AXFR/IXFR in class IN: answered as an ordinary query
  Served,       // a full transfer (first message in the reply, `stream` = the rest, TCP only)
  UpToDate,     // IXFR from a client as new as us: the SOA alone
  Incremental,  // IXFR answered from the journal (journal.hpp)
  Refused,      // not allowed by allow_transfer (REFUSED), or AXFR over UDP (NOTIMP, as NSD)
  NotAuth,      // not the apex of a zone we serve (NOTAUTH, as NSD)
  FormErr,      // IXFR without the client's SOA
  Failed,       // no image (could not be written): SERVFAIL
};

struct ZoneTransfer {
  std::string origin;  // lowercase wire
  uint32_t serial = 0;
  std::string first;                  // first message, no length prefix, no OPT
  uint64_t restOffset = 0;            // the other messages' place in the file
  std::vector<uint16_t> restLengths;  // their lengths (each preceded by 2 bytes in the file)
  std::string rest;                   // until written to the file
  std::string soaOwner, soaRdata;
  uint32_t soaTtl = 0;
};

// The transfers of one [dns:NAME]: control plane (build, open the file) and the answer.
class Transfers {
 public:
  Transfers();
  ~Transfers();
  // Builds every zone's image (only when someone may transfer: `images`); false with why when a
  // record cannot fit a message.
  bool build(const ZoneDb& db, bool images, std::string& why);
  // Writes the images into a memfd (the master, before fork); false with why.
  bool openFile(std::string& why);
  std::vector<net::Cidr> allow;            // allow_transfer
  std::vector<std::string> allowKey;       // per entry of allow: the TSIG key it requires ("" none)
  std::shared_ptr<const Journal> journal;  // IXFR steps (journal.hpp); null: none kept

  const ZoneTransfer* find(std::string_view lowerName) const;
  const std::vector<ZoneTransfer>& zones() const { return zones_; }
  const std::shared_ptr<OpenFile>& file() const { return file_; }

  // Answers an AXFR/IXFR query into `out` (at most `limit`); NotTransfer for anything else.
  // `stream` is set when the other messages of the zone must follow (TCP).
  // `key`: the TSIG key the query was verified with (null: unsigned). `incrementalRest` (TCP):
  // receives the messages after the first of an incremental IXFR (length-prefixed, ID 0).
  TransferOutcome answer(const Query& q, const sockaddr* peer, bool udp, uint8_t* out, size_t limit,
                         size_t& len, const ZoneTransfer*& stream, const TsigKey* key = nullptr,
                         std::string* incrementalRest = nullptr) const;
  bool allowed(const sockaddr* peer, const TsigKey* key = nullptr) const;
  // The file's pages, mapped by the master (shared by every worker): signing reads them.
  const uint8_t* mapped() const { return map_; }

 private:
  std::vector<ZoneTransfer> zones_;
  NameTable index_;  // origin -> zones_ index
  std::shared_ptr<OpenFile> file_;
  uint8_t* map_ = nullptr;
  size_t mapSize_ = 0;
};

// Appends the messages after the first of `z` to a TCP connection's send queue, each with `id`.
void queueTransferRest(Connection& conn, const Transfers& t, const ZoneTransfer& z, uint16_t id);
// Appends length-prefixed messages (ID 0) with `id`, each signed and chained when `tsig` has a
// key (its MAC moves along).
void queueMessages(Connection& conn, std::string_view messages, uint16_t id, TsigState& tsig);
// The same, each message signed with TSIG (RFC 8945 5.3.1: every message, each MAC chained to
// the previous one, timers only): header and TSIG RR as bytes, the body still a file range.
// `mac` holds the first message's MAC.
void queueSignedTransferRest(Connection& conn, const Transfers& t, const ZoneTransfer& z,
                             uint16_t id, const TsigKey& key, std::string mac, uint64_t time);

}  // namespace manifold::dns
