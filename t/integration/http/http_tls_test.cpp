// Tier: integration — TLS on the static server's listeners (listen = ADDR:PORT tls), against
// the real binary on loopback with real clients: curl and openssl s_client. SNI per virtual
// server, ALPN, files (sendfile path and xcache) over TLS, resumption across workers with the
// ticket keys in shm, key rotation, a reload that swaps a certificate under load, handshake
// failures, and the -t checks that name file, line and key.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

// A self-signed certificate for `name` (also its subjectAltName) in dir/NAME.crt and .key:
// "ec" is ECDSA P-256, "rsa" RSA 2048; days < 0 makes one that has already expired.
void makeCertificate(const std::string& dir, const std::string& name, const std::string& kind,
                     int days = 30) {
  const std::string base = dir + "/" + name;
  const std::string keyArgs =
      kind == "ec" ? "-newkey ec -pkeyopt ec_paramgen_curve:P-256" : "-newkey rsa:2048";
  int rc = 0;
  if (days > 0) {
    run("openssl req -x509 " + keyArgs + " -nodes -keyout " + base + ".key -out " + base +
            ".crt -days " + str(days) + " -subj /CN=" + name +
            " -addext subjectAltName=DNS:" + name + " 2>&1",
        &rc);
  } else {
    run("openssl req -new " + keyArgs + " -nodes -keyout " + base + ".key -subj /CN=" + name +
            " -out " + base + ".csr 2>&1 && openssl x509 -req -in " + base + ".csr -signkey " +
            base + ".key -days " + str(days) + " -out " + base + ".crt 2>&1",
        &rc);
  }
  ASSERT_EQ(rc, 0) << "openssl could not make a certificate for " << name;
}

// One [http:NAME] section on {port:www} with TLS and the given certificate names in {dir}.
std::string tlsSite(const std::string& section, const std::string& serverName,
                    const std::string& cert, const std::string& extra = "") {
  return "[http:" + section + "]\nlisten = 127.0.0.1:{port:www} tls\nserver_name = " + serverName +
         "\nroot = {dir}/www\nxcache_size = 4M\ntls_certificate = {dir}/" + cert +
         ".crt\ntls_key = {dir}/" + cert + ".key\n" + extra + "\n";
}

// One HTTP/1.1 request through openssl s_client; its whole output (handshake summary and reply).
std::string sClient(int port, const std::string& args, const std::string& host = "a.test") {
  return run("printf 'GET /index.html HTTP/1.1\\r\\nHost: " + host +
             "\\r\\nConnection: close\\r\\n\\r\\n' | timeout 10 openssl s_client -ign_eof "
             "-connect 127.0.0.1:" +
             str(port) + " " + args + " 2>&1");
}

// One worker's value of a counter from `manifold-shm stats --per-worker` (single service).
std::vector<long long> perWorker(const Instance& m, const std::string& counter) {
  std::string out = run(binPath("manifold-shm") + " -n " + m.shmName() + " stats --per-worker");
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    if (name != counter) continue;
    std::vector<long long> values;
    long long v;
    while (words >> v) values.push_back(v);
    if (!values.empty()) values.erase(values.begin());  // the total
    return values;
  }
  return {};
}

// {dir}/www with index.html, the certificate "a" (ECDSA), and the instance started.
void startWithSite(Instance& m) {
  run("mkdir -p " + m.path("www"));
  makeCertificate(m.dir(), "a", "ec");
  writeFile(m.path("www/index.html"), "x");
  ASSERT_TRUE(m.start()) << m.log();
}

long long total(const Instance& m, const std::string& counter) {
  long long sum = 0;
  for (long long v : perWorker(m, counter)) sum += v;
  return sum;
}

}  // namespace

// Two virtual servers share one TLS listener: a.test (ECDSA, the default) and b.test (RSA).
class HttpTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    instance = new Instance(tlsSite("a", "a.test", "a", "default_server = on") +
                            tlsSite("b", "b.test", "b"));
    run("mkdir -p " + instance->path("www"));
    makeCertificate(instance->dir(), "a.test", "ec");
    makeCertificate(instance->dir(), "b.test", "rsa");
    run("cd " + instance->dir() + " && cp a.test.crt a.crt && cp a.test.key a.key && " +
        "cp b.test.crt b.crt && cp b.test.key b.key");
    writeFile(instance->path("www/index.html"), "<html>tls</html>\n");
    big = pattern(700 * 1024, 5);  // above xcache_max_file: the sendfile path, through TLS
    writeFile(instance->path("www/big.bin"), big);
    writeFile(instance->path("www/text.txt"), textOf(40 * 1024));
    ASSERT_TRUE(instance->start()) << instance->log();
    port = instance->port("www");
  }
  static void TearDownTestSuite() {
    delete instance;
    instance = nullptr;
  }
  static Instance* instance;
  static int port;
  static std::string big;
};
Instance* HttpTls::instance = nullptr;
int HttpTls::port = 0;
std::string HttpTls::big;

TEST_F(HttpTls, SniSelectsEachServersCertificate) {
  const Instance& m = *instance;
  for (const std::string name : {"a.test", "b.test"}) {
    // curl verifies the chain against that server's own certificate: a wrong one fails.
    std::string out =
        run("curl -sS --cacert " + m.path(name + ".crt") + " --resolve " + name + ":" + str(port) +
            ":127.0.0.1 https://" + name + ":" + str(port) + "/index.html 2>&1");
    EXPECT_EQ(out, "<html>tls</html>\n") << name;
  }
  // Verified against the other server's certificate: refused.
  int rc = 0;
  run("curl -sS --cacert " + m.path("b.test.crt") + " --resolve a.test:" + str(port) +
          ":127.0.0.1 https://a.test:" + str(port) + "/index.html 2>&1",
      &rc);
  EXPECT_NE(rc, 0);
  // No SNI: the default server's certificate.
  std::string noSni = sClient(port, "-noservername");
  EXPECT_NE(noSni.find("CN = a.test"), std::string::npos) << noSni;
  std::string b = sClient(port, "-servername b.test", "b.test");
  EXPECT_NE(b.find("subject=CN = b.test"), std::string::npos) << b;
  EXPECT_NE(b.find("<html>tls</html>"), std::string::npos) << b;
}

TEST_F(HttpTls, AlpnPrefersH2ThenHttp11AndCounts) {
  long long before11 = total(*instance, "tls_alpn_http11");
  long long beforeH2 = total(*instance, "tls_alpn_h2");
  std::string h2 = sClient(port, "-servername a.test -alpn h2,http/1.1");
  EXPECT_NE(h2.find("ALPN protocol: h2"), std::string::npos) << h2;
  std::string out = sClient(port, "-servername a.test -alpn http/1.1");
  EXPECT_NE(out.find("ALPN protocol: http/1.1"), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  // A client that offers nothing we speak goes on without ALPN, in HTTP/1.1.
  std::string none = sClient(port, "-servername a.test -alpn spdy/3");
  EXPECT_NE(none.find("No ALPN negotiated"), std::string::npos) << none;
  EXPECT_NE(none.find("HTTP/1.1 200 OK"), std::string::npos) << none;
  EXPECT_EQ(total(*instance, "tls_alpn_http11"), before11 + 1);
  EXPECT_EQ(total(*instance, "tls_alpn_h2"), beforeH2 + 1);
}

TEST_F(HttpTls, FilesRangesAndGzipOverOneConnection) {
  const Instance& m = *instance;
  const std::string base = "https://a.test:" + str(port);
  const std::string common = "curl -sS --http1.1 --cacert " + m.path("a.test.crt") +
                             " --resolve a.test:" + str(port) + ":127.0.0.1 ";
  // Three requests on one keep-alive connection (curl reuses it): big, small, big.
  std::string out = m.path("out");
  int rc = 0;
  run(common + "-o " + out + "1 " + base + "/big.bin -o " + out + "2 " + base + "/index.html -o " +
          out + "3 " + base + "/big.bin -w '%{num_connects}\\n'",
      &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(readFile(out + "1"), big);
  EXPECT_EQ(readFile(out + "2"), "<html>tls</html>\n");
  EXPECT_EQ(readFile(out + "3"), big);
  std::string range = run(common + "-r 1000-1999 " + base + "/big.bin");
  EXPECT_EQ(range, big.substr(1000, 1000));
  std::string gz = run(common + "--compressed " + base + "/text.txt");
  EXPECT_EQ(gz, textOf(40 * 1024));
  std::string head = run(common + "-sI -H 'Accept-Encoding: gzip' " + base + "/text.txt");
  EXPECT_NE(head.find("Content-Encoding: gzip"), std::string::npos) << head;
}

// kTLS: each worker says once whether the kernel offers the tls ULP, and the log agrees with
// /proc/sys/net/ipv4/tcp_available_ulp; file bodies then go out through kTLS (counted) or, where
// the ULP is absent (as on the CI's kernel without the tls module), encrypted from a buffer; the
// 700 KiB file arrives whole either way.
TEST_F(HttpTls, KernelTlsDetectionIsLoggedAndFileBodiesFallBack) {
  const bool ulp =
      readFile("/proc/sys/net/ipv4/tcp_available_ulp").find("tls") != std::string::npos;
  const Instance& m = *instance;
  const std::string common = "curl -sS --http1.1 --cacert " + m.path("a.test.crt") +
                             " --resolve a.test:" + str(port) + ":127.0.0.1 ";
  const long long before = total(m, "tls_ktls");
  const std::string out = m.path("ktls.out");
  int rc = 0;
  run(common + "-o " + out + " https://a.test:" + str(port) + "/big.bin", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(readFile(out), big);
  const std::string log = m.log();
  const std::string said =
      ulp ? "TLS: kernel tls ULP present: kTLS, file bodies go out with sendfile"
          : "TLS: kernel tls ULP absent: file bodies are encrypted from a buffer";
  EXPECT_NE(log.find(said), std::string::npos) << log;
  if (ulp)
    EXPECT_GT(total(m, "tls_ktls"), before);
  else
    EXPECT_EQ(total(m, "tls_ktls"), 0);
}

namespace {

// Saves a session with `args` (one s_client run), then resumes it until both workers have
// resumed at least once (the kernel spreads connections over their sockets by source port):
// every attempt must resume, whichever worker took it. `version` as s_client prints it.
void expectResumptionOnBothWorkers(const Instance& m, int port, const std::string& args,
                                   const std::string& version, const std::string& file) {
  const std::string sess = m.path(file);
  std::string first = sClient(port, args + " -servername a.test -sess_out " + sess);
  ASSERT_NE(first.find("New, " + version), std::string::npos) << first;
  std::vector<long long> before = perWorker(m, "tls_handshakes_resumed");
  ASSERT_EQ(before.size(), 2u);
  int reused = 0, attempts = 0;
  std::vector<long long> now = before;
  while (attempts < 60 && (now[0] == before[0] || now[1] == before[1])) {
    std::string out = sClient(port, args + " -servername a.test -sess_in " + sess);
    ++attempts;
    if (out.find("Reused, " + version) != std::string::npos &&
        out.find("HTTP/1.1 200 OK") != std::string::npos)
      ++reused;
    now = perWorker(m, "tls_handshakes_resumed");
    ASSERT_EQ(now.size(), 2u);
  }
  EXPECT_EQ(reused, attempts) << args;
  EXPECT_GT(now[0], before[0]) << args;
  EXPECT_GT(now[1], before[1]) << args;
}

}  // namespace

// TLS 1.3 and TLS 1.2 resume from tickets sealed with the shm keys; TLS 1.2 clients without
// tickets resume by session ID from the shm session cache.
TEST_F(HttpTls, ResumesSessionsOnEveryWorker) {
  expectResumptionOnBothWorkers(*instance, port, "", "TLSv1.3", "s13.pem");
  expectResumptionOnBothWorkers(*instance, port, "-tls1_2", "TLSv1.2", "s12.pem");
  expectResumptionOnBothWorkers(*instance, port, "-tls1_2 -no_ticket", "TLSv1.2", "sid.pem");
}

TEST_F(HttpTls, BadHandshakesAreCountedAndDoNotDisturbTheWorker) {
  long long before = total(*instance, "tls_handshake_failures");
  // Plain HTTP on the TLS port: the handshake fails, the connection closes.
  std::string reply = rawExchange(port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", 3000);
  EXPECT_EQ(reply.find("HTTP/1.1 200"), std::string::npos);
  // A client offering only TLS 1.1 is refused (tls_protocols: 1.2 and 1.3).
  std::string old = sClient(port, "-servername a.test -tls1_1");
  EXPECT_EQ(old.find("HTTP/1.1 200 OK"), std::string::npos) << old;
  EXPECT_GE(total(*instance, "tls_handshake_failures"), before + 2);
  std::string out = sClient(port, "-servername a.test");
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
}

// A client that connects and never starts its handshake is dropped after client_header_timeout.
TEST(HttpTlsTimeouts, SilentClientIsDroppedAfterHeaderTimeout) {
  Instance m(tlsSite("a", "a.test", "a", "client_header_timeout = 1s"));
  ASSERT_NO_FATAL_FAILURE(startWithSite(m));
  RawClient silent(m.port("www"));
  ASSERT_TRUE(silent.ok());
  auto start = Clock::now();
  EXPECT_TRUE(silent.waitClosed(8000));
  double seconds = secondsSince(start);
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 8);
}

TEST(HttpTlsTickets, KeysRotateAndOldTicketsExpire) {
  Instance m(tlsSite("a", "a.test", "a", "tls_ticket_key_rotation = 2s"));
  ASSERT_NO_FATAL_FAILURE(startWithSite(m));
  const int port = m.port("www");
  auto waitRotations = [&](long long target) {
    for (int i = 0; i < 200 && total(m, "tls_ticket_key_rotations") < target; ++i) sleepMs(50);
    return total(m, "tls_ticket_key_rotations");
  };
  // Right after a rotation: a ticket under the new current key.
  long long r = waitRotations(1);
  ASSERT_GE(r, 1);
  const std::string sess = m.path("s.pem");
  std::string first = sClient(port, "-servername a.test -sess_out " + sess);
  ASSERT_NE(first.find("New, TLSv1.3"), std::string::npos) << first;
  // One rotation later its key is the previous one: still accepted (and renewed).
  ASSERT_GE(waitRotations(r + 1), r + 1);
  std::string again = sClient(port, "-servername a.test -sess_in " + sess);
  EXPECT_NE(again.find("Reused, TLSv1.3"), std::string::npos) << again;
  // Two more rotations: the key is gone, the client gets a full handshake (and the page).
  ASSERT_GE(waitRotations(r + 3), r + 3);
  std::string late = sClient(port, "-servername a.test -sess_in " + sess);
  EXPECT_NE(late.find("New, TLSv1.3"), std::string::npos) << late;
  EXPECT_NE(late.find("HTTP/1.1 200 OK"), std::string::npos) << late;
}

// A reload that replaces the certificate while clients keep connecting: no request fails, and
// new connections see the new certificate; sessions resume across the reload (keys in shm).
TEST(HttpTlsReload, CertificateSwapUnderLoadLosesNoRequest) {
  Instance m(tlsSite("a", "a.test", "a"));
  makeCertificate(m.dir(), "next", "rsa");
  ASSERT_NO_FATAL_FAILURE(startWithSite(m));
  const int port = m.port("www");
  const std::string sess = m.path("s.pem");
  ASSERT_NE(sClient(port, "-servername a.test -sess_out " + sess).find("New,"), std::string::npos);

  const std::string codes = m.path("codes");
  writeFile(m.path("load.sh"),
            "for i in $(seq 1 600); do curl -s -k -o /dev/null -w "
            "'%{http_code}\\n' --max-time 10 https://127.0.0.1:" +
                str(port) + "/index.html; done\n");
  Background load("sh " + m.path("load.sh"), codes);
  sleepMs(500);
  m.rewriteConfig(tlsSite("a", "a.test", "next"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2, 15000)) << m.log();
  EXPECT_TRUE(load.running());  // the swap happened under load
  ASSERT_EQ(load.wait(180000), 0);
  std::string all = readFile(codes);
  size_t lines = std::count(all.begin(), all.end(), '\n');
  EXPECT_EQ(lines, 600u);
  EXPECT_EQ(std::count(all.begin(), all.end(), '2'), 600) << all;  // every answer a 200

  std::string fresh = sClient(port, "-servername a.test");
  EXPECT_NE(fresh.find("subject=CN = next"), std::string::npos) << fresh;
  // The ticket from before the reload still resumes (its server now has another certificate,
  // which a ticket does not name).
  std::string resumed = sClient(port, "-servername a.test -sess_in " + sess);
  EXPECT_NE(resumed.find("Reused,"), std::string::npos) << resumed;
}

// -t refuses bad TLS settings with file, line and key, and warns about an expired certificate.
TEST(HttpTlsConfig, CheckNamesFileLineAndKey) {
  const std::string dir = makeTempDir();
  run("mkdir -p " + dir + "/www");
  makeCertificate(dir, "a", "ec");
  makeCertificate(dir, "b", "rsa");
  makeCertificate(dir, "old", "ec", -1);
  auto check = [&](const std::string& body, int* rc) {
    writeFile(dir + "/t.ini", "[master]\nshm_size = 256M\n[http:a]\nlisten = 127.0.0.1:" +
                                  str(freePort()) + " tls\nroot = " + dir + "/www\n" + body);
    return run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", rc);
  };
  int rc = 0;
  std::string out =
      check("tls_certificate = " + dir + "/a.crt\ntls_key = " + dir + "/b.key\n", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:7: tls_key: key \"" + dir + "/b.key\" does not match"),
            std::string::npos)
      << out;

  out = check("tls_certificate = " + dir + "/missing.crt\ntls_key = " + dir + "/a.key\n", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:6: tls_certificate: cannot load certificate"), std::string::npos)
      << out;

  out = check("", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("tls_certificate: required"), std::string::npos) << out;

  out = check(
      "tls_certificate = " + dir + "/a.crt\ntls_key = " + dir + "/a.key\ntls_protocols = TLSv1.1\n",
      &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:8: tls_protocols:"), std::string::npos) << out;

  out = check("tls_certificate = " + dir + "/a.crt\ntls_key = " + dir +
                  "/a.key\ntls_ciphers = NOTHING-REAL\n",
              &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:8: tls_ciphers:"), std::string::npos) << out;

  // RSA and ECDSA at once: accepted.
  out = check("tls_certificate = " + dir + "/a.crt " + dir + "/b.crt\ntls_key = " + dir +
                  "/a.key " + dir + "/b.key\n",
              &rc);
  EXPECT_EQ(rc, 0) << out;

  // Expired: a warning naming the key, and the check still passes.
  out = check("tls_certificate = " + dir + "/old.crt\ntls_key = " + dir + "/old.key\n", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("t.ini:6: tls_certificate: certificate \"" + dir + "/old.crt\" has expired"),
            std::string::npos)
      << out;

  // A service that has no TLS refuses the flag.
  writeFile(dir + "/t.ini", "[master]\nshm_size = 256M\n[tftp:t]\nlisten = 127.0.0.1:" +
                                str(freePort(true)) + " tls\nroot = " + dir + "/www\n");
  out = run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:4: listen:"), std::string::npos) << out;

  // One address cannot be TLS for one virtual server and plain for another.
  const std::string p = str(freePort());
  writeFile(dir + "/t.ini", "[master]\nshm_size = 256M\n[http:a]\nlisten = 127.0.0.1:" + p +
                                " tls\nroot = " + dir + "/www\ntls_certificate = " + dir +
                                "/a.crt\ntls_key = " + dir +
                                "/a.key\n[http:b]\nlisten = "
                                "127.0.0.1:" +
                                p + "\nroot = " + dir + "/www\n");
  out = run(binPath("manifold") + " -t -c " + dir + "/t.ini 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:9: listen: conflicts with"), std::string::npos) << out;
  run("rm -rf " + dir);
}

// tls_stapling_file: the DER OCSP response goes to every client that asks (s_client -status);
// a file that is not one is refused at -t with file, line and key.
TEST(HttpTlsStapling, StaplesTheConfiguredResponse) {
  Instance m(tlsSite("a", "a.test", "leaf", "tls_stapling_file = {dir}/ocsp.der"));
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/index.html"), "x");
  // A CA, a leaf it signed, and the CA's OCSP answer for the leaf ("good").
  int rc = 0;
  run("cd " + m.dir() +
          " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
          "ca.key -out ca.crt -days 30 -subj /CN=TestCA"
          " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
          "leaf.key -out leaf.csr -subj /CN=a.test"
          " && openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 "
          "-out leaf.crt"
          " && printf 'V\\t301231000000Z\\t\\t%s\\tunknown\\t/CN=a.test\\n' "
          "$(openssl x509 -in leaf.crt -noout -serial | cut -d= -f2) > index.txt"
          " && openssl ocsp -issuer ca.crt -cert leaf.crt -no_nonce -reqout req.der"
          " && openssl ocsp -index index.txt -CA ca.crt -rsigner ca.crt -rkey ca.key -reqin "
          "req.der -respout ocsp.der -ndays 1 >/dev/null 2>&1",
      &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_TRUE(m.start()) << m.log();
  std::string out = sClient(m.port("www"), "-servername a.test -status");
  EXPECT_NE(out.find("OCSP Response Status: successful"), std::string::npos) << out;
  EXPECT_NE(out.find("Cert Status: good"), std::string::npos) << out;
  std::string without = sClient(m.port("www"), "-servername a.test");
  EXPECT_EQ(without.find("OCSP Response Status"), std::string::npos) << without;

  writeFile(m.path("t.ini"),
            "[master]\nshm_size = 256M\n[http:a]\nlisten = 127.0.0.1:" + str(freePort()) +
                " tls\nroot = " + m.path("www") + "\ntls_certificate = " + m.path("leaf.crt") +
                "\ntls_key = " + m.path("leaf.key") +
                "\ntls_stapling_file = " + m.path("leaf.crt") + "\n");
  out = run(binPath("manifold") + " -t -c " + m.path("t.ini") + " 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("t.ini:8: tls_stapling_file:"), std::string::npos) << out;
}
