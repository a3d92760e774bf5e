// Tier: end-to-end against a reference — `minimal_responses` and `rrset_order` on the wire. With
// minimal_responses = on our answers equal NSD's with `minimal-responses: yes` (the default, off,
// is compared with NSD's default in dns_nsd_compare_test and dns_dnssec_test); rrset_order fixed
// keeps NSD's file order, cyclic rotates a zone-file RRset by one per query, random shuffles it.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

const char kZone[] = R"($ORIGIN order.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ NS ns2
ns1 A 192.0.2.53
ns2 A 192.0.2.54
www A 192.0.2.1
www A 192.0.2.2
www A 192.0.2.3
www A 192.0.2.4
mail MX 10 mx1
mail MX 20 mx2
mx1 A 192.0.2.25
mx2 A 192.0.2.26
)";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

}  // namespace

TEST(DnsAnswerOptions, MinimalResponsesOnAnswersAsNsdMinimal) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  Instance m("");
  writeFile(m.path("order.zone"), kZone);
  m.rewriteConfig(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nminimal_responses = on\n"
      "zones = order.test=" +
      m.path("order.zone") + "\n");
  ASSERT_TRUE(m.start()) << m.log();
  Nsd nsd(m.dir() + "/nsd", "order.test", m.path("order.zone"));
  nsd.serverOptions("  minimal-responses: yes\n");
  ASSERT_TRUE(nsd.start()) << nsd.output();
  for (std::string q : {"www.order.test A", "order.test NS", "order.test SOA", "nx.order.test A",
                        "www.order.test TXT", "+tcp www.order.test A"})
    EXPECT_EQ(normalizedDig(m.port("dns"), q), normalizedDig(nsd.port(), q)) << q;
  // Minimal: no authority NS, no glue; NSD leaves out the MX targets' addresses that we add.
  std::string www = dig(m.port("dns"), "www.order.test A");
  EXPECT_NE(www.find("AUTHORITY: 0, ADDITIONAL: 1"), std::string::npos) << www;
  EXPECT_EQ(normalizedDig(m.port("dns"), "mail.order.test MX", true),
            normalizedDig(nsd.port(), "mail.order.test MX", true));
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsAnswerOptions, RrsetOrderFixedCyclicRandom) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  const std::vector<std::string> fileOrder = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
  auto start = [&](Instance& m, const std::string& order) {
    writeFile(m.path("order.zone"), kZone);
    m.rewriteConfig("[dns:main]\nlisten = 127.0.0.1:{port:dns}\n" + order +
                    "zones = order.test=" + m.path("order.zone") + "\n");
    return m.start();
  };
  // fixed (the default): the file's order every time, as NSD.
  Instance fixed("", "", 1);
  ASSERT_TRUE(start(fixed, "")) << fixed.log();
  Nsd nsd(fixed.dir() + "/nsd", "order.test", fixed.path("order.zone"));
  ASSERT_TRUE(nsd.start()) << nsd.output();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(lines(digShort(fixed.port("dns"), "www.order.test A")), fileOrder);
    EXPECT_EQ(normalizedDig(fixed.port("dns"), "www.order.test A"),
              normalizedDig(nsd.port(), "www.order.test A"));
  }
  // cyclic: one worker, so consecutive answers are consecutive rotations of the file order.
  Instance cyclic("", "", 1);
  ASSERT_TRUE(start(cyclic, "rrset_order = cyclic\n")) << cyclic.log();
  std::vector<std::string> first = lines(digShort(cyclic.port("dns"), "www.order.test A"));
  ASSERT_EQ(first.size(), 4u);
  size_t at = 0;
  while (at < 4 && fileOrder[at] != first[0]) ++at;
  ASSERT_LT(at, 4u);
  for (int i = 0; i < 8; ++i) {
    std::vector<std::string> got =
        i == 0 ? first : lines(digShort(cyclic.port("dns"), "+tcp www.order.test A"));
    std::vector<std::string> want;
    for (size_t k = 0; k < 4; ++k) want.push_back(fileOrder[(at + i + k) % 4]);
    EXPECT_EQ(got, want) << "query " << i;
  }
  // random: always the same four records, in more than a couple of orders over 40 queries.
  Instance random("", "", 1);
  ASSERT_TRUE(start(random, "rrset_order = random\n")) << random.log();
  std::set<std::vector<std::string>> orders;
  for (int i = 0; i < 40; ++i) {
    std::vector<std::string> got = lines(digShort(random.port("dns"), "www.order.test A"));
    std::set<std::string> members(got.begin(), got.end());
    EXPECT_EQ(members, std::set<std::string>(fileOrder.begin(), fileOrder.end()));
    orders.insert(got);
  }
  EXPECT_GE(orders.size(), 6u);
  // A bad value is refused with the key.
  Instance bad("", "", 1);
  writeFile(bad.path("order.zone"), kZone);
  bad.rewriteConfig(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nrrset_order = sorted\n"
      "zones = order.test=" +
      bad.path("order.zone") + "\n");
  int rc = 0;
  std::string out = run(binPath("manifold") + " -t -c " + bad.configPath() + " 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("rrset_order"), std::string::npos) << out;
  EXPECT_EQ(fixed.stop(), 0) << fixed.log();
  EXPECT_EQ(cyclic.stop(), 0) << cyclic.log();
  EXPECT_EQ(random.stop(), 0) << random.log();
}
