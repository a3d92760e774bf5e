// What the proxy changes in relayed heads, and how the balancer spreads and places requests.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "protocols/proxy/balancer.hpp"
#include "protocols/proxy/forward.hpp"

using namespace manifold;
using namespace manifold::proxy;

namespace {

http::Request parse(const std::string& in) {
  http::Request r;
  EXPECT_EQ(http::parseRequest(in, r).status, http::ParseStatus::Complete) << in;
  return r;
}

ProxyConfig configWith(std::initializer_list<std::pair<const char*, unsigned>> backends,
                       Balance balance) {
  ProxyConfig c;
  c.balance = balance;
  for (auto& [text, weight] : backends) {
    BackendConfig b;
    std::string why;
    EXPECT_TRUE(config::parseRemoteAddress(text, 80, b.address, why));
    b.weight = weight;
    c.backends.push_back(b);
  }
  return c;
}

}  // namespace

TEST(ProxyForward, UpstreamHeadDropsHopByHopAndAppendsForwarding) {
  std::string in =
      "GET http://example.com/a?b=1 HTTP/1.1\r\nHost: ignored\r\nConnection: keep-alive, "
      "X-Secret\r\n"
      "X-Secret: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: x\r\n"
      "X-Forwarded-For: 192.0.2.1\r\nForwarded: for=192.0.2.1\r\nExpect: 100-continue\r\n"
      "Accept: */*\r\n\r\n";
  http::Request r = parse(in);
  net::PeerAddress client;
  ASSERT_TRUE(net::parseAddress("2001:db8::7", client));
  std::string out;
  appendUpstreamHead(out, r, client);
  EXPECT_EQ(out,
            "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
            "X-Forwarded-For: 192.0.2.1, 2001:db8::7\r\nX-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.1, for=\"[2001:db8::7]\";proto=http;host=\"example.com\"\r\n");
}

// Several X-Forwarded-For / Forwarded lines are one list each (RFC 9110 5.3): all kept, in order.
TEST(ProxyForward, SeveralForwardingLinesAreMerged) {
  std::string in =
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.1\r\nForwarded: for=192.0.2.1\r\n"
      "X-Forwarded-For: 198.51.100.2, 198.51.100.3\r\nForwarded: for=198.51.100.2\r\n\r\n";
  http::Request r = parse(in);
  net::PeerAddress client;
  ASSERT_TRUE(net::parseAddress("127.0.0.1", client));
  std::string out;
  appendUpstreamHead(out, r, client);
  EXPECT_NE(out.find("X-Forwarded-For: 192.0.2.1, 198.51.100.2, 198.51.100.3, 127.0.0.1\r\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Forwarded: for=192.0.2.1, for=198.51.100.2, for=127.0.0.1;proto=http"),
            std::string::npos)
      << out;
}

TEST(ProxyForward, DownstreamHeadKeepsEndToEndFields) {
  ResponseHead h;
  std::string in =
      "HTTP/1.1 200 Fine\r\nConnection: X-Gone\r\nX-Gone: 1\r\nTransfer-Encoding: chunked\r\n"
      "Set-Cookie: a=b\r\nProxy-Authenticate: Basic\r\n\r\n";
  ASSERT_EQ(parseResponse(in, h, false).status, ResponseStatus::Complete);
  std::string out;
  appendDownstreamHead(out, h, 0);
  EXPECT_EQ(out, "HTTP/1.0 200 Fine\r\nSet-Cookie: a=b\r\n");
}

TEST(ProxyBalancer, SmoothWeightedRoundRobin) {
  ProxyConfig c =
      configWith({{"127.0.0.1:1", 5}, {"127.0.0.1:2", 1}, {"127.0.0.1:3", 1}}, Balance::RoundRobin);
  Balancer b(c, nullptr);
  std::string order;
  for (int i = 0; i < 7; ++i) order += static_cast<char>('a' + b.pick("", {}, 0));
  EXPECT_EQ(order, "aabacaa");  // nginx's smooth sequence for 5:1:1
  Tried tried;
  tried.set(0);
  EXPECT_NE(b.pick("", tried, 0), 0);
}

TEST(ProxyBalancer, RendezvousMovesOnlyTheNewBackendsShare) {
  ProxyConfig three =
      configWith({{"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}, {"10.0.0.3:80", 1}}, Balance::Hash);
  ProxyConfig four = three;
  four.backends.push_back(configWith({{"10.0.0.4:80", 1}}, Balance::Hash).backends[0]);
  Balancer b3(three, nullptr), b4(four, nullptr);
  int moved = 0;
  std::map<int, int> share;
  for (int i = 0; i < 4000; ++i) {
    std::string key = "/object/" + std::to_string(i);
    int before = b3.pick(key, {}, 0), after = b4.pick(key, {}, 0);
    share[before]++;
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, 3);
    }
  }
  EXPECT_NEAR(moved, 1000, 150);
  for (auto& [backend, n] : share) EXPECT_NEAR(n, 1333, 200) << backend;
}
