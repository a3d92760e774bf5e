// What a signed zone adds to the zone database (RFC 4034/4035, 5155): its NSEC3 chain kept apart
// from the names (hashed owners are not names of the zone: a query for one is NXDOMAIN, and they
// must not become closest enclosers), the NSEC chain in canonical order for finding the record
// that covers a name that does not exist, and the earliest signature expiry. Built at load;
// read-only afterwards. Pure helpers for the canonical order and the NSEC3 hash are here too.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::dns {

// RFC 4034 6.1: compares lowercase wire names label by label from the root; <0, 0, >0.
int canonicalCompare(std::string_view a, std::string_view b);
// RFC 5155 5: SHA-1 of the lowercase wire name and salt, iterated; 20 bytes. The Into form
// (per query) does not allocate.
void nsec3HashInto(std::string_view lowerName, std::string_view salt, uint16_t iterations,
                   char out[20]);
std::string nsec3Hash(std::string_view lowerName, std::string_view salt, uint16_t iterations);

enum class RrsetOrder : uint8_t { kFixed, kCyclic, kRandom };

struct Nsec3Entry {
  std::pmr::string hash;   // the owner's hash, raw (decoded from the first label); load only
  std::pmr::string owner;  // wire, as written
  uint32_t ttl = 0;
  std::pmr::string rdata;
  std::pmr::vector<std::pmr::string> sigs;  // RRSIG(NSEC3) RDATA
  uint32_t sigTtl = 0;
};

struct ZoneSec {
  bool isSigned = false;  // a DNSKEY at the apex
  bool nsec3 = false;     // an NSEC3PARAM at the apex and NSEC3 records
  uint16_t iterations = 0;
  std::string salt;
  std::pmr::vector<Nsec3Entry> nsec3s;   // sorted by hash
  std::pmr::string hashes;               // their hashes back to back (20 bytes each): search keys
  std::pmr::vector<uint32_t> nsecOrder;  // nodes with an NSEC, canonical order
  uint32_t earliestExpiry = 0;           // RRSIG expiration, seconds (0 = no signature)
  std::string expiryOwner;               // presentation name and type of that signature

  // Index of the NSEC3 whose owner hash is `h`, or -1.
  int nsec3Match(std::string_view h) const;
  // Index of the NSEC3 covering `h` (the greatest owner hash below it, wrapping to the last).
  int nsec3Cover(std::string_view h) const;
};

}  // namespace manifold::dns
