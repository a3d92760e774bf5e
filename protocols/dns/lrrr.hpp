// LRRR (3nsd's "Left-Right Range Resolve"): latency-steered answers between two sites, L and R,
// both authoritative for NAME. A resolver without a cached decision is sent through a chain of
// TTL-0 CNAMEs that makes it query each site twice in a row; each site times the gap between
// its answer and the resolver's next query (the resolver's round trip to that site) and passes
// its figure on to the other site inside a signed token. The site with the lower RTT wins; both
// sites cache the decision per resolver prefix for lr_ttl, and a cache hit answers NAME's A/AAAA
// directly with the winner's addresses. See README.md ("LRRR") for the chain and a diagram.
//
// Names: the measurement domains are "<prefix>l.NAME" (delegated to site L only) and
// "<prefix>r.NAME" (site R only); a measurement name is "<token>.<prefix>{l,r}.NAME".
//
// Token wire format (one label, 34 chars of lowercase RFC 4648 base32 without padding, case-
// insensitive on input since resolvers may randomise case): 21 bytes
//   +0  u8   step       1 = measure (t0 set), 2 = start measuring here (the other side's RTT
//                       carried when known), 3 = result (both RTTs)
//   +1  u16  rttLeft    ms, 0xFFFF = not measured yet
//   +3  u16  rttRight   ms, 0xFFFF = not measured yet
//   +5  u32  t0         issuing site's CLOCK_MONOTONIC in ms (low 32 bits), only read back by
//                       the site that wrote it (step 1)
//   +9  u32  wall       issuing site's unix time (s): tokens older than kTokenLifetime are stale
//   +13 u64  mac        SipHash-2-4 (libsodium crypto_shorthash) keyed with the shared secret
//                       over bytes 0..12 + the resolver prefix (ClientPrefix) + the lowercase wire
//                       suffix after the token label: a token cannot be forged, moved to another
//                       resolver prefix, another NAME or the other site's domain.
// Anything that does not decode and verify is not a token: the query gets the normal zone
// answer (so a name that merely starts with the prefix is never affected).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/message.hpp"
#include "protocols/dns/name_table.hpp"
#include "protocols/dns/zone_db.hpp"
#include "shm/counters.hpp"

namespace manifold::shm {
class Table;
}

namespace manifold::dns {

inline constexpr size_t kLrrrTokenBytes = 21;
inline constexpr size_t kLrrrTokenChars = 34;
inline constexpr uint16_t kLrrrNoRtt = 0xFFFF;
inline constexpr uint32_t kLrrrTokenLifetime = 30;  // seconds, also the allowed clock skew

enum class LrrrStep : uint8_t { Measure = 1, Start = 2, Result = 3 };

struct LrrrToken {
  LrrrStep step = LrrrStep::Measure;
  uint16_t rtt[2] = {kLrrrNoRtt, kLrrrNoRtt};  // [0] left, [1] right
  uint32_t t0 = 0;
  uint32_t wall = 0;
};

// A client's identity for LRRR decisions, LRRR tokens and RRL buckets: family byte (4 or 6, 0
// for no IP peer), then net::maskPrefix(peer, prefix4, prefix6) as the family writes it (4 or 16
// bytes, IPv4-mapped IPv6 counts as IPv4), zero-padded. The bytes enter token MACs, cache keys
// and RRL hashes: changing the layout invalidates tokens and decisions in flight.
struct ClientPrefix {
  uint8_t bytes[17] = {};
};
ClientPrefix clientPrefix(const sockaddr* peer, unsigned prefix4, unsigned prefix6);

// Writes kLrrrTokenChars characters to out.
void encodeLrrrToken(const LrrrToken& t, const uint8_t key[16], const ClientPrefix& who,
                     std::string_view suffix, char* out);
// False unless `label` is exactly a token with a valid MAC for (who, suffix).
bool decodeLrrrToken(std::string_view label, const uint8_t key[16], const ClientPrefix& who,
                     std::string_view suffix, LrrrToken& out);

struct LrrrName {
  std::string name;        // lowercase wire NAME
  std::string measure[2];  // lowercase wire "<prefix>l.NAME", "<prefix>r.NAME"
  int side = 0;            // this site: 0 = left, 1 = right
  std::vector<std::array<uint8_t, 16>> addrs[2][2];  // [side][0 = A, 1 = AAAA]
  uint32_t ttl = 30;       // TTL of the final / cached answer (capped by what is left of lr_ttl)
  uint32_t lrTtl = 60;     // seconds a decision is kept
  uint32_t maxRtt = 2000;  // ms; a slower measurement step is stale
  unsigned prefix4 = 24, prefix6 = 56;
  uint8_t key[16] = {};
};

// Decision cache in shm (region "dns:NAME/lrrr"): an shm::Table keyed by
// u16 name index + ClientPrefix (19 bytes), value LrrrEntry.
struct LrrrEntry {
  uint64_t expiresMs;  // unix ms
  uint16_t rtt[2];
  uint32_t reserved;
};
static_assert(sizeof(LrrrEntry) == 16);

// LrrrCounter (the LRRR counter block) is declared with the other counters in counters.hpp.

class Lrrr {
 public:
  explicit Lrrr(std::vector<LrrrName> names);
  bool empty() const { return names_.empty(); }
  const std::vector<LrrrName>& names() const { return names_; }

  static size_t regionBytes(size_t entries);
  static void formatRegion(void* base, size_t bytes);

  // Answers the query when it is an LRRR name (NAME, or a valid token below a measurement
  // domain of this site) for A/AAAA; 0 = not ours, answer normally. `cache` may be null (no
  // decision is kept). `counters` has kLrrrCounterCount slots.
  size_t answer(const Query& q, const sockaddr* peer, shm::Table* cache, uint8_t* out, size_t limit,
                AnswerInfo& info, shm::CounterSlot counters) const;

 private:
  size_t writeAddresses(const Query& q, const LrrrName& n, int winner, uint32_t ttl, uint8_t* out,
                        size_t limit, AnswerInfo& info) const;
  size_t writeCname(const Query& q, const LrrrName& n, int side, const LrrrToken& t,
                    const ClientPrefix& who, uint8_t* out, size_t limit, AnswerInfo& info) const;
  void store(shm::Table* cache, uint16_t index, const ClientPrefix& who, const uint16_t rtt[2],
             uint32_t lrTtl, uint64_t nowMs) const;

  std::vector<LrrrName> names_;
  NameTable table_;  // NAME -> 3*i, measure[0] -> 3*i+1, measure[1] -> 3*i+2
};

}  // namespace manifold::dns
