// Tier: end-to-end — who may read the metrics endpoint (issue #11.10): it shows worker pids and
// every service's figures, so only loopback by default, and the `allow` networks when set.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

TEST(CoreStatusAllow, LoopbackByDefaultAndTheAllowListOtherwise) {
  Instance m(
      "[status:open]\nlisten = 127.0.0.1:{port:open}\n\n"
      "[status:closed]\nlisten = 127.0.0.1:{port:closed}\nallow = 192.0.2.0/24 2001:db8::/32\n",
      "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  EXPECT_EQ(curl(m.port("open"), "/metrics").status, 200);
  EXPECT_EQ(curl(m.port("open"), "/metrics.json").status, 200);
  HttpResponse refused = curl(m.port("closed"), "/metrics.json");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body.find("pid"), std::string::npos);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
