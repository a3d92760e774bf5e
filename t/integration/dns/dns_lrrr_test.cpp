// Tier: protocol on the wire — LRRR between two real instances (sites L and R) on loopback.
// The test is the resolver: a small stub that follows CNAMEs, sending each query to the site
// authoritative for the name (<token>.lrl.NAME -> L, <token>.lrr.NAME -> R, NAME -> the site it
// starts at), from its own source address (127.0.0.x, prefix4=32 so each is a separate
// resolver). A resolver "far" from a site sleeps before every query to it, so that site measures
// a longer round trip.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

using namespace manifold::testing;

namespace {

constexpr const char* kName = "www.lr.test.";

struct Rr {
  std::string owner;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string data;  // CNAME target text or the address
};

struct Reply {
  bool ok = false;
  int rcode = -1;
  bool aa = false;
  std::vector<Rr> answers;
};

// Reads a possibly compressed name at `off`; advances off past it in the record.
bool readName(const std::vector<uint8_t>& m, size_t& off, std::string& out) {
  size_t pos = off;
  bool jumped = false;
  int hops = 0;
  out.clear();
  while (pos < m.size()) {
    uint8_t l = m[pos];
    if (l == 0) {
      if (!jumped) off = pos + 1;
      if (out.empty()) out = ".";
      return true;
    }
    if ((l & 0xC0) == 0xC0) {
      if (pos + 1 >= m.size() || ++hops > 20) return false;
      if (!jumped) off = pos + 2;
      jumped = true;
      pos = static_cast<size_t>((l & 0x3F) << 8 | m[pos + 1]);
      continue;
    }
    if (pos + 1 + l > m.size()) return false;
    out.append(reinterpret_cast<const char*>(&m[pos + 1]), l);
    out.push_back('.');
    pos += 1 + l;
  }
  return false;
}

class Stub {
 public:
  explicit Stub(const std::string& source) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &a.sin_addr);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Stub() { close(fd_); }
  bool bound() const { return bound_; }

  Reply query(int port, const std::string& name, uint16_t type = 1) {
    std::vector<uint8_t> q = {
        static_cast<uint8_t>(id_ >> 8), static_cast<uint8_t>(id_), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    ++id_;
    size_t start = 0;
    for (size_t i = 0; i <= name.size(); ++i)
      if (i == name.size() || name[i] == '.') {
        if (i > start) {
          q.push_back(static_cast<uint8_t>(i - start));
          q.insert(q.end(), name.begin() + static_cast<long>(start),
                   name.begin() + static_cast<long>(i));
        }
        start = i + 1;
      }
    q.push_back(0);
    q.push_back(static_cast<uint8_t>(type >> 8));
    q.push_back(static_cast<uint8_t>(type));
    q.push_back(0);
    q.push_back(1);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    Reply r;
    if (sendto(fd_, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
      return r;
    std::vector<uint8_t> m(4096);
    ssize_t n = recv(fd_, m.data(), m.size(), 0);
    if (n < 12) return r;
    m.resize(static_cast<size_t>(n));
    r.rcode = m[3] & 0xF;
    r.aa = m[2] & 0x04;
    size_t off = 12;
    std::string tmp;
    if (!readName(m, off, tmp)) return r;
    off += 4;
    unsigned an = m[6] << 8 | m[7];
    for (unsigned i = 0; i < an; ++i) {
      Rr rr;
      if (!readName(m, off, rr.owner) || off + 10 > m.size()) return r;
      rr.type = static_cast<uint16_t>(m[off] << 8 | m[off + 1]);
      rr.ttl =
          static_cast<uint32_t>(m[off + 4]) << 24 | m[off + 5] << 16 | m[off + 6] << 8 | m[off + 7];
      size_t len = static_cast<size_t>(m[off + 8] << 8 | m[off + 9]);
      off += 10;
      if (off + len > m.size()) return r;
      if (rr.type == 5) {
        size_t p = off;
        if (!readName(m, p, rr.data)) return r;
      } else if (rr.type == 1 && len == 4) {
        char buf[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &m[off], buf, sizeof buf);
        rr.data = buf;
      }
      off += len;
      r.answers.push_back(rr);
    }
    r.ok = true;
    return r;
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
  uint16_t id_ = 1;
};

struct Resolution {
  std::string sites;  // the site of each query in order, e.g. "LLLRRL"
  std::vector<std::string> addresses;
  std::vector<std::string> cnames;  // every CNAME target followed
  bool cnameTtlsZero = true;
  bool ok = false;
};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Follows the chain as a resolver would; a site's delay is added before every query to it.
Resolution resolve(Stub& stub, char startSite, int portL, int portR, int delayLms, int delayRms) {
  Resolution res;
  std::string name = kName;
  for (int hop = 0; hop < 10; ++hop) {
    char site = startSite;
    if (endsWith(name, ".lrl.www.lr.test."))
      site = 'L';
    else if (endsWith(name, ".lrr.www.lr.test."))
      site = 'R';
    res.sites.push_back(site);
    int delay = site == 'L' ? delayLms : delayRms;
    if (delay) usleep(static_cast<useconds_t>(delay) * 1000);
    Reply r = stub.query(site == 'L' ? portL : portR, name);
    if (!r.ok || r.rcode != 0 || !r.aa || r.answers.empty()) return res;
    std::string next;
    for (const auto& rr : r.answers) {
      if (rr.type == 5) {
        next = rr.data;
        res.cnames.push_back(next);
        if (rr.ttl != 0) res.cnameTtlsZero = false;
      } else if (rr.type == 1) {
        res.addresses.push_back(rr.data);
      }
    }
    if (!res.addresses.empty() || next.empty()) {
      res.ok = !res.addresses.empty();
      return res;
    }
    name = next;
  }
  return res;
}

long counter(const std::string& stats, const std::string& name) {
  size_t at = stats.find(" " + name + " ");
  if (at == std::string::npos) return -1;
  return strtol(stats.c_str() + at + name.size() + 2, nullptr, 10);
}

// The site's DNS section on {port:dns}: read it back with m.port("dns") once m started.
std::string siteConfig(Instance& m, const char* side) {
  writeFile(
      m.path("lr.zone"),
      "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 127.0.0.1\nwww MX 10 mail\nmail A 192.0.2.25\n"
      "lrfoo A 192.0.2.7\nabc.lrl.www A 192.0.2.8\n");
  return "[dns:site]\nlisten = 127.0.0.1:{port:dns}\nzones = lr.test=" + m.path("lr.zone") +
         "\nlrrr.www.lr.test = side=" + side +
         " left=10.0.0.1 right=10.0.0.2 key=test-secret-0123456789 lr_ttl=2s ttl=30 prefix4=32\n";
}

}  // namespace

TEST(DnsLrrr, FasterSiteWinsDecisionCachedAndPrefixNamesUntouched) {
  Instance left(""), right("");
  left.rewriteConfig(siteConfig(left, "left"));
  right.rewriteConfig(siteConfig(right, "right"));
  ASSERT_TRUE(left.start()) << left.log();
  ASSERT_TRUE(right.start()) << right.log();
  const int portL = left.port("dns"), portR = right.port("dns");

  // Resolver A is far from R: the chain L,L,L,R,R,L measures both legs; L wins.
  Stub a("127.0.0.2");
  ASSERT_TRUE(a.bound());
  Resolution r = resolve(a, 'L', portL, portR, 0, 80);
  ASSERT_TRUE(r.ok) << r.sites << left.log() << right.log();
  EXPECT_EQ(r.sites, "LLLRRL");
  EXPECT_EQ(r.addresses, std::vector<std::string>{"10.0.0.1"});
  EXPECT_TRUE(r.cnameTtlsZero);
  ASSERT_EQ(r.cnames.size(), 5u);
  EXPECT_TRUE(endsWith(r.cnames[0], ".lrl.www.lr.test."));
  EXPECT_TRUE(endsWith(r.cnames[1], ".lrl.www.lr.test."));
  EXPECT_TRUE(endsWith(r.cnames[2], ".lrr.www.lr.test."));
  EXPECT_TRUE(endsWith(r.cnames[4], ".lrl.www.lr.test."));

  // Cached at both sites: one query, no chain, the stored measurements decide (R answers L's
  // address).
  for (char site : {'R', 'L'}) {
    Resolution hit = resolve(a, site, portL, portR, 0, 0);
    ASSERT_TRUE(hit.ok) << site;
    EXPECT_EQ(hit.sites, std::string(1, site));
    EXPECT_TRUE(hit.cnames.empty());
    EXPECT_EQ(hit.addresses, std::vector<std::string>{"10.0.0.1"}) << site;
  }

  // Resolver B is far from L and starts at R: chain R,R,R,L,L,R; R wins. Cached for B only.
  Stub b("127.0.0.3");
  ASSERT_TRUE(b.bound());
  r = resolve(b, 'R', portL, portR, 80, 0);
  ASSERT_TRUE(r.ok) << r.sites;
  EXPECT_EQ(r.sites, "RRRLLR");
  EXPECT_EQ(r.addresses, std::vector<std::string>{"10.0.0.2"});
  Resolution hitB = resolve(b, 'L', portL, portR, 0, 0);
  EXPECT_EQ(hitB.sites, "L");
  EXPECT_EQ(hitB.addresses, std::vector<std::string>{"10.0.0.2"});
  Resolution hitA = resolve(a, 'L', portL, portR, 0, 0);
  EXPECT_EQ(hitA.addresses, std::vector<std::string>{"10.0.0.1"});

  // Tokens: bound to the resolver, unforgeable, case-insensitive; everything else is normal data.
  Stub c("127.0.0.4"), d("127.0.0.5");
  Reply first = c.query(portL, kName);
  ASSERT_TRUE(first.ok);
  ASSERT_EQ(first.answers.size(), 1u);
  ASSERT_EQ(first.answers[0].type, 5);
  std::string token = first.answers[0].data;
  std::string upper = token;
  for (auto& ch : upper) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  Reply same = c.query(portL, upper);
  EXPECT_EQ(same.rcode, 0);
  ASSERT_EQ(same.answers.size(), 1u);
  EXPECT_EQ(same.answers[0].type, 5) << "a 0x20-randomised token still counts";
  Reply stolen = d.query(portL, token);  // another resolver's token: a normal lookup
  EXPECT_EQ(stolen.rcode, 3);
  EXPECT_TRUE(stolen.answers.empty());
  std::string forged = token;
  forged[3] = forged[3] == 'a' ? 'b' : 'a';
  Reply bad = c.query(portL, forged);
  EXPECT_EQ(bad.rcode, 3);
  EXPECT_TRUE(bad.answers.empty());
  Reply wrongSite = c.query(portR, token);  // an L token at R: not R's to answer
  EXPECT_EQ(wrongSite.rcode, 3);
  Reply garbage = c.query(portL, std::string(34, 'a') + ".lrl.www.lr.test.");
  EXPECT_EQ(garbage.rcode, 3);
  Reply real = c.query(portL, "abc.lrl.www.lr.test.");
  ASSERT_EQ(real.answers.size(), 1u);
  EXPECT_EQ(real.answers[0].data, "192.0.2.8");
  Reply lrfoo = c.query(portL, "lrfoo.lr.test.");
  ASSERT_EQ(lrfoo.answers.size(), 1u);
  EXPECT_EQ(lrfoo.answers[0].data, "192.0.2.7");
  Reply ent = c.query(portL, "lrl.www.lr.test.");
  EXPECT_EQ(ent.rcode, 0);
  EXPECT_TRUE(ent.answers.empty());
  Reply mx = c.query(portL, kName, 15);  // other types of NAME come from the zone
  ASSERT_EQ(mx.answers.size(), 1u);
  EXPECT_EQ(mx.answers[0].type, 15);
  // dig agrees the first step is a TTL-0 CNAME with AA.
  std::string shown = dig(portL, "+noall +answer +comments www.lr.test A");
  EXPECT_NE(shown.find(" aa"), std::string::npos) << shown;
  EXPECT_NE(shown.find("www.lr.test.\t\t0\tIN\tCNAME\t"), std::string::npos) << shown;

  // lr_ttl (2s) passes: A's decision is measured again, starting at R this time.
  sleep(2);
  usleep(300000);
  r = resolve(a, 'R', portL, portR, 0, 80);
  ASSERT_TRUE(r.ok) << r.sites;
  EXPECT_EQ(r.sites, "RRRLLR");
  EXPECT_EQ(r.addresses, std::vector<std::string>{"10.0.0.1"});

  // Counters in manifold-shm at L: decisions for A (twice) and B, three cache hits there; chains
  // started at L: A's first, C's and dig's; steps: 3 for A's first chain, 2 for each chain
  // started at R, 1 for C's uppercase token.
  std::string stats = run(binPath("manifold-shm") + " -n " + left.shmName() + " stats");
  EXPECT_EQ(counter(stats, "lrrr_decisions"), 3) << stats;
  EXPECT_EQ(counter(stats, "lrrr_cache_hits"), 3) << stats;
  EXPECT_EQ(counter(stats, "lrrr_left_wins"), 2) << stats;
  EXPECT_EQ(counter(stats, "lrrr_right_wins"), 1) << stats;
  EXPECT_EQ(counter(stats, "lrrr_chains"), 3) << stats;
  EXPECT_EQ(counter(stats, "lrrr_steps"), 8) << stats;
  EXPECT_EQ(counter(stats, "lrrr_stale"), 0) << stats;
  stats = run(binPath("manifold-shm") + " -n " + right.shmName() + " stats");
  EXPECT_EQ(counter(stats, "lrrr_decisions"), 3) << stats;
  EXPECT_EQ(counter(stats, "lrrr_cache_hits"), 1) << stats;
  EXPECT_EQ(left.stop(), 0) << left.log();
  EXPECT_EQ(right.stop(), 0) << right.log();
}

TEST(DnsLrrr, SlowStepIsStaleAndDecidesNothing) {
  Instance left(""), right("");
  auto slow = [](std::string c) {
    return c.replace(c.find(" lr_ttl=2s"), 10, " lr_ttl=60s max_rtt=50ms");
  };
  left.rewriteConfig(slow(siteConfig(left, "left")));
  right.rewriteConfig(slow(siteConfig(right, "right")));
  ASSERT_TRUE(left.start()) << left.log();
  ASSERT_TRUE(right.start()) << right.log();
  const int portL = left.port("dns"), portR = right.port("dns");
  // R's leg takes longer than max_rtt: R answers for itself (TTL 0) and nothing is cached.
  Stub a("127.0.0.6");
  ASSERT_TRUE(a.bound());
  Resolution r = resolve(a, 'L', portL, portR, 0, 150);
  ASSERT_TRUE(r.ok) << r.sites << right.log();
  EXPECT_EQ(r.sites, "LLLRR");
  EXPECT_EQ(r.addresses, std::vector<std::string>{"10.0.0.2"});
  Reply again = a.query(portL, kName);
  ASSERT_EQ(again.answers.size(), 1u);
  EXPECT_EQ(again.answers[0].type, 5) << "no decision was stored";
  std::string stats = run(binPath("manifold-shm") + " -n " + right.shmName() + " stats");
  EXPECT_EQ(counter(stats, "lrrr_stale"), 1) << stats;
  EXPECT_EQ(counter(stats, "lrrr_decisions"), 0) << stats;
  EXPECT_EQ(left.stop(), 0) << left.log();
  EXPECT_EQ(right.stop(), 0) << right.log();
}

TEST(DnsLrrr, ConfigErrors) {
  Instance m("");
  std::string base = siteConfig(m, "left");
  base = base.substr(0, base.find("lrrr."));
  struct Case {
    const char* line;
    const char* why;
  } cases[] = {
      {"lrrr.www.lr.test = left=10.0.0.1 right=10.0.0.2 key=test-secret-0123456789",
       "side=left|right is required"},
      {"lrrr.www.lr.test = side=left left=10.0.0.1 right=10.0.0.2 key=short",
       "at least 16 characters"},
      {"lrrr.www.lr.test = side=left left=10.0.0.1 key=test-secret-0123456789",
       "right=ADDR... is required"},
      {"lrrr.www.other.test = side=left left=10.0.0.1 right=10.0.0.2 key=test-secret-0123456789",
       "not inside any loaded zone"},
      {"lrrr.www.lr.test = side=left left=10.0.0.1 right=10.0.0.2 key=test-secret-0123456789 "
       "speed=9",
       "unknown option 'speed=9'"},
      {"lrrr.www.lr.test = side=up left=10.0.0.1 right=10.0.0.2 key=test-secret-0123456789",
       "side must be"},
      {"lrrr.www.lr.test = side=left left=10.0.0.x right=10.0.0.2 key=test-secret-0123456789",
       "bad address"},
  };
  for (const auto& c : cases) {
    m.rewriteConfig(base + c.line + "\n");
    int rc = 0;
    std::string out = run(binPath("manifold") + " -t -c " + m.configPath() + " 2>&1", &rc);
    EXPECT_NE(rc, 0) << c.line;
    EXPECT_NE(out.find(c.why), std::string::npos) << c.line << "\n" << out;
    EXPECT_NE(out.find("lrrr.www."), std::string::npos) << out;
  }
}
