// Unit tests of the shared peer-address helper (worker/peer_address.*).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "worker/peer_address.hpp"

using namespace manifold::net;

namespace {
sockaddr_in v4(const char* text, uint16_t port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  inet_pton(AF_INET, text, &s.sin_addr);
  return s;
}
sockaddr_in6 v6(const char* text, uint16_t port) {
  sockaddr_in6 s{};
  s.sin6_family = AF_INET6;
  s.sin6_port = htons(port);
  inet_pton(AF_INET6, text, &s.sin6_addr);
  return s;
}
}  // namespace

TEST(PeerAddress, MappedIpv6IsTheIpv4Peer) {
  auto a = v4("192.0.2.7", 53);
  auto b = v6("::ffff:192.0.2.7", 54);
  PeerAddress pa = peerAddress(reinterpret_cast<sockaddr*>(&a));
  PeerAddress pb = peerAddress(reinterpret_cast<sockaddr*>(&b));
  EXPECT_EQ(pa.family, AF_INET);
  EXPECT_EQ(pb.family, AF_INET);
  EXPECT_TRUE(pa == pb);
  EXPECT_EQ(toString(pb), "192.0.2.7");
  EXPECT_EQ(pa.rawLength(), 4u);
  EXPECT_EQ(peerPort(reinterpret_cast<sockaddr*>(&b)), 54);
  auto c = v6("2001:db8::1", 1);
  EXPECT_EQ(peerAddress(reinterpret_cast<sockaddr*>(&c)).family, AF_INET6);
  EXPECT_EQ(peerAddress(nullptr).family, 0);
}

TEST(PeerAddress, PrefixMasksPerFamily) {
  PeerAddress a, b;
  ASSERT_TRUE(parseAddress("192.0.2.77", a));
  EXPECT_EQ(toString(maskPrefix(a, 24, 56)), "192.0.2.0");
  EXPECT_EQ(toString(maskPrefix(a, 0, 56)), "0.0.0.0");
  EXPECT_EQ(maskPrefix(a, 0, 56).family, AF_INET);
  ASSERT_TRUE(parseAddress("2001:db8:aa:bbcc::1", b));
  EXPECT_EQ(toString(maskPrefix(b, 24, 56)), "2001:db8:aa:bb00::");
  EXPECT_FALSE(parseAddress("192.0.2.1:53", a));
  EXPECT_FALSE(parseAddress("", a));
  EXPECT_FALSE(parseAddress("host.example", a));
}

TEST(PeerAddress, CidrMatch) {
  Cidr n;
  std::string why;
  ASSERT_TRUE(parseCidr("192.0.2.0/25", n, &why)) << why;
  PeerAddress in, out, mapped, other;
  parseAddress("192.0.2.100", in);
  parseAddress("192.0.2.200", out);
  parseAddress("::ffff:192.0.2.1", mapped);
  parseAddress("2001:db8::1", other);
  EXPECT_TRUE(n.contains(in));
  EXPECT_FALSE(n.contains(out));
  EXPECT_TRUE(n.contains(mapped));
  EXPECT_FALSE(n.contains(other));
  Cidr host;
  ASSERT_TRUE(parseCidr("2001:db8::1", host));
  EXPECT_EQ(host.prefix, 128);
  EXPECT_TRUE(host.contains(other));
  Cidr all;
  ASSERT_TRUE(parseCidr("0.0.0.0/0", all));
  EXPECT_TRUE(all.contains(out));
  EXPECT_FALSE(all.contains(other));
  EXPECT_TRUE(anyContains({n, host}, other));
  EXPECT_FALSE(anyContains({n}, out));
  EXPECT_FALSE(parseCidr("192.0.2.0/33", n, &why));
  EXPECT_NE(why.find("prefix"), std::string::npos);
  EXPECT_FALSE(parseCidr("192.0.2.0/", n));
  EXPECT_FALSE(parseCidr("10.0.0.0/8x", n));
}
