// Tier: end-to-end — TLS from [proxy:NAME] to its backends (backend = ADDR:PORT tls,
// upstream_tls*): Manifold's own static server on a tls listener as the backend, the test
// certificate from makeTestCertificate() (CN and SAN a.test) as the trusted CA. Requests and
// bodies relayed, keep-alive reuse, resumption on reconnect, certificates refused (wrong name,
// untrusted) when verify is on and accepted when off, health checks over TLS, and -t refusals.
#include <gtest/gtest.h>

#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

// The TLS origin: a WebDAV static server on {port:origin} with the a.test certificate.
const std::string kOrigin =
    "[http:origin]\nlisten = 127.0.0.1:{port:origin} tls\nroot = {dir}/www\nwebdav = on\n"
    "tls_certificate = {dir}/a.crt\ntls_key = {dir}/a.key\n\n";

std::string edge(const std::string& name, const std::string& keys,
                 const std::string& options = "") {
  return "[proxy:" + name + "]\nlisten = 127.0.0.1:{port:" + name +
         "}\nbackend = 127.0.0.1:{port:origin} tls" + options + "\n" + keys + "\n";
}

const std::string kTrusted = "upstream_tls_ca = {dir}/a.crt\nupstream_tls_name = a.test\n";

long long counter(const Instance& m, const std::string& title, const std::string& name) {
  return jsonCounter(run(binPath("manifold-shm") + " -n " + m.shmName() + " --json"), title, name);
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void prepare(Instance& m) {
  ASSERT_TRUE(makeTestCertificate(m.dir()));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/file"), "over tls\n");
}

}  // namespace

// GET and a streamed PUT body relayed over TLS, keep-alive reuse of the TLS connection, and
// handshakes counted: with upstream_keepalive = 0 every request reconnects and resumes.
TEST(ProxyTls, RelaysOverTlsReusesAndResumes) {
  Instance m(
      kOrigin + edge("edge", kTrusted) + edge("fresh", kTrusted + "upstream_keepalive = 0\n"), "",
      1);
  prepare(m);
  writeFile(m.path("upload.bin"), pattern(4 << 20, 9));
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("edge");

  Reply r = one(port, getClose("/file"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "over tls\n");
  EXPECT_EQ(run("curl -s -o /dev/null -w '%{http_code}' -T " + m.path("upload.bin") +
                " http://127.0.0.1:" + str(port) + "/up.bin"),
            "201");
  EXPECT_EQ(sha256(m.path("www/up.bin")), sha256(m.path("upload.bin")));

  RawClient client(port);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client.exchange(get("/file")).status, 200);
  EXPECT_GE(counter(m, "proxy:edge", "upstream_reused"), 15);
  EXPECT_GE(counter(m, "proxy:edge", "upstream_tls_handshakes_full"), 1);
  // Every TLS connect of the proxy was a handshake counted one way or the other.
  EXPECT_EQ(counter(m, "proxy:edge", "upstream_tls_handshakes_full") +
                counter(m, "proxy:edge", "upstream_tls_handshakes_resumed"),
            counter(m, "proxy:edge", "upstream_connects"));

  int fresh = m.port("fresh");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(one(fresh, getClose("/file")).body, "over tls\n");
  EXPECT_EQ(counter(m, "proxy:fresh", "upstream_connects"), 6);
  EXPECT_EQ(counter(m, "proxy:fresh", "upstream_tls_handshakes_full"), 1);
  EXPECT_EQ(counter(m, "proxy:fresh", "upstream_tls_handshakes_resumed"), 5);
  EXPECT_EQ(counter(m, "proxy:fresh", "upstream_tls_verify_failures"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A certificate for the wrong name, or from no trusted CA, is refused (502, counted, logged
// once), while the same backend is accepted with upstream_tls_verify = off; a refused backend
// fails over to the next one.
TEST(ProxyTls, VerifyRefusesWrongNameAndUntrustedUnlessOff) {
  // max_fails=0: every request tries the refused backend again (not marked failed).
  Instance m(kOrigin +
                 edge("wrongname", "upstream_tls_ca = {dir}/a.crt\nupstream_tls_name = b.test\n",
                      " max_fails=0") +
                 edge("untrusted", "upstream_tls_name = a.test\n", " max_fails=0") +
                 edge("unchecked", "upstream_tls_verify = off\nupstream_tls_name = b.test\n") +
                 edge("failover",
                      "upstream_tls_ca = {dir}/a.crt\n"
                      "backend = 127.0.0.1:{port:plain}\n") +
                 "[http:plain]\nlisten = 127.0.0.1:{port:plain}\nroot = {dir}/plain\n",
             "", 1);
  prepare(m);
  run("mkdir -p " + m.path("plain"));
  writeFile(m.path("plain/file"), "plain\n");
  ASSERT_TRUE(m.start()) << m.log();

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(one(m.port("wrongname"), getClose("/file")).status, 502);
    EXPECT_EQ(one(m.port("untrusted"), getClose("/file")).status, 502);
  }
  EXPECT_EQ(counter(m, "proxy:wrongname", "upstream_tls_verify_failures"), 3);
  EXPECT_EQ(counter(m, "proxy:untrusted", "upstream_tls_verify_failures"), 3);
  const std::string refused =
      "[proxy:wrongname] backend 127.0.0.1:" + str(m.port("origin")) + " (b.test): certificate";
  EXPECT_TRUE(m.waitForLog(refused)) << m.log();
  EXPECT_EQ(occurrences(m.log(), refused), 1u) << m.log();

  Reply r = one(m.port("unchecked"), getClose("/file"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "over tls\n");
  EXPECT_EQ(counter(m, "proxy:unchecked", "upstream_tls_verify_failures"), 0);

  // The default name is the backend's host, 127.0.0.1: not in the certificate. The plain
  // backend answers instead.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(one(m.port("failover"), getClose("/file")).body, "plain\n");
  EXPECT_GE(counter(m, "proxy:failover", "upstream_tls_verify_failures"), 1);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Health checks speak TLS to a TLS backend (a plain request would be refused: it stays up), and
// a backend whose certificate is refused is marked down by them.
TEST(ProxyTls, HealthChecksOverTls) {
  const std::string check = "health_check = GET /file interval=200ms rise=1 fall=1 timeout=1s\n";
  Instance m(kOrigin + edge("good", kTrusted + check) +
                 edge("bad", "upstream_tls_ca = {dir}/a.crt\nupstream_tls_name = b.test\n" + check),
             "", 1);
  prepare(m);
  ASSERT_TRUE(m.start()) << m.log();
  const std::string backend = "backend 127.0.0.1:" + str(m.port("origin"));
  ASSERT_TRUE(m.waitForLog("[proxy:bad] " + backend + " is down", 5000)) << m.log();
  sleepMs(1000);  // several checks of the good one meanwhile
  EXPECT_EQ(m.log().find("[proxy:good] " + backend + " is down"), std::string::npos) << m.log();
  EXPECT_EQ(counter(m, "proxy:good", "backend_0_down"), 0);
  EXPECT_EQ(counter(m, "proxy:bad", "backend_0_down"), 1);
  EXPECT_EQ(one(m.port("good"), getClose("/file")).status, 200);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// -t refuses an unreadable CA file, a certificate without its key and an unknown backend word,
// with file, line and key.
TEST(ProxyTls, BadSettingsRefusedAtConfigTest) {
  std::string dir = makeTempDir();
  ASSERT_TRUE(makeTestCertificate(dir));
  auto check = [&](const std::string& keys, int* rc) {
    writeFile(dir + "/t.ini",
              "[proxy:p]\nlisten = 127.0.0.1:1\nbackend = 127.0.0.1:2 tls\n" + keys);
    return run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", rc);
  };
  int rc = 0;
  std::string out = check("upstream_tls_ca = " + dir + "/missing.pem\n", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:4: upstream_tls_ca"), std::string::npos) << out;
  out = check("upstream_tls_certificate = " + dir + "/a.crt\n", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("upstream_tls_key"), std::string::npos) << out;
  out = check(
      "upstream_tls_certificate = " + dir + "/a.crt\nupstream_tls_key = " + dir + "/a.crt\n", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:5: upstream_tls_key"), std::string::npos) << out;
  out = check("upstream_tls_ca = " + dir + "/a.crt\n", &rc);
  EXPECT_EQ(rc, 0) << out;
  writeFile(dir + "/t.ini", "[proxy:p]\nlisten = 127.0.0.1:1\nbackend = 127.0.0.1:2 tsl\n");
  out = run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:3: backend"), std::string::npos) << out;
  run("rm -rf " + dir);
}
