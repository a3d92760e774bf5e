// Tier: end-to-end — [fs:NAME] in front of WebDAV nodes that speak only TLS (`tls` on the stage's
// node words, upstream_tls_ca/name as for [proxy:]): writes fan out over TLS to every copy,
// reads come back through the proxy's relay over TLS, and the handshakes are counted.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/fs/fs_test_util.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

std::string tlsNode(const std::string& name) {
  return davNode(name, "tls_certificate = {dir}/a.crt\ntls_key = {dir}/a.key\n", " tls");
}

}  // namespace

TEST(FsTls, WritesAndReadsReachTlsNodes) {
  Instance m(tlsNode("n1") + tlsNode("n2") +
                 "[fs:store]\nlisten = 127.0.0.1:{port:store}\n"
                 "stage = 1 127.0.0.1:{port:n1} tls 127.0.0.1:{port:n2} tls\nreplicas = 2\n"
                 "upstream_tls_ca = {dir}/a.crt\nupstream_tls_name = a.test\n\n",
             "", 1);
  ASSERT_TRUE(makeTestCertificate(m.dir()));
  run("mkdir -p " + m.path("n1") + " " + m.path("n2"));
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("store");
  const std::string body = "stored over tls\n";
  // Written under its stage (as in FsStore tests: /_s1/...), on both nodes.
  Reply w =
      one(port, "PUT /_s1/d/f.txt HTTP/1.1\r\nHost: s\r\nContent-Length: " + str(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_EQ(w.status, 201) << w.body;
  EXPECT_EQ(readFile(m.path("n1/_s1/d/f.txt")), body);
  EXPECT_EQ(readFile(m.path("n2/_s1/d/f.txt")), body);
  Reply r = one(port, getClose("/_s1/d/f.txt"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
  EXPECT_GE(storeCounter(m, "upstream_tls_handshakes_full") +
                storeCounter(m, "upstream_tls_handshakes_resumed"),
            2);  // both nodes, connected by the write fan-out
  EXPECT_EQ(storeCounter(m, "upstream_tls_verify_failures"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
