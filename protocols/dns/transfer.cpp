#include "protocols/dns/transfer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocols/dns/journal.hpp"
#include "worker/connection.hpp"

namespace manifold::dns {

namespace {

constexpr size_t kOptReserve = 11;  // an OPT without options, appended to the first message

// A reply with the question (and OPT when the query had EDNS); `soa` adds it as the answer.
size_t shortReply(const Query& q, uint16_t flags, const ZoneTransfer* soa, uint8_t* out,
                  size_t limit) {
  size_t optSize = optRecordSize(q) ? kOptReserve : 0;
  if (limit < kHeaderSize + optSize) return 0;
  PacketWriter w(out, limit - optSize);
  w.start(q.id, static_cast<uint16_t>(kFlagQr | (q.flags & 0x0110) | flags));
  if (!w.question(q.qname, q.qnameLength, q.qtype, q.qclass)) return 0;
  if (soa) w.record(PacketWriter::kAnswer, soa->soaOwner, kTypeSoa, soa->soaTtl, soa->soaRdata);
  if (q.edns) {
    w.setCap(limit);
    w.opt(1232, 0, q.dnssecOk, nullptr, 0);
  }
  return w.size();
}

// The first message of a transfer (no length, ID 0) as the reply to q: its ID and flags, the
// question in the client's case and QTYPE, the OPT when the query had EDNS.
size_t firstMessage(const Query& q, std::string_view msg, uint8_t* out, size_t limit) {
  size_t len = msg.size();
  std::memcpy(out, msg.data(), len);
  put16(out, q.id);
  put16(out + 2, static_cast<uint16_t>(kFlagQr | kFlagAa | (q.flags & 0x0110)));
  std::memcpy(out + kHeaderSize, q.qname,
              q.qnameLength);  // same length: the apex in the client's case
  put16(out + kHeaderSize + q.qnameLength, q.qtype);
  if (q.edns) len += appendOpt(out, len, limit, 1232, 0, q.dnssecOk, nullptr, 0);
  return len;
}

}  // namespace

TransferWriter::TransferWriter(std::string_view origin, std::string_view soaOwner, uint32_t soaTtl,
                               std::string_view soaRdata, size_t maxMessage)
    : origin_(origin),
      soaOwner_(soaOwner),
      soaRdata_(soaRdata),
      soaTtl_(soaTtl),
      max_(maxMessage),
      buf_(maxMessage),
      w_(buf_.data(), maxMessage) {
  begin();
  add(soaOwner_, kTypeSoa, soaTtl_, soaRdata_);
}

void TransferWriter::begin() {
  w_.setCap(max_);
  w_.start(0, kFlagQr | kFlagAa);
  if (!offsets_.empty()) return;
  w_.question(reinterpret_cast<const uint8_t*>(origin_.data()), origin_.size(), kTypeAxfr,
              kClassIn);
  w_.setCap(max_ - kOptReserve);
}

void TransferWriter::end() {
  offsets_.push_back(image_.size());
  uint8_t len[2];
  put16(len, static_cast<uint16_t>(w_.size()));
  image_.append(reinterpret_cast<const char*>(len), 2);
  image_.append(reinterpret_cast<const char*>(buf_.data()), w_.size());
}

bool TransferWriter::add(std::string_view owner, uint16_t type, uint32_t ttl,
                         std::string_view rdata) {
  if (w_.record(PacketWriter::kAnswer, owner, type, ttl, rdata)) return true;
  if (w_.count(PacketWriter::kAnswer) == 0) return false;
  end();
  begin();
  return w_.record(PacketWriter::kAnswer, owner, type, ttl, rdata);
}

std::string TransferWriter::finish(std::vector<size_t>* messages) {
  add(soaOwner_, kTypeSoa, soaTtl_, soaRdata_);
  end();
  if (messages) *messages = offsets_;
  return std::move(image_);
}

Transfers::Transfers() = default;
Transfers::~Transfers() {
  if (map_) munmap(map_, mapSize_);
}

bool Transfers::build(const ZoneDb& db, bool images, std::string& why) {
  zones_.clear();
  for (size_t z = 0; z < db.zoneCount(); ++z) {
    ZoneTransfer t;
    ZoneDb::SoaRecord soa = db.zoneSoa(z);
    t.origin = db.zoneOrigin(z);
    t.serial = soa.serial();
    t.soaOwner = soa.owner;
    t.soaTtl = soa.ttl;
    t.soaRdata = soa.rdata;
    if (images) {
      TransferWriter w(t.origin, t.soaOwner, t.soaTtl, t.soaRdata);
      bool ok = true;
      db.forEachRecord(
          z, [&](std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rd) {
            if (ok && !w.add(owner, type, ttl, rd)) {
              ok = false;
              why = "zone " + nameToText(t.origin) + ": a " + typeName(type) + " record of " +
                    nameToText(owner) + " does not fit a transfer message";
            }
          });
      if (!ok) return false;
      std::vector<size_t> offsets;
      std::string image = w.finish(&offsets);
      size_t firstEnd = offsets.size() > 1 ? offsets[1] : image.size();
      t.first = image.substr(2, firstEnd - 2);
      t.rest = image.substr(firstEnd);
      for (size_t i = 1; i < offsets.size(); ++i)
        t.restLengths.push_back(get16(reinterpret_cast<const uint8_t*>(image.data()) + offsets[i]));
    }
    zones_.push_back(std::move(t));
  }
  std::vector<std::pair<std::string, uint32_t>> entries;
  for (uint32_t i = 0; i < zones_.size(); ++i) entries.emplace_back(zones_[i].origin, i);
  index_.build(entries);
  return true;
}

bool Transfers::openFile(std::string& why) {
  if (file_) return true;
  bool any = false;
  for (const auto& z : zones_) any = any || !z.rest.empty();
  if (!any) return true;
  int fd = memfd_create("manifold-dns-xfr", MFD_CLOEXEC);
  if (fd < 0) {
    why = std::string("memfd_create: ") + strerror(errno);
    return false;
  }
  auto file = std::make_shared<OpenFile>(fd);
  uint64_t at = 0;
  for (auto& z : zones_) {
    z.restOffset = at;
    for (size_t done = 0; done < z.rest.size();) {
      ssize_t n =
          pwrite(fd, z.rest.data() + done, z.rest.size() - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        why = std::string("writing the transfer image: ") + strerror(errno);
        return false;
      }
      done += static_cast<size_t>(n);
    }
    at += z.rest.size();
  }
  for (auto& z : zones_) std::string().swap(z.rest);  // the file holds them now
  void* m = mmap(nullptr, at, PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    why = std::string("mapping the transfer image: ") + strerror(errno);
    return false;
  }
  map_ = static_cast<uint8_t*>(m);
  mapSize_ = at;
  file_ = std::move(file);
  return true;
}

const ZoneTransfer* Transfers::find(std::string_view lowerName) const {
  uint32_t i = index_.find(lowerName);
  return i == NameTable::kNone ? nullptr : &zones_[i];
}

bool Transfers::allowed(const sockaddr* peer, const TsigKey* key) const {
  net::PeerAddress a = net::peerAddress(peer);
  for (size_t i = 0; i < allow.size(); ++i) {
    if (!allow[i].contains(a)) continue;
    const std::string& need = i < allowKey.size() ? allowKey[i] : std::string();
    if (need.empty() || (key && key->name == need)) return true;
  }
  return false;
}

TransferOutcome Transfers::answer(const Query& q, const sockaddr* peer, bool udp, uint8_t* out,
                                  size_t limit, size_t& len, const ZoneTransfer*& stream,
                                  const TsigKey* key, std::string* incrementalRest) const {
  stream = nullptr;
  len = 0;
  if (q.qclass != kClassIn || (q.qtype != kTypeAxfr && q.qtype != kTypeIxfr))
    return TransferOutcome::NotTransfer;
  // NSD answers AXFR over UDP with NOTIMP, for any name.
  if (udp && q.qtype == kTypeAxfr) {
    len = shortReply(q, kRcodeNotImp, nullptr, out, limit);
    return TransferOutcome::Refused;
  }
  if (q.qtype == kTypeIxfr && !q.ixfrSoa) {
    len = shortReply(q, kRcodeFormErr, nullptr, out, limit);
    return TransferOutcome::FormErr;
  }
  const ZoneTransfer* z = find(q.name());
  if (!z) {
    len = shortReply(q, kRcodeNotAuth, nullptr, out, limit);
    return TransferOutcome::NotAuth;
  }
  if (!allowed(peer, key)) {
    len = shortReply(q, kRcodeRefused, nullptr, out, limit);
    return TransferOutcome::Refused;
  }
  // RFC 1995: a client whose serial is ours or newer (RFC 1982 arithmetic) gets the SOA alone.
  if (q.qtype == kTypeIxfr && static_cast<int32_t>(q.ixfrSerial - z->serial) >= 0) {
    len = shortReply(q, kFlagAa, z, out, limit);
    return TransferOutcome::UpToDate;
  }
  size_t optSize = q.edns ? kOptReserve : 0;
  // RFC 1995: the journal's steps from the client's serial to ours, when it has them all.
  if (q.qtype == kTypeIxfr && journal) {
    std::vector<const JournalStep*> steps = journal->chain(z->origin, q.ixfrSerial, z->serial);
    if (!steps.empty()) {
      XfrRecord soa{z->soaOwner, kTypeSoa, kClassIn, z->soaTtl, z->soaRdata};
      std::string image = ixfrImage(z->origin, soa, steps);
      size_t firstLen = get16(reinterpret_cast<const uint8_t*>(image.data()));
      bool single = 2 + firstLen == image.size();
      if ((udp && !single) || firstLen + optSize > limit) {
        len = shortReply(q, kFlagAa | kFlagTc, z, out, limit);  // retry over TCP (RFC 1995 2)
        return TransferOutcome::UpToDate;
      }
      len = firstMessage(q, std::string_view(image).substr(2, firstLen), out, limit);
      if (incrementalRest) incrementalRest->assign(image, 2 + firstLen);
      return TransferOutcome::Incremental;
    }
  }
  bool whole = z->restLengths.empty() && z->first.size() + optSize <= limit;
  if (udp && !whole) {
    // RFC 1995 2: a UDP reply that does not fit is the SOA alone; TC makes the client retry
    // over TCP at once (NSD sends a cut transfer without TC instead).
    len = shortReply(q, kFlagAa | kFlagTc, z, out, limit);
    return TransferOutcome::UpToDate;
  }
  if (z->first.empty() || (!z->restLengths.empty() && !file_) ||
      z->first.size() + optSize > limit) {
    len = shortReply(q, kRcodeServFail, nullptr, out, limit);
    return TransferOutcome::Failed;
  }
  len = firstMessage(q, z->first, out, limit);
  if (!z->restLengths.empty()) stream = z;
  return TransferOutcome::Served;
}

void queueTransferRest(Connection& conn, const Transfers& t, const ZoneTransfer& z, uint16_t id) {
  uint64_t at = z.restOffset;
  for (uint16_t len : z.restLengths) {
    uint8_t head[4];
    put16(head, len);
    put16(head + 2, id);
    conn.output().append(reinterpret_cast<const char*>(head), 4);
    conn.queueFile(t.file(), static_cast<off_t>(at + 4), len - 2u);
    at += 2u + len;
  }
}

}  // namespace manifold::dns

namespace manifold::dns {

void queueMessages(Connection& conn, std::string_view messages, uint16_t id, TsigState& tsig) {
  std::vector<uint8_t> buf;
  for (size_t at = 0; at + 2 <= messages.size();) {
    size_t len = get16(reinterpret_cast<const uint8_t*>(messages.data()) + at);
    buf.assign(messages.begin() + static_cast<ptrdiff_t>(at + 2),
               messages.begin() + static_cast<ptrdiff_t>(at + 2 + len));
    at += 2 + len;
    put16(buf.data(), id);
    if (tsig.key) {
      buf.resize(len + tsig.key->recordSize());
      len = signTsig(buf.data(), len, buf.size(), *tsig.key, tsig.mac, tsig.time, true, &tsig.mac);
    }
    uint8_t head[2];
    put16(head, static_cast<uint16_t>(len));
    conn.output()
        .append(reinterpret_cast<char*>(head), 2)
        .append(reinterpret_cast<const char*>(buf.data()), len);
  }
}

void queueSignedTransferRest(Connection& conn, const Transfers& t, const ZoneTransfer& z,
                             uint16_t id, const TsigKey& key, std::string mac, uint64_t time) {
  const uint8_t* base = t.mapped();
  uint64_t at = z.restOffset;
  const std::string timers = tsigVariables(key, time, kTsigFudge, 0, {}, true);
  for (uint16_t len : z.restLengths) {
    const uint8_t* msg = base + at + 2;  // its ID is 0 in the file
    uint8_t head[2 + kHeaderSize];
    std::memcpy(head + 2, msg, kHeaderSize);
    put16(head + 2, id);
    TsigMac h(key);
    h.updatePriorMac(mac);
    h.update(head + 2, kHeaderSize);
    h.update(msg + kHeaderSize, len - kHeaderSize);
    h.update(timers);
    uint8_t m[kTsigMaxMac];
    mac.assign(reinterpret_cast<char*>(m), h.final(m));
    uint8_t rr[kMaxName + 128];
    size_t rrLen = writeTsigRecord(rr, sizeof rr, key, time, id, 0, mac, {});
    put16(head, static_cast<uint16_t>(len + rrLen));
    put16(head + 12, static_cast<uint16_t>(get16(head + 12) + 1));  // ARCOUNT
    conn.output().append(reinterpret_cast<const char*>(head), sizeof head);
    conn.queueFile(t.file(), static_cast<off_t>(at + 2 + kHeaderSize), len - kHeaderSize);
    conn.output().append(reinterpret_cast<const char*>(rr), rrLen);
    at += 2u + len;
  }
}

}  // namespace manifold::dns
