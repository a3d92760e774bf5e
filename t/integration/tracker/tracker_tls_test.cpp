// Tier: protocol on the wire — the tracker's TCP side over TLS (`listen = ADDR:PORT tls`): HTTP
// announces with curl over https, WebTorrent signalling with the npm `ws` client over wss, the
// UDP side of the same address left as BEP 15, and a tls address without http refused at -t.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

const char* kConfig = R"(
[tracker:wt]
listen = 127.0.0.1:{port:t} tls
ws = on
memory = 4M
ws_memory = 2M
tls_certificate = {dir}/a.crt
tls_key = {dir}/a.key
)";

}  // namespace

TEST(TrackerTls, HttpsAnnouncesAndWssSignallingOnOneTlsAddress) {
  int rc = 0;
  run("t/integration/tracker/npm-install 2>&1", &rc);
  ASSERT_EQ(rc, 0) << "npm packages could not be installed";
  Instance m(kConfig);
  ASSERT_TRUE(makeTestCertificate(m.path("")));
  ASSERT_TRUE(m.start()) << m.log();
  const std::string port = str(m.port("t"));
  const std::string curl =
      "curl -sS --cacert " + m.path("a.crt") + " --resolve a.test:" + port + ":127.0.0.1 ";

  // BEP 3 over https: a bencoded answer with the interval; over cleartext, nothing HTTP.
  const std::string announce =
      "https://a.test:" + port +
      "/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb"
      "&port=6881&left=0&compact=1";
  const std::string body = run(curl + "'" + announce + "' 2>&1");
  EXPECT_NE(body.find("8:intervali"), std::string::npos) << body;
  EXPECT_EQ(run("curl -s -o /dev/null -w '%{http_code}' --max-time 3 'http://127.0.0.1:" + port +
                "/announce' 2>&1"),
            "000");

  // WebTorrent over wss: an announce answered and an offer relayed between two peers.
  const std::string out =
      run("WS_MODULE=$PWD/build/npm/node_modules/ws node "
          "t/integration/tracker/wss-client.mjs wss://127.0.0.1:" +
              port + "/announce " + m.path("a.crt") + " a.test 2>&1",
          &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("announced interval="), std::string::npos) << out;
  EXPECT_NE(out.find("relayed sdp-0"), std::string::npos) << out;

  const std::string stats =
      run(binPath("manifold-shm") + " -n " + m.shmName() + " stats --json 2>&1");
  EXPECT_GE(jsonCounter(stats, "tracker:wt", "tls_handshakes_full") +
                jsonCounter(stats, "tracker:wt", "tls_handshakes_resumed"),
            3)
      << stats;
  EXPECT_GE(jsonCounter(stats, "tracker:wt", "requests"), 1) << stats;
}

TEST(TrackerTls, TlsWithoutHttpIsRefusedWithFileLineAndKey) {
  const std::string dir = makeTempDir();
  ASSERT_TRUE(makeTestCertificate(dir));
  int rc = 0;
  writeFile(dir + "/t.ini", "[master]\nshm_size = 64M\n[tracker:wt]\nlisten = 127.0.0.1:" +
                                str(freePort()) + " tls\nhttp = off\ntls_certificate = " + dir +
                                "/a.crt\ntls_key = " + dir + "/a.key\n");
  const std::string out = run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", &rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("t.ini:4: listen: tls needs http = on"), std::string::npos) << out;
  run("rm -rf " + dir);
}
