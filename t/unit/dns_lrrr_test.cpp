// Unit tests of LRRR (protocols/dns/lrrr.*): the token codec (round trip, MAC binding to the
// resolver prefix and the measurement domain, canonical base32, case-insensitivity), the
// resolver prefix, and the chain logic of Lrrr::answer over byte buffers (no cache).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "protocols/dns/lrrr.hpp"

namespace manifold::dns {
namespace {

const uint8_t kKey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

sockaddr_in v4(const char* ip) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

std::string wire(const std::string& text) {
  std::string out, why;
  EXPECT_TRUE(textToName(text, "", out, why)) << why;
  return out;
}

TEST(DnsLrrrToken, RoundTripAndBinding) {
  auto peer = v4("192.0.2.77");
  ClientPrefix who = clientPrefix(reinterpret_cast<sockaddr*>(&peer), 24, 56);
  std::string suffix = wire("lrl.www.example.com.");
  LrrrToken t;
  t.step = LrrrStep::Start;
  t.rtt[0] = 17;
  t.t0 = 0xDEADBEEF;
  t.wall = 1700000000;
  char label[kLrrrTokenChars];
  encodeLrrrToken(t, kKey, who, suffix, label);
  std::string s(label, sizeof label);
  for (char c : s) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << s;
  LrrrToken back;
  ASSERT_TRUE(decodeLrrrToken(s, kKey, who, suffix, back));
  EXPECT_EQ(back.step, LrrrStep::Start);
  EXPECT_EQ(back.rtt[0], 17);
  EXPECT_EQ(back.rtt[1], kLrrrNoRtt);
  EXPECT_EQ(back.t0, 0xDEADBEEFu);
  EXPECT_EQ(back.wall, 1700000000u);

  // 0x20 case randomisation by resolvers is harmless.
  std::string upper = s;
  for (auto& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(decodeLrrrToken(upper, kKey, who, suffix, back));

  // Same /24: same resolver; another /24, another domain, another key: not a token.
  auto near = v4("192.0.2.1"), far = v4("192.0.3.77");
  EXPECT_TRUE(decodeLrrrToken(s, kKey, clientPrefix(reinterpret_cast<sockaddr*>(&near), 24, 56),
                              suffix, back));
  EXPECT_FALSE(decodeLrrrToken(s, kKey, clientPrefix(reinterpret_cast<sockaddr*>(&far), 24, 56),
                               suffix, back));
  EXPECT_FALSE(decodeLrrrToken(s, kKey, who, wire("lrr.www.example.com."), back));
  uint8_t other[16] = {};
  EXPECT_FALSE(decodeLrrrToken(s, other, who, suffix, back));

  // Every single-character change is rejected.
  for (size_t i = 0; i < s.size(); ++i)
    for (char c : std::string("abcdefghijklmnopqrstuvwxyz234567")) {
      if (c == s[i]) continue;
      std::string m = s;
      m[i] = c;
      EXPECT_FALSE(decodeLrrrToken(m, kKey, who, suffix, back)) << i << c;
    }
  // Wrong lengths and alphabets.
  EXPECT_FALSE(decodeLrrrToken(s.substr(1), kKey, who, suffix, back));
  EXPECT_FALSE(decodeLrrrToken(s + "a", kKey, who, suffix, back));
  EXPECT_FALSE(decodeLrrrToken("", kKey, who, suffix, back));
  std::string bad = s;
  bad[5] = '1';
  EXPECT_FALSE(decodeLrrrToken(bad, kKey, who, suffix, back));
  bad[5] = '-';
  EXPECT_FALSE(decodeLrrrToken(bad, kKey, who, suffix, back));
}

TEST(DnsLrrrToken, PrefixMasksAndMapsV4) {
  auto a = v4("10.1.2.3");
  ClientPrefix p = clientPrefix(reinterpret_cast<sockaddr*>(&a), 24, 56);
  EXPECT_EQ(p.bytes[0], 4);
  EXPECT_EQ(p.bytes[1], 10);
  EXPECT_EQ(p.bytes[3], 2);
  EXPECT_EQ(p.bytes[4], 0);
  sockaddr_in6 m{};
  m.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.1.2.99", &m.sin6_addr);
  ClientPrefix q = clientPrefix(reinterpret_cast<sockaddr*>(&m), 24, 56);
  EXPECT_EQ(std::memcmp(p.bytes, q.bytes, sizeof p.bytes), 0);
  sockaddr_in6 b{};
  b.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8:1:2ff::1", &b.sin6_addr);
  ClientPrefix r = clientPrefix(reinterpret_cast<sockaddr*>(&b), 24, 56);
  EXPECT_EQ(r.bytes[0], 6);
  EXPECT_EQ(r.bytes[7], 0x02);  // byte 6 of the address: the /56 boundary keeps 7 bytes
  EXPECT_EQ(r.bytes[8], 0);     // 0xff cut
}

// A query for `name` (text) and type A, parsed.
struct Packet {
  std::string bytes;
  Query q;
  explicit Packet(const std::string& name, uint16_t type = kTypeA) {
    bytes = std::string("\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12) + wire(name);
    bytes.push_back(0);
    bytes.push_back(static_cast<char>(type));
    bytes.push_back(0);
    bytes.push_back(1);
    EXPECT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), q),
              QueryStatus::Ok);
  }
};

// The CNAME target (text) of a one-record answer, or "" when the answer is not a CNAME.
std::string cnameTarget(const uint8_t* out, size_t n, std::string* address = nullptr) {
  if (n < 12 || get16(out + 6) != 1) return "";
  size_t off = 12;
  while (out[off]) off += 1 + out[off];
  off += 5;
  off += 2;  // owner: a pointer to the question
  uint16_t type = get16(out + off);
  uint16_t len = get16(out + off + 8);
  off += 10;
  if (type == kTypeA && address) {
    char buf[16];
    inet_ntop(AF_INET, out + off, buf, sizeof buf);
    *address = buf;
  }
  if (type != kTypeCname) return "";
  // Target: the token label, then a pointer or labels; decompress by hand.
  std::string text;
  size_t p = off;
  for (int hops = 0; hops < 10 && p < n && out[p];) {
    if ((out[p] & 0xC0) == 0xC0) {
      p = static_cast<size_t>((out[p] & 0x3F) << 8 | out[p + 1]);
      ++hops;
      continue;
    }
    text.append(reinterpret_cast<const char*>(out + p + 1), out[p]);
    text.push_back('.');
    p += 1 + out[p];
  }
  (void)len;
  return text;
}

LrrrName site(int side) {
  LrrrName n;
  n.name = wire("www.example.com.");
  n.measure[0] = wire("lrl.www.example.com.");
  n.measure[1] = wire("lrr.www.example.com.");
  n.side = side;
  std::array<uint8_t, 16> l{}, r{};
  l[0] = 10, l[3] = 1;
  r[0] = 10, r[3] = 2;
  n.addrs[0][0].push_back(l);
  n.addrs[1][0].push_back(r);
  std::memcpy(n.key, kKey, 16);
  return n;
}

TEST(DnsLrrrChain, StepsThroughBothSitesWithoutCache) {
  Lrrr left({site(0)}), right({site(1)});
  auto peer = v4("192.0.2.5");
  auto* sa = reinterpret_cast<sockaddr*>(&peer);
  uint8_t out[512];
  uint64_t counters[kLrrrCounterCount] = {};
  AnswerInfo info;
  std::string name = "www.example.com.";
  std::string sites;
  std::string address;
  for (int hop = 0; hop < 8 && address.empty(); ++hop) {
    bool toRight = name.find(".lrr.") != std::string::npos;
    sites.push_back(toRight ? 'R' : 'L');
    Packet p(name);
    size_t n = (toRight ? right : left).answer(p.q, sa, nullptr, out, sizeof out, info, counters);
    ASSERT_GT(n, 12u) << name;
    EXPECT_EQ(get16(out), 0x1234);
    EXPECT_TRUE(get16(out + 2) & 0x0400);  // AA
    name = cnameTarget(out, n, &address);
    if (address.empty()) {
      ASSERT_FALSE(name.empty());
    }
  }
  EXPECT_EQ(sites, "LLLRRL");
  EXPECT_EQ(address, "10.0.0.1");  // a tie (both ~0 ms) goes left
  EXPECT_EQ(counters[kLrrrDecisions], 2u);

  // Not ours: other types, the measurement domain itself, a garbage token, the other side's
  // domain at this site, a name merely starting with the prefix.
  for (const char* n :
       {"lrl.www.example.com.", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.lrl.www.example.com.",
        "lrlwww.example.com.", "lr.www.example.com.", "x.www.example.com.", "example.com."}) {
    Packet p(n);
    EXPECT_EQ(left.answer(p.q, sa, nullptr, out, sizeof out, info, counters), 0u) << n;
  }
  Packet mx("www.example.com.", kTypeMx);
  EXPECT_EQ(left.answer(mx.q, sa, nullptr, out, sizeof out, info, counters), 0u);
  Packet first("www.example.com.");
  size_t n = right.answer(first.q, sa, nullptr, out, sizeof out, info, counters);
  std::string rtoken = cnameTarget(out, n);
  ASSERT_NE(rtoken.find(".lrr."), std::string::npos);
  Packet misrouted(rtoken);
  EXPECT_EQ(left.answer(misrouted.q, sa, nullptr, out, sizeof out, info, counters), 0u);
}

}  // namespace
}  // namespace manifold::dns
