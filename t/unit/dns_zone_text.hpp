// Helpers of the zone-text unit tests (dns_rdata_text_test, dns_dnssec_test): one entry parsed
// as a zone file with origin example.com., its RDATA or its error, names and bytes as text.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "protocols/dns/wire.hpp"
#include "protocols/dns/zone_parser.hpp"

namespace manifold::dns::test {

// The zone text "$TTL 60\n" + `entries`, origin example.com.
inline ZoneParseResult parseEntries(const std::string& entries) {
  IncludeReader none = [](const std::string&, std::string&, std::string& why) {
    why = "no includes here";
    return false;
  };
  return parseZoneText("$TTL 60\n" + entries, "z.zone", "example.com.", none);
}

// The RDATA of the one record in `entry`.
inline std::string rdataOf(const std::string& entry) {
  auto r = parseEntries(entry + "\n");
  EXPECT_TRUE(r.ok) << entry << ": " << r.error;
  EXPECT_EQ(r.records.size(), 1u) << entry;
  return r.ok && r.records.size() == 1 ? r.records[0].rdata : "(none)";
}

// The error for `entry` (on line 2, after $TTL).
inline std::string errorOf(const std::string& entry) {
  auto r = parseEntries(entry + "\n");
  EXPECT_FALSE(r.ok) << entry;
  return r.error;
}

inline std::string name(const std::string& text) {
  std::string out, why;
  EXPECT_TRUE(textToName(text, "", out, why)) << why;
  return out;
}
inline std::string hex(const std::string& bytes) {
  std::string out;
  char b[3];
  for (unsigned char c : bytes) {
    snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

}  // namespace manifold::dns::test
