// Tier: unit — how DNS sees a client address (net::PeerAddress underneath): the ClientPrefix bytes
// that LRRR tokens, the LRRR cache and RRL hash (they must not change between releases, or tokens
// in flight stop verifying), the allow_transfer ACL, and view selection for failover pools by
// source address or ECS. IPv4-mapped IPv6 counts as IPv4 throughout.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "protocols/dns/lrrr.hpp"
#include "protocols/dns/message.hpp"
#include "protocols/dns/transfer.hpp"
#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {
namespace {

sockaddr_storage socketAddress(const char* text) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
    v4->sin_family = AF_INET;
  else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
    v6->sin6_family = AF_INET6;
  return ss;
}

const sockaddr* sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr*>(&ss); }

std::vector<uint8_t> prefixBytes(const char* text, unsigned p4, unsigned p6) {
  sockaddr_storage ss = socketAddress(text);
  ClientPrefix p = clientPrefix(sa(ss), p4, p6);
  return {p.bytes, p.bytes + sizeof p.bytes};
}

TEST(DnsClientPrefix, BytesAreTheSameAsEver) {
  // family byte, then the masked address as the family writes it, zero-padded to 17 bytes.
  EXPECT_EQ(prefixBytes("192.0.2.77", 24, 56),
            (std::vector<uint8_t>{4, 192, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(prefixBytes("::ffff:192.0.2.77", 24, 56), prefixBytes("192.0.2.77", 24, 56));
  EXPECT_EQ(prefixBytes("192.0.2.77", 20, 56),
            (std::vector<uint8_t>{4, 192, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(prefixBytes("192.0.2.77", 40, 56),  // a prefix past the family's length keeps all
            (std::vector<uint8_t>{4, 192, 0, 2, 77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(prefixBytes("2001:db8:aa:bbcc:1::1", 24, 60),
            (std::vector<uint8_t>{6, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xaa, 0xbb, 0xc0, 0, 0, 0, 0, 0,
                                  0, 0, 0}));
  sockaddr_un local{};
  local.sun_family = AF_UNIX;
  ClientPrefix none = clientPrefix(reinterpret_cast<const sockaddr*>(&local), 24, 56);
  EXPECT_EQ(std::vector<uint8_t>(none.bytes, none.bytes + sizeof none.bytes),
            std::vector<uint8_t>(17, 0));
  ClientPrefix null = clientPrefix(nullptr, 24, 56);
  EXPECT_EQ(std::vector<uint8_t>(null.bytes, null.bytes + sizeof null.bytes),
            std::vector<uint8_t>(17, 0));
}

TEST(DnsTransferAcl, MatchesByFamilyAndPrefix) {
  Transfers t;
  for (const char* text : {"127.0.0.0/8", "2001:db8::/32"}) {
    net::Cidr c;
    ASSERT_TRUE(net::parseCidr(text, c));
    t.allow.push_back(c);
  }
  EXPECT_TRUE(t.allowed(sa(socketAddress("127.1.2.3"))));
  EXPECT_TRUE(t.allowed(sa(socketAddress("::ffff:127.0.0.1"))));
  EXPECT_TRUE(t.allowed(sa(socketAddress("2001:db8:5::1"))));
  EXPECT_FALSE(t.allowed(sa(socketAddress("128.0.0.1"))));
  EXPECT_FALSE(t.allowed(sa(socketAddress("::1"))));
  EXPECT_FALSE(t.allowed(nullptr));
}

// A zone with one failover pool answering differently per view.
class DnsViews : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/manifold-unit-views-" + std::to_string(getpid()) + ".zone";
    std::ofstream(path_)
        << "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 hm 1 3600 600 86400 60\n@ NS ns1\n"
           "ns1 A 192.0.2.1\n";
    std::string err;
    ASSERT_TRUE(db_.load({"example.com=" + path_}, err)) << err;
    std::vector<View> views(2);
    views[0].name = "inside";
    views[1].name = "inside6";
    net::Cidr c;
    ASSERT_TRUE(net::parseCidr("10.0.0.0/8", c));
    views[0].networks.push_back(c);
    ASSERT_TRUE(net::parseCidr("2001:db8::/32", c));
    views[1].networks.push_back(c);
    Pool pool;
    ASSERT_TRUE(textToName("www.example.com.", "", pool.name, err)) << err;
    for (int v : {-1, 0, 1}) {
      PoolVariant variant;
      variant.view = v;
      PoolAddress a;
      a.bytes[0] = 198;
      a.bytes[1] = 51;
      a.bytes[2] = 100;
      a.bytes[3] = static_cast<uint8_t>(v + 2);  // .1 default, .2 inside, .3 inside6
      variant.levels.push_back({a});
      pool.variants.push_back(variant);
    }
    ASSERT_TRUE(db_.addPools({pool}, views, err)) << err;
    db_.finish();
  }
  void TearDown() override { unlink(path_.c_str()); }

  // Last byte of the A record answered for www from `client`, with an ECS option when
  // `ecsFamily` is set (1 = IPv4, 2 = IPv6); -1 without an answer.
  int answer(const char* client, uint16_t ecsFamily = 0, const std::string& ecsAddress = "") {
    std::string m("\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00", 11);
    m.push_back(ecsFamily ? 1 : 0);
    m += std::string(
        "\x03www\x07"
        "example\x03"
        "com\x00\x00\x01\x00\x01",
        21);
    if (ecsFamily) {
      uint8_t source = ecsFamily == 1 ? 32 : 64;
      std::string addr = ecsAddress.substr(0, source / 8);
      std::string option("\x00\x08", 2);
      option.push_back(0);
      option.push_back(static_cast<char>(4 + addr.size()));
      option += std::string("\x00", 1) + static_cast<char>(ecsFamily) + static_cast<char>(source) +
                '\0' + addr;
      m += std::string("\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00", 10) +
           static_cast<char>(option.size()) + option;
    }
    Query q;
    EXPECT_EQ(parseQuery(reinterpret_cast<const uint8_t*>(m.data()), m.size(), q), QueryStatus::Ok);
    sockaddr_storage peer = socketAddress(client);
    AnswerContext ctx;
    ctx.client = sa(peer);
    uint64_t rotation = 0;
    ctx.rotation = &rotation;
    AnswerInfo info;
    uint8_t out[512];
    size_t n = db_.answer(q, ctx, out, sizeof out, info);
    // The question is echoed as sent; the first answer's RDATA is its last 4 bytes before any OPT.
    if (n < m.size() || get16(out + 6) == 0) return -1;
    size_t rr = kHeaderSize + 21;
    return out[rr + 2 + 10 + 3];  // owner pointer, type..rdlength, RDATA
  }

  std::string path_;
  ZoneDb db_;
};

TEST_F(DnsViews, SourceAddressPicksTheView) {
  EXPECT_EQ(answer("192.0.2.9"), 1);
  EXPECT_EQ(answer("10.9.8.7"), 2);
  EXPECT_EQ(answer("::ffff:10.9.8.7"), 2);  // a dual-stack socket's view of an IPv4 client
  EXPECT_EQ(answer("2001:db8::5"), 3);
  EXPECT_EQ(answer("2001:db9::5"), 1);
}

TEST_F(DnsViews, EcsAddressWinsOverTheSource) {
  EXPECT_EQ(answer("192.0.2.9", 1, std::string("\x0a\x01\x02\x03", 4)), 2);
  EXPECT_EQ(answer("10.9.8.7", 1, std::string("\xc0\x00\x02\x03", 4)), 1);
  EXPECT_EQ(answer("192.0.2.9", 2, std::string("\x20\x01\x0d\xb8\x00\x01\x00\x00", 8)), 3);
}

}  // namespace
}  // namespace manifold::dns
