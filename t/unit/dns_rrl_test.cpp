// Tier: unit — RRL buckets (protocols/dns/rrl.hpp) over a region in ordinary memory: burst,
// refill, slip, prefixes, and two Rrl objects on one region (two workers) sharing one budget.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/dns/rrl.hpp"

using namespace manifold::dns;

namespace {

constexpr uint64_t kSecond = 1000000000ull;

struct Region {
  std::vector<uint64_t> words = std::vector<uint64_t>(Rrl::regionBytes() / 8);
  Region() { Rrl::formatRegion(words.data(), Rrl::regionBytes(), false); }
  void* base() { return words.data(); }
};

sockaddr_storage v4(const char* ip) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  inet_pton(AF_INET, ip, &a->sin_addr);
  return ss;
}

const sockaddr* sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr*>(&ss); }

// Verdicts of n checks at `now`, as a string: P pass, S slip, D drop.
std::string run(Rrl& rrl, const sockaddr_storage& peer, uint64_t now, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    RrlVerdict v = rrl.check(sa(peer), now);
    out += v == RrlVerdict::Pass ? 'P' : v == RrlVerdict::Slip ? 'S' : 'D';
  }
  return out;
}

}  // namespace

TEST(DnsRrl, BurstThenRefillAtTheRate) {
  Region r;
  Rrl rrl(RrlSettings{10, 0, 24, 56}, r.base());
  auto peer = v4("192.0.2.1");
  uint64_t t = 1000 * kSecond;
  EXPECT_EQ(run(rrl, peer, t, 12), "PPPPPPPPPPDD");  // a burst of `rate`
  EXPECT_EQ(run(rrl, peer, t + kSecond / 20, 1), "D");
  EXPECT_EQ(run(rrl, peer, t + kSecond / 10, 2), "PD");  // one answer per 1/rate s
  EXPECT_EQ(run(rrl, peer, t + kSecond / 10 * 4, 4), "PPPD");
  // Idle for long: a full burst again.
  EXPECT_EQ(run(rrl, peer, t + 100 * kSecond, 11), "PPPPPPPPPPD");
}

TEST(DnsRrl, SlipEveryNthLimitedAnswer) {
  Region r;
  Rrl two(RrlSettings{2, 2, 24, 56}, r.base());
  auto peer = v4("198.51.100.7");
  EXPECT_EQ(run(two, peer, kSecond, 8), "PPDSDSDS");
  Region r1;
  Rrl one(RrlSettings{2, 1, 24, 56}, r1.base());
  EXPECT_EQ(run(one, peer, kSecond, 5), "PPSSS");
  Region r3;
  Rrl three(RrlSettings{1, 3, 24, 56}, r3.base());
  EXPECT_EQ(run(three, peer, kSecond, 7), "PDDSDDS");
}

TEST(DnsRrl, PrefixesShareOrNot) {
  Region r;
  Rrl rrl(RrlSettings{3, 0, 24, 56}, r.base());
  EXPECT_EQ(run(rrl, v4("203.0.113.1"), kSecond, 2), "PP");
  EXPECT_EQ(run(rrl, v4("203.0.113.200"), kSecond, 2), "PD");  // same /24: one budget
  EXPECT_EQ(run(rrl, v4("203.0.114.1"), kSecond, 4), "PPPD");  // next /24: its own
  Region r32;
  Rrl host(RrlSettings{1, 0, 32, 128}, r32.base());
  EXPECT_EQ(run(host, v4("203.0.113.1"), kSecond, 2), "PD");
  EXPECT_EQ(run(host, v4("203.0.113.2"), kSecond, 2), "PD");
}

TEST(DnsRrl, WorkersOnOneRegionShareTheBudget) {
  Region r;
  RrlSettings s{20, 0, 24, 56};
  Rrl w0(s, r.base()), w1(s, r.base());
  auto peer = v4("192.0.2.9");
  int passed = 0;
  // Two seconds of queries, 1000/s, alternating between the workers.
  for (int i = 0; i < 2000; ++i) {
    uint64_t now = 50 * kSecond + static_cast<uint64_t>(i) * kSecond / 1000;
    passed += (i % 2 ? w1 : w0).check(sa(peer), now) == RrlVerdict::Pass;
  }
  // A burst of 20 plus 20/s for 2 s: about 60, not twice that.
  EXPECT_GE(passed, 58);
  EXPECT_LE(passed, 61);
}

TEST(DnsRrl, OffWithoutRateOrRegion) {
  Region r;
  Rrl off(RrlSettings{0, 2, 24, 56}, r.base());
  Rrl noRegion(RrlSettings{1, 2, 24, 56}, nullptr);
  auto peer = v4("192.0.2.1");
  EXPECT_EQ(run(off, peer, kSecond, 5), "PPPPP");
  EXPECT_EQ(run(noRegion, peer, kSecond, 5), "PPPPP");
}

TEST(DnsRrl, AdoptedRegionKeepsItsBuckets) {
  Region r;
  Rrl a(RrlSettings{1, 0, 24, 56}, r.base());
  auto peer = v4("192.0.2.1");
  EXPECT_EQ(run(a, peer, kSecond, 1), "P");
  Rrl::formatRegion(r.base(), Rrl::regionBytes(), true);  // a reload with the same layout
  Rrl b(RrlSettings{1, 0, 24, 56}, r.base());
  EXPECT_EQ(run(b, peer, kSecond, 1), "D");
  Rrl::formatRegion(r.base(), Rrl::regionBytes(), false);  // a fresh region
  EXPECT_EQ(run(b, peer, kSecond, 1), "P");
}
