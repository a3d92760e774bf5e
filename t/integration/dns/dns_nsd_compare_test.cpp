// Tier: end-to-end against a reference — the same zone file served by Manifold and by NSD
// (Debian's nsd at its defaults, one process, on loopback); `dig` answers compared line by
// line: flags, rcode, counts, every section. NSD is stopped by pid.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

TEST(DnsNsdCompare, SameZoneSameAnswers) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  std::string zone = std::string(getcwd(nullptr, 0)) + "/etc/zones/example.com.zone";
  Instance m("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = example.com=" + zone + "\n");
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  Nsd nsd(m.dir() + "/nsd", "example.com", zone);
  ASSERT_TRUE(nsd.start()) << "nsd did not answer: " << nsd.output();
  int nsdPort = nsd.port();
  for (std::string q : {"example.com SOA",        "example.com NS",
                        "example.com A",          "example.com AAAA",
                        "example.com TXT",        "example.com CAA",
                        "www.example.com A",      "alias.example.com A",
                        "alias.example.com AAAA", "nx.example.com A",
                        "deep.nx.example.com MX", "b.c.example.com A",
                        "c.example.com TXT",      "a.b.c.example.com A",
                        "host.sub.example.com A", "sub.example.com NS",
                        "sub.example.com A",      "ns.sub.example.com A",
                        "txt.example.com TXT",    "WwW.ExAmPlE.CoM A",
                        "mail.example.com AAAA",  "outside.example.com A",
                        "example.org A",          "+noedns example.com A",
                        "+tcp www.example.com A", "4.3.2.1.example.com PTR",
                        "example.com TYPE65000",  "+bufsize=0 web.example.com A",
                        "ns2.example.com AAAA",   "+noedns nx.example.com A"}) {
    EXPECT_EQ(normalizedDig(port, q), normalizedDig(nsdPort, q)) << q;
  }
  // At NSD's defaults the MX/SRV targets' addresses are in both answers.
  for (std::string q : {"example.com MX", "_sip._tcp.example.com SRV", "+dnssec www.example.com A"})
    EXPECT_EQ(normalizedDig(port, q), normalizedDig(nsdPort, q)) << q;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
