// Tier: end-to-end against a reference and a validator — zones signed in the test with Debian's
// ldns-keygen / ldns-signzone (NSEC, NSEC3, NSEC3 with opt-out), served by Manifold and by NSD
// (its defaults: minimal-responses no); `dig` answers compared line by line for a table of cases
// with DO on and off (positive, NXDOMAIN, NODATA, empty non-terminals, wildcard expansion and
// wildcard NODATA, delegations with and without DS, CNAME chains, truncation, TCP); `delv` with the
// zone's key as the only trust anchor validating our answers as secure; the signature checks at
// load (expired, expiring, unsigned RRsets, an RRSIG for nothing) and the expiry gauge; AXFR of
// a signed zone equal to NSD's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "t/integration/dns/dns_nsd.hpp"
#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

const char kZone[] = R"($TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ NS ns2
@ A 192.0.2.1
@ MX 10 mail
ns1 A 192.0.2.53
ns2 A 192.0.2.54
ns2 AAAA 2001:db8::54
mail A 192.0.2.25
www A 192.0.2.80
www A 192.0.2.81
www AAAA 2001:db8::80
alias CNAME www
chain CNAME alias
towild CNAME foo.wild
dangling CNAME nothere
outside CNAME www.example.org.
*.wild TXT "wildcard"
*.wild A 192.0.2.99
*.wc CNAME www
a.b.deep A 192.0.2.7
sub NS ns.sub
ns.sub A 192.0.2.100
secure NS ns.secure
ns.secure A 192.0.2.101
secure DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
)";

struct SignedZone {
  std::string origin;  // "nsec.test"
  std::string file;    // the signed zone
  std::string anchor;  // delv's trust-anchors file with the KSK
};

// Signs kZone (plus `extra` lines) for `origin` in dir with a fresh KSK and ZSK (ECDSA P-256);
// `options` go to ldns-signzone (-n for NSEC3, -e/-i for the validity).
SignedZone signZone(const std::string& dir, const std::string& origin, const std::string& options,
                    const std::string& extra = "") {
  SignedZone z{origin, dir + "/" + origin + ".signed", dir + "/" + origin + ".anchor"};
  run("mkdir -p " + dir);
  writeFile(dir + "/" + origin + ".zone", "$ORIGIN " + origin + ".\n" + kZone + extra);
  std::string cd = "cd " + dir + " && ";
  std::string ksk = run(cd + "ldns-keygen -a ECDSAP256SHA256 -k " + origin + " 2>&1");
  std::string zsk = run(cd + "ldns-keygen -a ECDSAP256SHA256 " + origin + " 2>&1");
  ksk = ksk.substr(0, ksk.find('\n'));
  zsk = zsk.substr(0, zsk.find('\n'));
  run(cd + "ldns-signzone " + options + " -f " + z.file + " -o " + origin + ". " + origin +
      ".zone " + ksk + " " + zsk + " 2>&1");
  // delv's anchor: the KSK as a static key for the zone.
  run(cd + "awk '{print \"trust-anchors { " + origin +
      ". static-key\", $4, $5, $6, \"\\\"\" $7 \"\\\"; };\"}' " + ksk + ".key > " + z.anchor);
  return z;
}

std::string replaceOrigin(std::string q, const std::string& origin) {
  for (size_t at = q.find('%'); at != std::string::npos; at = q.find('%')) q.replace(at, 1, origin);
  return q;
}

// The cases, "%" standing for the zone's origin; each is asked with DO and without.
const char* const kCases[] = {
    // positive
    "www.% A", "% MX", "% NS", "% SOA", "% DNSKEY", "www.% AAAA", "ns2.% AAAA", "mail.% A",
    "WwW.%. A", "www.% RRSIG", "www.% ANY",
    // NXDOMAIN, also below an empty non-terminal
    "nx.% A", "x.deep.% A", "a.b.nx.% TXT",
    // NODATA, also at empty non-terminals
    "www.% TXT", "deep.% A", "b.deep.% A", "% DS",
    // wildcard expansion, wildcard NODATA, the wildcard itself, a CNAME at a wildcard
    "foo.wild.% TXT", "a.b.wild.% A", "FoO.WiLd.% A", "foo.wild.% MX", "a.b.wild.% MX",
    "*.wild.% A", "x.wc.% A",
    // delegations: insecure (no DS) and secure, the DS asked of the parent, glue
    "host.sub.% A", "sub.% NS", "sub.% DS", "host.secure.% A", "secure.% DS", "secure.% NS",
    "ns.sub.% A",
    // CNAME chains: in zone, to a wildcard, to nothing, out of the zone
    "alias.% A", "chain.% A", "towild.% A", "dangling.% A", "outside.% A", "alias.% CNAME",
    // transports and sizes
    "+tcp nx.% A", "+bufsize=512 nx.% A", "+bufsize=512 www.% A", "+noedns nx.% A"};

struct Variant {
  const char* origin;
  const char* options;
};
const Variant kVariants[] = {
    {"nsec.test", ""}, {"nsec3.test", "-n -s abcd -t 1"}, {"optout.test", "-n -p -t 0"}};

// Each variant signed, all three served by `m` (configured, not started).
std::vector<SignedZone> signVariants(Instance& m) {
  std::vector<SignedZone> zones;
  std::string spec;
  for (const Variant& v : kVariants) {
    zones.push_back(signZone(m.dir() + "/zones", v.origin, v.options));
    spec += " " + std::string(v.origin) + "=" + zones.back().file;
  }
  m.rewriteConfig("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nallow_transfer = 127.0.0.1\nzones =" +
                  spec + "\n");
  return zones;
}

}  // namespace

TEST(DnsDnssec, SignedZonesAnswerLikeNsd) {
  ASSERT_TRUE(Nsd::installed()) << "nsd is not installed (make deps)";
  ASSERT_FALSE(run("command -v ldns-signzone").empty()) << "ldnsutils is not installed (make deps)";
  Instance m("");
  std::vector<SignedZone> zones = signVariants(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  for (const SignedZone& z : zones) {
    Nsd nsd(m.dir() + "/nsd-" + z.origin, z.origin, z.file, "  provide-xfr: 127.0.0.1 NOKEY\n");
    ASSERT_TRUE(nsd.start()) << "nsd did not answer: " << nsd.output();
    // The transfer carries every signature and the NSEC3 chain, as NSD's.
    auto axfr = [&](int p) { return sortedRecords(dig(p, "+time=3 " + z.origin + " AXFR")); };
    std::vector<std::string> ours = axfr(port);
    EXPECT_GT(ours.size(), 60u);
    EXPECT_EQ(ours, axfr(nsd.port())) << z.origin;
    for (const char* c : kCases)
      for (const char* dnssec : {"+dnssec ", ""}) {
        std::string q = dnssec + replaceOrigin(c, z.origin);
        EXPECT_EQ(normalizedDig(port, q), normalizedDig(nsd.port(), q)) << q;
      }
  }
  // The AD bit is never set, even when asked for (RFC 6840 5.7: only a validator sets it).
  std::string ad = dig(port, "+dnssec +adflag www.nsec.test A");
  EXPECT_NE(ad.find("flags: qr aa;"), std::string::npos) << ad;
  // dnssec_prebuilt = 0 (what a zone past the budget gets): every DO answer written per query,
  // the same bytes as the prebuilt ones.
  std::string spec;
  for (const SignedZone& z : zones) spec += " " + z.origin + "=" + z.file;
  Instance perQuery(
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\ndnssec_prebuilt = 0\nzones =" + spec + "\n");
  ASSERT_TRUE(perQuery.start()) << perQuery.log();
  for (const SignedZone& z : zones)
    for (const char* c : kCases) {
      std::string q = "+dnssec " + replaceOrigin(c, z.origin);
      EXPECT_EQ(normalizedDig(perQuery.port("dns"), q), normalizedDig(port, q)) << q;
    }
  EXPECT_EQ(perQuery.stop(), 0) << perQuery.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsDnssec, DelvValidatesOurAnswersAsSecure) {
  ASSERT_FALSE(run("command -v delv").empty()) << "bind9-dnsutils is not installed (make deps)";
  Instance m("");
  std::vector<SignedZone> zones = signVariants(m);
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("dns");
  struct Case {
    const char* query;
    const char* verdict;  // what delv prints for a secure answer
  };
  const Case cases[] = {{"www.% A", "; fully validated"},
                        {"% DNSKEY", "; fully validated"},
                        {"nx.% A", "; negative response, fully validated"},
                        {"x.deep.% A", "; negative response, fully validated"},
                        {"www.% TXT", "; negative response, fully validated"},
                        {"deep.% A", "; negative response, fully validated"},
                        {"foo.wild.% TXT", "; fully validated"},
                        {"a.b.wild.% A", "; fully validated"},
                        {"foo.wild.% MX", "; negative response, fully validated"},
                        {"x.wc.% A", "; fully validated"},
                        {"chain.% A", "; fully validated"},
                        {"towild.% A", "; fully validated"},
                        {"dangling.% A", "; fully validated"},  // the CNAME, then its NXDOMAIN
                        {"secure.% DS", "; fully validated"},
                        {"sub.% DS", "; negative response, fully validated"}};
  for (const SignedZone& z : zones)
    for (const Case& c : cases) {
      std::string q = replaceOrigin(c.query, z.origin);
      // RFC 5155 9.2: a wildcard answer whose next closer name is covered by an opt-out NSEC3
      // proves only that the name may be insecure; validators (and NSD's answers) agree.
      std::string verdict = z.origin == "optout.test" && q.find(".wild.") != std::string::npos &&
                                    std::string(c.verdict) == "; fully validated"
                                ? "; unsigned answer"
                                : c.verdict;
      std::string out = run("delv -a " + z.anchor + " +root=" + z.origin + " -p " +
                            std::to_string(port) + " @127.0.0.1 " + q + " 2>&1");
      EXPECT_NE(out.find(verdict + "\n"), std::string::npos) << q << "\n" << out;
    }
  // The same zone served without its signatures would not validate: delv is really checking.
  std::string plain = m.dir() + "/zones/nsec.test.zone";
  Instance u("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = nsec.test=" + plain + "\n");
  ASSERT_TRUE(u.start()) << u.log();
  std::string out = run("delv -a " + zones[0].anchor + " +root=nsec.test -p " +
                        std::to_string(u.port("dns")) + " @127.0.0.1 www.nsec.test A 2>&1");
  EXPECT_EQ(out.find("fully validated"), std::string::npos) << out;
  EXPECT_EQ(u.stop(), 0) << u.log();
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(DnsDnssec, SignatureChecksAtLoadAndTheExpiryGauge) {
  Instance m("");
  std::string dir = m.dir() + "/zones";
  // Expired a year ago, expiring in two days, and a record added after signing.
  SignedZone old = signZone(dir, "old.test", "-i 20240101000000 -e 20250101000000");
  time_t soon = time(nullptr) + 2 * 86400;
  char when[32];
  strftime(when, sizeof when, "%Y%m%d%H%M%S", gmtime(&soon));
  SignedZone near = signZone(dir, "near.test", std::string("-e ") + when);
  SignedZone late = signZone(dir, "late.test", "");
  run("echo 'late.late.test. 3600 IN A 192.0.2.9' >> " + late.file);
  m.rewriteConfig("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = old.test=" + old.file +
                  " near.test=" + near.file + " late.test=" + late.file + "\n");
  int rc = 0;
  std::string out = run(binPath("manifold") + " -t -c " + m.configPath() + " 2>&1", &rc);
  EXPECT_EQ(rc, 0) << out;  // warnings, as NSD: the zone is still served
  EXPECT_NE(out.find("zone old.test.: signatures expired at 20250101000000 UTC"), std::string::npos)
      << out;
  EXPECT_NE(out.find(std::string("zone near.test.: signatures expire at ") + when + " UTC"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("zone late.test.: late.late.test. A is not signed"), std::string::npos) << out;
  EXPECT_EQ(out.find("zone late.test.: www"), std::string::npos) << out;  // the rest is signed
  // An RRSIG covering an RRset the name does not have is refused with file and line.
  SignedZone bad = signZone(dir, "bad.test", "");
  std::string sig = run("grep -m1 'IN\tRRSIG\tA ' " + bad.file);
  ASSERT_FALSE(sig.empty());
  size_t at = sig.find("RRSIG\tA ");
  run("echo '" + sig.substr(0, at) + "RRSIG\tTXT " + sig.substr(at + 8, sig.size() - at - 9) +
      "' >> " + bad.file);
  int lines = atoi(run("wc -l < " + bad.file).c_str());
  m.rewriteConfig("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = bad.test=" + bad.file + "\n");
  out = run(binPath("manifold") + " -t -c " + m.configPath() + " 2>&1", &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find(bad.file + ":" + std::to_string(lines) + ": RRSIG: covers TXT but"),
            std::string::npos)
      << out;
  // The gauge: the earliest expiry of each zone, 0 for an unsigned one.
  writeFile(dir + "/plain.zone", std::string("$ORIGIN plain.test.\n") + kZone);
  m.rewriteConfig("[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = near.test=" + near.file +
                  " plain.test=" + dir + "/plain.zone\n");
  ASSERT_TRUE(m.start()) << m.log();
  std::string stats;
  auto gauge = [&](const std::string& name) {
    size_t p = stats.find(name + " ");  // "NAME (gauge)  VALUE"
    return p == std::string::npos ? -1L : atol(stats.c_str() + stats.find(')', p) + 1);
  };
  for (int i = 0; i < 50 && gauge("z_near_test_sig_expiry") <= 0; ++i) {
    if (i) usleep(100000);  // the instance-task worker sets it as it starts
    stats = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats");
  }
  ASSERT_GT(gauge("z_near_test_sig_expiry"), 0) << stats;
  EXPECT_NEAR(static_cast<double>(gauge("z_near_test_sig_expiry")), static_cast<double>(soon), 1.0)
      << stats;
  EXPECT_EQ(gauge("z_plain_test_sig_expiry"), 0) << stats;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A signed zone transferred in by a Manifold secondary (its copy written in RFC 3597 generic
// form) answers every case exactly as its primary, signatures and denial proofs included.
TEST(DnsDnssec, SecondaryOfASignedZoneAnswersAsItsPrimary) {
  Instance p("");
  std::vector<SignedZone> zones = signVariants(p);
  ASSERT_TRUE(p.start()) << p.log();
  const int pport = p.port("dns"), sport = freeDnsPort();
  std::string dir = makeTempDir();
  std::string config =
      "[dns:s]\nlisten = 127.0.0.1:" + std::to_string(sport) + "\nsecondary_dir = " + dir + "\n";
  for (const SignedZone& z : zones)
    config += "secondary = " + z.origin + " 127.0.0.1:" + std::to_string(pport) + "\n";
  Instance s(config);
  ASSERT_TRUE(s.start()) << s.log();
  for (const SignedZone& z : zones) {
    std::string soa = "+dnssec " + z.origin + " SOA";
    EXPECT_TRUE(
        eventually([&] { return normalizedDig(sport, soa) == normalizedDig(pport, soa); }, 15000))
        << z.origin << "\n"
        << s.log();
    for (const char* c : kCases) {
      std::string q = "+dnssec " + replaceOrigin(c, z.origin);
      EXPECT_EQ(normalizedDig(sport, q), normalizedDig(pport, q)) << q;
    }
  }
  EXPECT_EQ(s.stop(), 0) << s.log();
  EXPECT_EQ(p.stop(), 0) << p.log();
  run("rm -rf " + dir);
}
