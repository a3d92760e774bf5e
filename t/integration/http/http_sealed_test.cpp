// Tier: integration — sealed files: `sealed = on` takes WebDAV uploads only in the age v1 format
// (plaintext gets 415 and nothing is stored) and serves them as stored, ranges byte-exact;
// bin/manifold-seal and the age command from Debian open each other's files; a pack built with
// manifold-pack --seal serves bodies that age decrypts.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

std::string seal() { return binPath("manifold-seal"); }

// A key pair made by age-keygen and one made by manifold-seal, in `dir`.
struct Keys {
  std::string ageKey, ageRecipient, ourKey, ourRecipient;
};

Keys makeKeys(const std::string& dir) {
  Keys k;
  k.ageKey = dir + "/age.key";
  k.ourKey = dir + "/our.key";
  run("age-keygen -o " + k.ageKey + " 2>/dev/null");
  run(seal() + " keygen -o " + k.ourKey + " 2>/dev/null");
  k.ageRecipient = run("age-keygen -y " + k.ageKey);
  k.ourRecipient = run(seal() + " recipient " + k.ourKey);
  while (!k.ageRecipient.empty() && k.ageRecipient.back() == '\n') k.ageRecipient.pop_back();
  while (!k.ourRecipient.empty() && k.ourRecipient.back() == '\n') k.ourRecipient.pop_back();
  return k;
}

}  // namespace

TEST(AgeInterop, SealedByEitherOpensWithTheOther) {
  std::string dir = makeTempDir();
  Keys k = makeKeys(dir);
  ASSERT_EQ(k.ageRecipient.substr(0, 4), "age1");
  // Both tools derive the same recipient from one identity.
  EXPECT_EQ(run("age-keygen -y " + k.ourKey), k.ourRecipient + "\n");
  EXPECT_EQ(run(seal() + " recipient " + k.ageKey), k.ageRecipient + "\n");
  // Sizes around the 64 KiB chunk: empty, one byte, exactly one chunk, two chunks and a bit.
  for (size_t size : {size_t{0}, size_t{1}, size_t{65536}, size_t{140000}}) {
    SCOPED_TRACE(size);
    std::string plain = dir + "/plain" + str(size);
    writeFile(plain, pattern(size, size % 7));
    int rc = -1;
    run(seal() + " seal -r " + k.ageRecipient + " -o " + plain + ".ours " + plain, &rc);
    ASSERT_EQ(rc, 0);
    // (age creates -o only once it has output: read its stdout.)
    EXPECT_EQ(run("age -d -i " + k.ageKey + " " + plain + ".ours | sha256sum | cut -c1-64"),
              sha256(plain) + "\n");
    run("age -r " + k.ourRecipient + " -o " + plain + ".theirs " + plain, &rc);
    ASSERT_EQ(rc, 0);
    run(seal() + " open -i " + k.ourKey + " -o " + plain + ".viaours " + plain + ".theirs", &rc);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(sha256(plain + ".viaours"), sha256(plain));
  }
  // Several recipients at once (ours and age's) through stdin/stdout.
  writeFile(dir + "/multi", "to both\n");
  EXPECT_EQ(run(seal() + " seal -r " + k.ageRecipient + " -r " + k.ourRecipient + " < " + dir +
                "/multi | age -d -i " + k.ageKey),
            "to both\n");
  // The wrong identity and a tampered file are refused by both.
  int rc = -1;
  std::string out = run(seal() + " open -i " + k.ourKey + " " + dir + "/plain1.ours 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("no identity matches"), std::string::npos) << out;
  run("cp " + dir + "/plain140000.theirs " + dir + "/tampered");
  run("printf 'Z' | dd of=" + dir + "/tampered bs=1 seek=1000 conv=notrunc 2>/dev/null");
  out = run(seal() + " open -i " + k.ourKey + " -o /dev/null " + dir + "/tampered 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("payload authentication failed"), std::string::npos) << out;
  // Into a file, a failed open leaves nothing: no partial plaintext, no hidden temporary.
  out = run(seal() + " open -i " + k.ourKey + " -o " + dir + "/opened " + dir + "/tampered 2>&1",
            &rc);
  EXPECT_NE(rc, 0);
  EXPECT_EQ(run("ls -A " + dir + " | grep -c opened"), "0\n");
  run("rm -rf '" + dir + "'");
}

class HttpSealed : public ::testing::Test {
 protected:
  void SetUp() override {
    m = std::make_unique<Instance>(httpSection("vault", "{dir}/www", "webdav = on\nsealed = on") +
                                   httpSection("plain", "{dir}/www", "webdav = on") +
                                   statusSection());
    run("mkdir -p " + m->path("www"));
    ASSERT_TRUE(m->start()) << m->log();
    port = m->port("vault");
    plainPort = m->port("plain");
    status = m->port("status");
    keys = makeKeys(m->dir());
  }
  std::unique_ptr<Instance> m;
  int port = 0, plainPort = 0, status = 0;
  Keys keys;
};

TEST_F(HttpSealed, PlaintextUploadsAreRefusedAndNeverStored) {
  writeFile(m->path("note.txt"), "a secret in the clear\n");
  HttpResponse r = curl(port, "/note.txt", "-T " + m->path("note.txt"));
  EXPECT_EQ(r.status, 415);
  // The armored form, a header cut short, a header without payload: refused as well.
  run("age -a -r " + keys.ageRecipient + " -o " + m->path("armored") + " " + m->path("note.txt"));
  EXPECT_EQ(curl(port, "/armored", "-T " + m->path("armored")).status, 415);
  run("age -r " + keys.ageRecipient + " -o " + m->path("sealed.age") + " " + m->path("note.txt"));
  std::string sealed = readFile(m->path("sealed.age"));
  size_t headerEnd = sealed.find("\n--- ");
  ASSERT_NE(headerEnd, std::string::npos);
  writeFile(m->path("cut"), sealed.substr(0, headerEnd + 10));
  EXPECT_EQ(curl(port, "/cut", "-T " + m->path("cut")).status, 415);
  writeFile(m->path("headeronly"), sealed.substr(0, sealed.find('\n', headerEnd + 1) + 1));
  EXPECT_EQ(curl(port, "/headeronly", "-T " + m->path("headeronly")).status, 415);
  // Chunked plaintext too.
  Reply chunked = one(port,
                      "PUT /chunked.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 415);
  // Nothing of any of it reached the directory, not even a temporary name.
  EXPECT_EQ(run("ls -A " + m->path("www")), "");
  // The same upload on a site without sealed = on is stored: the refusal is the option's.
  EXPECT_EQ(curl(plainPort, "/note.txt", "-T " + m->path("note.txt")).status, 201);
}

TEST_F(HttpSealed, SealedUploadsAreServedAsStoredRangesIncluded) {
  std::string plain = pattern(300000, 9);
  writeFile(m->path("data.bin"), plain);
  run("age -r " + keys.ourRecipient + " -o " + m->path("data.age") + " " + m->path("data.bin"));
  std::string sealed = readFile(m->path("data.age"));
  HttpResponse put = curl(port, "/data.age", "-T " + m->path("data.age"));
  EXPECT_EQ(put.status, 201);
  EXPECT_TRUE(readFile(m->path("www/data.age")) == sealed);

  HttpResponse got = curl(port, "/data.age", "-H 'Accept-Encoding: gzip'");
  EXPECT_EQ(got.status, 200);
  EXPECT_TRUE(got.body == sealed);
  EXPECT_EQ(got.header("Content-Encoding"), "");                      // as stored, never re-encoded
  EXPECT_GE(counter(status, "http:vault", "sendfile_responses"), 1);  // zero-copy
  EXPECT_EQ(counter(status, "http:vault", "cache_hits"), 0);
  // Ranges byte-exact: inside the header, across a chunk boundary, the tail.
  for (auto [first, last] : {std::pair<size_t, size_t>{0, 99},
                             {65000, 140000},
                             {sealed.size() - 17, sealed.size() - 1}}) {
    Reply r = one(port, "GET /data.age HTTP/1.1\r\nHost: x\r\nRange: bytes=" + str(first) + "-" +
                            str(last) + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 206);
    EXPECT_TRUE(r.body == sealed.substr(first, last - first + 1)) << first;
  }
  // What comes back opens with our tool to the original.
  writeFile(m->path("back.age"), got.body);
  int rc = -1;
  run(seal() + " open -i " + keys.ourKey + " -o " + m->path("back.bin") + " " + m->path("back.age"),
      &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(readFile(m->path("back.bin")) == plain);

  // Sealed by manifold-seal, uploaded chunked, served, opened by age.
  run(seal() + " seal -r " + keys.ageRecipient + " -o " + m->path("ours.age") + " " +
      m->path("data.bin"));
  EXPECT_EQ(
      curl(port, "/ours.age", "-H 'Transfer-Encoding: chunked' -T " + m->path("ours.age")).status,
      201);
  run("curl -s -o " + m->path("ours.back") + " http://127.0.0.1:" + str(port) + "/ours.age");
  EXPECT_EQ(
      run("age -d -i " + keys.ageKey + " " + m->path("ours.back") + " | sha256sum | cut -c1-64"),
      sha256(m->path("data.bin")) + "\n");
}

TEST_F(HttpSealed, SealedPackBodiesOpenWithAge) {
  run("mkdir -p " + m->path("tree/sub") + " " + m->path("sites"));
  writeFile(m->path("tree/index.html"), "<h1>sealed home</h1>\n");
  writeFile(m->path("tree/sub/report.txt"), textOf(90000, "confidential"));
  int rc = -1;
  std::string out = run(binPath("manifold-pack") + " -q --seal " + keys.ageRecipient + " " +
                            m->path("tree") + " " + m->path("sites/_default.site") + " 2>&1",
                        &rc);
  ASSERT_EQ(rc, 0) << out;
  std::string list = run(binPath("manifold-pack") + " --list " + m->path("sites/_default.site"));
  EXPECT_NE(list.find(", sealed"), std::string::npos) << list;
  EXPECT_EQ(list.find("text/plain"), std::string::npos) << "sealed bodies are opaque";
  run(binPath("manifold-pack") + " --verify " + m->path("sites/_default.site"), &rc);
  EXPECT_EQ(rc, 0);
  // Served by a pack section, then opened with age.
  m->rewriteConfig("[http:packs]\nlisten = 127.0.0.1:{port:packs}\nsites = {dir}/sites\n");
  m->signal(SIGHUP);
  ASSERT_TRUE(m->waitForGeneration(2)) << m->log();
  int packs = m->port("packs");
  run("curl -s -o " + m->path("report.age") + " http://127.0.0.1:" + str(packs) +
      "/sub/report.txt");
  EXPECT_EQ(run("age -d -i " + keys.ageKey + " " + m->path("report.age")),
            readFile(m->path("tree/sub/report.txt")));
  Reply home = one(packs,
                   "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                   "Connection: close\r\n\r\n");
  EXPECT_EQ(home.header("Content-Type"), "application/octet-stream");
  EXPECT_FALSE(home.has("Content-Encoding"));
  EXPECT_EQ(home.body.substr(0, 22), "age-encryption.org/v1\n");
}
