// Tier: end-to-end — the fs router's read path for large files ([fs:NAME] in front of
// Manifold's own WebDAV nodes on loopback): bodies relayed with splice(2) come back
// byte-identical, whole and in ranges, also when the first copy is gone (404 fail-over).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "t/integration/fs/fs_test_util.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

std::string node(const std::string& name) { return davNode(name, "client_max_body_size = 64M\n"); }

}  // namespace

TEST(FsRead, LargeFilesByteIdenticalWholeInRangesAndAfterFailOver) {
  const std::vector<std::string> nodes = {"n1", "n2", "n3"};
  Instance m(node("n1") + node("n2") + node("n3") +
                 "[fs:store]\nlisten = 127.0.0.1:{port:store}\nstage = 1 127.0.0.1:{port:n1} "
                 "127.0.0.1:{port:n2} 127.0.0.1:{port:n3}\nreplicas = 2\nrepair = off\n"
                 "client_max_body_size = 64M\n",
             "", 1);
  for (const auto& n : nodes) run("mkdir -p " + m.path(n));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("store");
  const std::string body = pattern((5 << 20) + 99, 31);
  writeFile(m.path("upload.bin"), body);
  EXPECT_EQ(run("curl -s -o /dev/null -w '%{http_code}' -T " + m.path("upload.bin") +
                " http://127.0.0.1:" + str(port) + "/_s1/big/file.bin"),
            "201");

  RawClient client(port);
  Reply whole = client.exchange(get("/_s1/big/file.bin"));
  EXPECT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == body) << "whole body differs";
  Reply range = client.exchange(get("/_s1/big/file.bin", "Range: bytes=1000000-3999999\r\n"));
  EXPECT_EQ(range.status, 206);
  EXPECT_TRUE(range.body == body.substr(1000000, 3000000)) << "range differs";

  // Remove the copy the router reads first: the other copy answers, whole.
  std::vector<std::string> holders;
  for (const auto& n : nodes)
    if (fileExists(m.path(n + "/_s1/big/file.bin"))) holders.push_back(n);
  ASSERT_EQ(holders.size(), 2u);
  for (const auto& n : holders) {
    run("rm -f " + m.path(n + "/_s1/big/file.bin"));
    Reply again = client.exchange(get("/_s1/big/file.bin"));
    EXPECT_EQ(again.status, 200);
    EXPECT_TRUE(again.body == body) << "body differs after removing the copy on " << n;
    writeFile(m.path(n + "/_s1/big/file.bin"), body);  // back for the next round
  }
  EXPECT_GE(storeCounter(m, "upstream_spliced"), 4);
  EXPECT_EQ(storeCounter(m, "proxy_cut"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
