#include "protocols/dns/lrrr.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "shm/table.hpp"
#include "worker/clock.hpp"
#include "worker/peer_address.hpp"

namespace manifold::dns {

namespace {

constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t kPayload = 13;
constexpr uint32_t kStripes = 16;

void mac(const uint8_t* payload, const uint8_t key[16], const ClientPrefix& who,
         std::string_view suffix, uint8_t out[8]) {
  uint8_t buf[kPayload + sizeof who.bytes + kMaxName];
  size_t n = 0;
  std::memcpy(buf, payload, kPayload);
  n += kPayload;
  std::memcpy(buf + n, who.bytes, sizeof who.bytes);
  n += sizeof who.bytes;
  size_t s = std::min(suffix.size(), kMaxName);
  std::memcpy(buf + n, suffix.data(), s);
  n += s;
  crypto_shorthash(out, buf, n, key);
}

void cacheKey(uint16_t index, const ClientPrefix& who, char out[19]) {
  out[0] = static_cast<char>(index >> 8);
  out[1] = static_cast<char>(index);
  std::memcpy(out + 2, who.bytes, sizeof who.bytes);
}

}  // namespace

ClientPrefix clientPrefix(const sockaddr* peer, unsigned prefix4, unsigned prefix6) {
  ClientPrefix p;
  net::PeerAddress a = net::maskPrefix(net::peerAddress(peer), prefix4, prefix6);
  if (!a.rawLength()) return p;
  p.bytes[0] = a.isV4() ? 4 : 6;
  std::memcpy(p.bytes + 1, a.raw(), a.rawLength());
  return p;
}

void encodeLrrrToken(const LrrrToken& t, const uint8_t key[16], const ClientPrefix& who,
                     std::string_view suffix, char* out) {
  uint8_t raw[kLrrrTokenBytes];
  raw[0] = static_cast<uint8_t>(t.step);
  put16(raw + 1, t.rtt[0]);
  put16(raw + 3, t.rtt[1]);
  put32(raw + 5, t.t0);
  put32(raw + 9, t.wall);
  mac(raw, key, who, suffix, raw + kPayload);
  // Base32, 5 bits per character, most significant first; the last character holds 3 bits + 2
  // zero bits.
  uint32_t acc = 0;
  unsigned bits = 0, o = 0;
  for (uint8_t b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out[o++] = kBase32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits) out[o++] = kBase32[(acc << (5 - bits)) & 31];
}

bool decodeLrrrToken(std::string_view label, const uint8_t key[16], const ClientPrefix& who,
                     std::string_view suffix, LrrrToken& out) {
  if (label.size() != kLrrrTokenChars) return false;
  uint8_t raw[kLrrrTokenBytes];
  uint32_t acc = 0;
  unsigned bits = 0, o = 0;
  for (char ch : label) {
    unsigned v;
    uint8_t c = lowerAscii(static_cast<uint8_t>(ch));
    if (c >= 'a' && c <= 'z')
      v = c - 'a';
    else if (c >= '2' && c <= '7')
      v = 26 + (c - '2');
    else
      return false;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      raw[o++] = static_cast<uint8_t>(acc >> (bits - 8));
      bits -= 8;
    }
  }
  if (o != kLrrrTokenBytes || (acc & ((1u << bits) - 1)) != 0) return false;  // canonical only
  uint8_t want[8];
  mac(raw, key, who, suffix, want);
  if (sodium_memcmp(want, raw + kPayload, 8) != 0) return false;
  if (raw[0] < 1 || raw[0] > 3) return false;
  out.step = static_cast<LrrrStep>(raw[0]);
  out.rtt[0] = get16(raw + 1);
  out.rtt[1] = get16(raw + 3);
  out.t0 = get32(raw + 5);
  out.wall = get32(raw + 9);
  return true;
}

Lrrr::Lrrr(std::vector<LrrrName> names) : names_(std::move(names)) {
  std::vector<std::pair<std::string, uint32_t>> entries;
  for (uint32_t i = 0; i < names_.size(); ++i) {
    entries.emplace_back(names_[i].name, 3 * i);
    entries.emplace_back(names_[i].measure[0], 3 * i + 1);
    entries.emplace_back(names_[i].measure[1], 3 * i + 2);
  }
  table_.build(entries);
}

size_t Lrrr::regionBytes(size_t entries) {
  // Entry: 32 header + 24 key + 16 value, plus arena overhead.
  return shm::Table::bytesFor(entries * 96, static_cast<uint32_t>(entries), kStripes);
}

void Lrrr::formatRegion(void* base, size_t bytes) {
  uint32_t buckets = static_cast<uint32_t>(std::max<size_t>(64, bytes / 128));
  shm::Table::format(base, bytes, buckets, kStripes);
}

size_t Lrrr::writeAddresses(const Query& q, const LrrrName& n, int winner, uint32_t ttl,
                            uint8_t* out, size_t limit, AnswerInfo& info) const {
  size_t optSize = optRecordSize(q);
  if (limit < kHeaderSize + optSize) return 0;
  PacketWriter w(out, limit - optSize);
  w.start(q.id, static_cast<uint16_t>(kFlagQr | kFlagAa | (q.flags & 0x0110)));
  if (!w.question(q.qname, q.qnameLength, q.qtype, q.qclass)) return 0;
  std::string_view owner(reinterpret_cast<const char*>(q.qname), q.qnameLength);
  int t = q.qtype == kTypeAaaa ? 1 : 0;
  for (const auto& a : n.addrs[winner][t]) {
    std::string_view rd(reinterpret_cast<const char*>(a.data()), t ? 16 : 4);
    if (!w.record(PacketWriter::kAnswer, owner, t ? kTypeAaaa : kTypeA, ttl, rd)) {
      w.setFlags(w.flags() | 0x0200);  // TC: a resolver retries over TCP
      info.truncated = true;
      break;
    }
  }
  info.rcode = kRcodeNoError;
  info.nodata = w.count(PacketWriter::kAnswer) == 0;
  if (q.edns) {
    w.setCap(limit);
    w.opt(1232, 0, q.dnssecOk, q.ecs.present ? &q.ecs : nullptr, 0);
  }
  return w.size();
}

size_t Lrrr::writeCname(const Query& q, const LrrrName& n, int side, const LrrrToken& t,
                        const ClientPrefix& who, uint8_t* out, size_t limit,
                        AnswerInfo& info) const {
  const std::string& suffix = n.measure[side];
  uint8_t target[kMaxName];
  if (1 + kLrrrTokenChars + suffix.size() > kMaxName) return 0;  // refused at config time
  target[0] = static_cast<uint8_t>(kLrrrTokenChars);
  encodeLrrrToken(t, n.key, who, suffix, reinterpret_cast<char*>(target + 1));
  std::memcpy(target + 1 + kLrrrTokenChars, suffix.data(), suffix.size());
  size_t optSize = optRecordSize(q);
  if (limit < kHeaderSize + optSize) return 0;
  PacketWriter w(out, limit - optSize);
  w.start(q.id, static_cast<uint16_t>(kFlagQr | kFlagAa | (q.flags & 0x0110)));
  if (!w.question(q.qname, q.qnameLength, q.qtype, q.qclass)) return 0;
  std::string_view owner(reinterpret_cast<const char*>(q.qname), q.qnameLength);
  // TTL 0: the resolver must not cache any step of the chain.
  w.record(
      PacketWriter::kAnswer, owner, kTypeCname, 0,
      std::string_view(reinterpret_cast<const char*>(target), 1 + kLrrrTokenChars + suffix.size()));
  info.rcode = kRcodeNoError;
  if (q.edns) {
    w.setCap(limit);
    w.opt(1232, 0, q.dnssecOk, q.ecs.present ? &q.ecs : nullptr, 0);
  }
  return w.size();
}

void Lrrr::store(shm::Table* cache, uint16_t index, const ClientPrefix& who, const uint16_t rtt[2],
                 uint32_t lrTtl, uint64_t nowMs) const {
  if (!cache) return;
  char key[19];
  cacheKey(index, who, key);
  LrrrEntry e{nowMs + uint64_t{lrTtl} * 1000, {rtt[0], rtt[1]}, 0};
  cache->put(std::string_view(key, sizeof key),
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&e), sizeof e));
}

size_t Lrrr::answer(const Query& q, const sockaddr* peer, shm::Table* cache, uint8_t* out,
                    size_t limit, AnswerInfo& info, shm::CounterSlot counters) const {
  if (names_.empty() || q.qclass != kClassIn || (q.qtype != kTypeA && q.qtype != kTypeAaaa))
    return 0;
  std::string_view name = q.name();
  uint32_t hit = table_.find(name);
  if (hit != NameTable::kNone) {
    if (hit % 3 != 0) return 0;  // the measurement domain itself: ordinary zone data
    const LrrrName& n = names_[hit / 3];
    ClientPrefix who = clientPrefix(peer, n.prefix4, n.prefix6);
    uint64_t now = clock::wallMs();
    if (cache) {
      char key[19];
      cacheKey(static_cast<uint16_t>(hit / 3), who, key);
      LrrrEntry e{};
      bool found = cache->find(std::string_view(key, sizeof key), [&](std::span<const uint8_t> v) {
        if (v.size() == sizeof e) std::memcpy(&e, v.data(), sizeof e);
      });
      if (found && e.expiresMs > now) {
        // The stored measurements decide, not whichever site happens to be asked.
        counters.inc(kLrrrHits);
        int winner = e.rtt[0] <= e.rtt[1] ? 0 : 1;
        uint32_t left = static_cast<uint32_t>((e.expiresMs - now) / 1000);
        return writeAddresses(q, n, winner, std::min(n.ttl, left), out, limit, info);
      }
    }
    counters.inc(kLrrrChains);
    // Start, not measure: the resolver may first have to look up the delegation of our
    // measurement domain, which must not count as its round trip to us.
    LrrrToken t;
    t.step = LrrrStep::Start;
    t.wall = static_cast<uint32_t>(now / 1000);
    return writeCname(q, n, n.side, t, who, out, limit, info);
  }
  // "<token>.<prefix>{l,r}.NAME": look up the name without its first label.
  uint8_t first = q.lowerName[0];
  if (first == 0 || first != kLrrrTokenChars || q.qnameLength <= 1u + first) return 0;
  std::string_view suffix = name.substr(1 + first);
  hit = table_.find(suffix);
  if (hit == NameTable::kNone || hit % 3 == 0) return 0;
  const LrrrName& n = names_[hit / 3];
  int side = static_cast<int>(hit % 3) - 1;
  if (side != n.side) return 0;  // the other site's domain: not ours to answer
  ClientPrefix who = clientPrefix(peer, n.prefix4, n.prefix6);
  LrrrToken t;
  if (!decodeLrrrToken(name.substr(1, first), n.key, who, suffix, t)) return 0;
  counters.inc(kLrrrSteps);
  uint64_t now = clock::wallMs();
  uint32_t nowSec = static_cast<uint32_t>(now / 1000);
  int32_t age = static_cast<int32_t>(nowSec - t.wall);
  uint32_t rtt = static_cast<uint32_t>(clock::monotonicMs()) - t.t0;
  bool stale = age > static_cast<int32_t>(kLrrrTokenLifetime) ||
               age < -static_cast<int32_t>(kLrrrTokenLifetime) ||
               (t.step == LrrrStep::Measure && rtt > n.maxRtt);
  if (stale) {
    // Genuine but too old or too slow to mean anything: answer for ourselves, decide nothing.
    counters.inc(kLrrrStale);
    return writeAddresses(q, n, n.side, 0, out, limit, info);
  }
  int other = 1 - side;
  uint16_t index = static_cast<uint16_t>(hit / 3);
  auto decide = [&](const uint16_t rtts[2]) {
    store(cache, index, who, rtts, n.lrTtl, now);
    counters.inc(kLrrrDecisions);
    int winner = rtts[0] <= rtts[1] ? 0 : 1;
    counters.inc(winner ? kLrrrRightWins : kLrrrLeftWins);
    return winner;
  };
  LrrrToken next;
  next.wall = nowSec;
  switch (t.step) {
    case LrrrStep::Measure:
      next.rtt[other] = t.rtt[other];
      next.rtt[side] = static_cast<uint16_t>(std::min<uint32_t>(rtt, kLrrrNoRtt - 1));
      if (t.rtt[other] == kLrrrNoRtt) {
        next.step = LrrrStep::Start;  // the other site measures its own leg next
        return writeCname(q, n, other, next, who, out, limit, info);
      }
      // Both known: keep the decision here and hand it to the other site, which answers.
      decide(next.rtt);
      next.step = LrrrStep::Result;
      return writeCname(q, n, other, next, who, out, limit, info);
    case LrrrStep::Start:
      next.step = LrrrStep::Measure;
      next.rtt[other] = t.rtt[other];
      next.t0 = static_cast<uint32_t>(clock::monotonicMs());
      return writeCname(q, n, side, next, who, out, limit, info);
    case LrrrStep::Result: {
      if (t.rtt[0] == kLrrrNoRtt || t.rtt[1] == kLrrrNoRtt) return 0;
      int winner = decide(t.rtt);
      return writeAddresses(q, n, winner, std::min(n.ttl, n.lrTtl), out, limit, info);
    }
  }
  return 0;
}

}  // namespace manifold::dns
