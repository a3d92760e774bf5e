// Tier: end-to-end with real clients and a reference — wildcards (RFC 4592) asked with dig, and
// the same zone served by NSD compared line by line: synthesis with the query name as owner,
// NODATA, existing names and empty non-terminals blocking, CNAME at a wildcard, nothing below a
// zone cut.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

const char* kZone =
    "$ORIGIN wild.test.\n$TTL 60\n"
    "@ SOA ns hm 1 3600 600 86400 300\n"
    "@ NS ns\n"
    "ns A 10.0.0.53\n"
    "* A 10.0.0.1\n"
    "* MX 10 mail\n"
    "mail A 10.0.0.25\n"
    "a.b A 10.0.0.2\n"  // b.wild.test is an empty non-terminal
    "host A 10.0.0.3\n"
    "*.c CNAME host\n"
    "sub NS ns.sub\n"
    "ns.sub A 10.0.0.200\n"
    "*.sub A 10.0.0.99\n"
    "chain CNAME nothere.e\n"
    "*.e TXT \"from the wildcard\"\n";

}  // namespace

TEST(DnsWildcard, AnswersLikeNsd) {
  Instance m("");
  writeFile(m.path("wild.zone"), kZone);
  m.rewriteConfig(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = wild.test=" + m.path("wild.zone") + "\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");

  // With dig alone: the owner is the query name as asked, AA set.
  EXPECT_EQ(dig(port, "+short foo.wild.test A"), "10.0.0.1\n");
  std::string full = dig(port, "+noall +answer +comments DeEp.Er.WiLd.test A");
  EXPECT_NE(full.find("flags: qr aa;"), std::string::npos) << full;
  EXPECT_NE(full.find("\nDeEp.Er.WiLd.test.\t60\tIN\tA\t10.0.0.1"), std::string::npos) << full;
  EXPECT_NE(dig(port, "x.b.wild.test A").find("status: NXDOMAIN"), std::string::npos);
  EXPECT_NE(dig(port, "foo.wild.test AAAA").find("status: NOERROR"), std::string::npos);
  EXPECT_EQ(dig(port, "+short any.c.wild.test A"), "host.wild.test.\n10.0.0.3\n");
  EXPECT_EQ(dig(port, "+short x.sub.wild.test A"), "");  // a referral, no answer

  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  Nsd nsd(m.dir() + "/nsd", "wild.test", m.path("wild.zone"));
  ASSERT_TRUE(nsd.start()) << "nsd did not answer: " << nsd.output();
  for (std::string q : {"foo.wild.test A",      "FoO.WiLd.TeSt A",
                        "deep.er.wild.test A",  "foo.wild.test AAAA",
                        "foo.wild.test TXT",    "foo.wild.test ANY",
                        "x.b.wild.test A",      "b.wild.test A",
                        "a.b.wild.test A",      "host.wild.test A",
                        "host.wild.test TXT",   "x.host.wild.test A",
                        "any.c.wild.test A",    "any.c.wild.test AAAA",
                        "chain.wild.test TXT",  "x.e.wild.test TXT",
                        "x.sub.wild.test A",    "ns.sub.wild.test A",
                        "*.wild.test A",        "x.*.wild.test A",
                        "+tcp foo.wild.test A", "+noedns two.labels.wild.test A"})
    EXPECT_EQ(normalizedDig(port, q), normalizedDig(nsd.port(), q)) << q;
  // The MX target's address, in both at NSD's defaults.
  EXPECT_EQ(normalizedDig(port, "foo.wild.test MX"), normalizedDig(nsd.port(), "foo.wild.test MX"));
  EXPECT_EQ(m.stop(), 0) << m.log();
}
