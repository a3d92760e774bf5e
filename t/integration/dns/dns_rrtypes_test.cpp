// Tier: end-to-end with real clients and a reference — the record types read in presentation form
// beyond RFC 1035's (HINFO RP NAPTR SSHFP TLSA SMIMEA OPENPGPKEY SPF URI), from
// etc/zones/rrtypes.example.zone served by Manifold and by NSD: dig answers compared line by line
// (dig prints these types in presentation form, so every field is compared), the AXFR as a set
// of records, RP names uncompressed on the wire.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

std::string repoZone() {
  return std::string(getcwd(nullptr, 0)) + "/etc/zones/rrtypes.example.zone";
}

const char* kOpenpgp =
    "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.rrtypes.example";
const char* kSmimea =
    "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.rrtypes.example";

}  // namespace

TEST(DnsRrtypes, EveryNewTypeAnswersLikeNsd) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  Instance m("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = rrtypes.example=" + repoZone() +
             "\nallow_transfer = 127.0.0.1\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  Nsd nsd(m.dir() + "/nsd", "rrtypes.example", repoZone(), "  provide-xfr: 127.0.0.1 NOKEY\n");
  ASSERT_TRUE(nsd.start()) << "nsd did not load the zone: " << nsd.output();

  // Presentation form as dig prints it, from us alone (the comparison below would pass if both
  // servers refused the type).
  EXPECT_EQ(normalizedDig(port, "+short _443._tcp.host.rrtypes.example TLSA"),
            "3 1 1 D2ABDE240D7CD3EE6B4B28C54DF034B97983A1D16E8A410E4561CB10 6618E971\n");
  EXPECT_EQ(
      normalizedDig(port, "+short _http._tcp.rrtypes.example URI"),
      "10 1 \"https://www.rrtypes.example/path?q=1\"\n20 1 \"ftp://ftp.rrtypes.example/public\"\n");
  EXPECT_EQ(normalizedDig(port, "+short rrtypes.example RP"),
            "hostmaster.rrtypes.example. info.rrtypes.example.\n");

  std::string queries[] = {"rrtypes.example SOA",
                           "rrtypes.example RP",
                           "rrtypes.example HINFO",
                           "rrtypes.example SPF",
                           "rrtypes.example TXT",
                           "RrTyPeS.ExAmPlE rp",
                           "info.rrtypes.example TXT",
                           "host.rrtypes.example SSHFP",
                           "host.rrtypes.example HINFO",
                           "host.rrtypes.example TLSA",
                           "_443._tcp.host.rrtypes.example TLSA",
                           "_25._tcp.host.rrtypes.example TLSA",
                           "_443._tcp.host.rrtypes.example ANY",
                           std::string(kSmimea) + " SMIMEA",
                           std::string(kOpenpgp) + " OPENPGPKEY",
                           std::string(kOpenpgp) + " ANY",
                           "sip.rrtypes.example NAPTR",
                           "+tcp SIP.rrtypes.example NAPTR",
                           "sip.rrtypes.example ANY",
                           "_http._tcp.rrtypes.example URI",
                           "admin.rrtypes.example RP",
                           "legacy.rrtypes.example SPF",
                           "legacy.rrtypes.example TXT",
                           "nothere.rrtypes.example TLSA",
                           "+noedns host.rrtypes.example SSHFP"};
  for (const std::string& q : queries)
    EXPECT_EQ(normalizedDig(port, q), normalizedDig(nsd.port(), q)) << q;
  // SRV targets' addresses, in both at NSD's defaults.
  EXPECT_EQ(normalizedDig(port, "_sip._udp.rrtypes.example SRV"),
            normalizedDig(nsd.port(), "_sip._udp.rrtypes.example SRV"));

  auto axfr = [](int p) { return sortedRecords(dig(p, "+time=3 rrtypes.example AXFR")); };
  auto theirs = axfr(nsd.port());
  ASSERT_EQ(theirs.size(), 26u);  // 24 RRs and the SOA twice
  EXPECT_EQ(axfr(port), theirs);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// RFC 3597 4: RP is not an RFC 1035 type, so its names travel uncompressed even where they
// share a suffix with the question (NSD does the same).
TEST(DnsRrtypes, RpNamesAreNotCompressed) {
  Instance m("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = rrtypes.example=" + repoZone() +
             "\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  const std::string apex(
      "\x07"
      "rrtypes\x07"
      "example\x00",
      17);
  std::string reply =
      udpExchange(port, header(0x1234, 0, 1, 0, 0, 0) + apex + std::string("\x00\x11\x00\x01", 4));
  ASSERT_EQ(rcodeOf(reply), 0) << reply.size();
  std::string rdata = "\x0ahostmaster" + apex + "\x04info" + apex;
  EXPECT_NE(reply.find(std::string("\x00", 1) + static_cast<char>(rdata.size()) + rdata),
            std::string::npos);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
