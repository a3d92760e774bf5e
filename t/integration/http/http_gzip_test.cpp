// Tier: integration — gzip content coding of the static web server: on the fly (xcache),
// gzip_static, the persistent gzip_store, and ranges over compressed bytes, with real curl.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "protocols/http/gzip.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {
// `curl --raw` (no decoding) of path with extra headers; status, headers and the exact bytes.
HttpResponse rawCurl(int port, const std::string& path, const std::string& args) {
  return curl(port, path, "--raw " + args);
}
const std::string kGzip = "-H 'Accept-Encoding: gzip'";
}  // namespace

class HttpGzip : public ::testing::Test {
 protected:
  void SetUp() override {
    m = std::make_unique<Instance>(httpSection("www", "{dir}/www", "gzip_store = {dir}/store") +
                                   statusSection());
    run("mkdir -p " + m->path("www/js"));
    text = textOf(20 * 1024);
    writeFile(m->path("www/page.txt"), text);
    writeFile(m->path("www/tiny.txt"), "too small to compress\n");
    png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(20000, 'A');  // compressible bytes
    writeFile(m->path("www/pic.png"), png);
    big = textOf(2 * 1024 * 1024, "big");
    writeFile(m->path("www/big.txt"), big);
  }
  // Starts the instance and reads back the ports it picked.
  bool start() {
    bool started = m->start();
    port = m->port("www");
    status = m->port("status");
    return started;
  }
  std::unique_ptr<Instance> m;
  int port = 0, status = 0;
  std::string text, png, big;
};

TEST_F(HttpGzip, CompressibleTextIsGzippedAndRoundTrips) {
  ASSERT_TRUE(start()) << m->log();
  for (int round = 0; round < 3; ++round) {  // built, then from the xcache
    HttpResponse r = curl(port, "/page.txt", "--compressed");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(r.header("Content-Type"), "text/plain");
    EXPECT_TRUE(r.body == text) << "decoded body differs, round " << round;
    EXPECT_EQ(r.header("ETag").substr(r.header("ETag").size() - 4), "-gz\"");

    HttpResponse raw = rawCurl(port, "/page.txt", kGzip);
    EXPECT_EQ(raw.header("Content-Encoding"), "gzip");
    EXPECT_EQ(raw.header("Content-Length"), str(raw.body.size()));
    EXPECT_LT(raw.body.size(), text.size() / 4);
    EXPECT_TRUE(gunzip(raw.body) == text);
  }
  // The identity and gzip forms have different validators, and each revalidates to 304.
  HttpResponse plain = curl(port, "/page.txt");
  HttpResponse zipped = curl(port, "/page.txt", "--compressed");
  EXPECT_NE(plain.header("ETag"), zipped.header("ETag"));
  EXPECT_EQ(
      curl(port, "/page.txt", "--compressed -H 'If-None-Match: " + zipped.header("ETag") + "'")
          .status,
      304);
  EXPECT_EQ(curl(port, "/page.txt", "-H 'If-None-Match: " + plain.header("ETag") + "'").status,
            304);
  EXPECT_GE(counter(status, "http:www", "gzip_responses"), 6);
}

TEST_F(HttpGzip, NoGzipUnlessAsked) {
  ASSERT_TRUE(start()) << m->log();
  for (int round = 0; round < 2; ++round) {
    HttpResponse none = rawCurl(port, "/page.txt", "");
    EXPECT_EQ(none.status, 200);
    EXPECT_FALSE(none.headers.find("Content-Encoding") != std::string::npos) << none.headers;
    EXPECT_EQ(none.header("Vary"), "Accept-Encoding");  // it could have been compressed
    EXPECT_EQ(none.header("Content-Length"), str(text.size()));
    EXPECT_TRUE(none.body == text);
    for (std::string refusal :
         {"gzip;q=0", "gzip; q=0.000", "identity", "br", "deflate, gzip;q=0"}) {
      HttpResponse r = rawCurl(port, "/page.txt", "-H 'Accept-Encoding: " + refusal + "'");
      EXPECT_EQ(r.status, 200) << refusal;
      EXPECT_EQ(r.header("Content-Encoding"), "") << refusal;
      EXPECT_TRUE(r.body == text) << refusal;
    }
    for (std::string accepted :
         {"gzip", "deflate, gzip", "GZIP;q=0.5", "*", "br;q=1, gzip;q=0.1"}) {
      HttpResponse r = rawCurl(port, "/page.txt", "-H 'Accept-Encoding: " + accepted + "'");
      EXPECT_EQ(r.header("Content-Encoding"), "gzip") << accepted;
      EXPECT_TRUE(gunzip(r.body) == text) << accepted;
    }
  }
}

TEST_F(HttpGzip, ImagesAndTinyFilesAreNotCompressed) {
  ASSERT_TRUE(start()) << m->log();
  for (int round = 0; round < 2; ++round) {
    HttpResponse image = rawCurl(port, "/pic.png", kGzip);
    EXPECT_EQ(image.status, 200);
    EXPECT_EQ(image.header("Content-Type"), "image/png");
    EXPECT_EQ(image.header("Content-Encoding"), "");
    EXPECT_EQ(image.header("Vary"), "");
    EXPECT_TRUE(image.body == png);
    HttpResponse tiny = rawCurl(port, "/tiny.txt", kGzip);  // below gzip_min_length
    EXPECT_EQ(tiny.header("Content-Encoding"), "");
    EXPECT_EQ(tiny.body, "too small to compress\n");
  }
}

TEST_F(HttpGzip, GzipStaticFileIsServedVerbatim) {
  // A hand-made .gz whose content differs from the source: proof it is not re-compressed.
  std::string source = textOf(4000, "source");
  writeFile(m->path("www/js/app.js"), source);
  std::string precompressed;
  ASSERT_TRUE(manifold::http::gzipCompress(textOf(3000, "precompressed"), precompressed, 9));
  writeFile(m->path("www/js/app.js.gz"), precompressed);
  // A stale .gz (older than its source) is ignored.
  writeFile(m->path("www/js/old.js"), source);
  writeFile(m->path("www/js/old.js.gz"), precompressed);
  run("touch -d '2001-01-01' " + m->path("www/js/old.js.gz"));
  ASSERT_TRUE(start()) << m->log();

  for (int round = 0; round < 2; ++round) {
    HttpResponse raw = rawCurl(port, "/js/app.js", kGzip);
    EXPECT_EQ(raw.status, 200);
    EXPECT_EQ(raw.header("Content-Encoding"), "gzip");
    EXPECT_EQ(raw.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(raw.header("Content-Type"), "text/javascript");
    EXPECT_EQ(raw.header("Content-Length"), str(precompressed.size()));
    EXPECT_TRUE(raw.body == precompressed) << "not the bytes of app.js.gz";

    HttpResponse plain = rawCurl(port, "/js/app.js", "");
    EXPECT_EQ(plain.header("Content-Encoding"), "");
    EXPECT_TRUE(plain.body == source);

    HttpResponse stale = rawCurl(port, "/js/old.js", kGzip);
    EXPECT_EQ(stale.header("Content-Encoding"), "gzip");
    EXPECT_TRUE(gunzip(stale.body) == source) << "a stale .gz was served";
  }
  // The .gz can be asked for by name too, as itself.
  HttpResponse direct = rawCurl(port, "/js/app.js.gz", "");
  EXPECT_EQ(direct.header("Content-Type"), "application/gzip");
  EXPECT_EQ(direct.header("Content-Encoding"), "");
  EXPECT_TRUE(direct.body == precompressed);
}

TEST_F(HttpGzip, GzipStoreKeepsCompressedCopiesOfLargeFiles) {
  ASSERT_TRUE(start()) << m->log();
  std::string stored = m->path("store/big.txt.gz");
  EXPECT_FALSE(fileExists(stored));
  HttpResponse decoded = curl(port, "/big.txt", "--compressed");
  EXPECT_EQ(decoded.status, 200);
  EXPECT_EQ(decoded.header("Content-Encoding"), "gzip");
  EXPECT_EQ(decoded.header("Vary"), "Accept-Encoding");
  EXPECT_TRUE(decoded.body == big) << "decoded " << decoded.body.size() << " bytes";
  ASSERT_TRUE(fileExists(stored));
  std::string storedBytes = readFile(stored);
  EXPECT_TRUE(gunzip(storedBytes) == big);
  HttpResponse raw = rawCurl(port, "/big.txt", kGzip);
  EXPECT_TRUE(raw.body == storedBytes) << "not sent from the store";
  EXPECT_EQ(raw.header("Content-Length"), str(storedBytes.size()));
  // Without Accept-Encoding: the original.
  HttpResponse plain = rawCurl(port, "/big.txt", "");
  EXPECT_EQ(plain.header("Content-Encoding"), "");
  EXPECT_TRUE(plain.body == big);
  // No temp files are left behind.
  EXPECT_EQ(run("ls -A " + m->path("store")), "big.txt.gz\n");

  // The source changes (same size, then another size): the store follows within the interval.
  // (Replaced by rename: a reader must never see a half-written source, or the store would
  // keep a copy of it.)
  std::string next = textOf(big.size(), "new");
  writeFile(m->path("www/big.txt.new"), next);
  rename(m->path("www/big.txt.new").c_str(), m->path("www/big.txt").c_str());
  auto start = Clock::now();
  std::string body;
  while (msSince(start) < 3000) {
    body = curl(port, "/big.txt", "--compressed").body;
    if (body == next) break;
    EXPECT_TRUE(body == big) << "neither old nor new content";
    sleepMs(50);
  }
  EXPECT_TRUE(body == next) << "the store kept the old content";
  EXPECT_LE(msSince(start), 1600);
  EXPECT_TRUE(gunzip(readFile(stored)) == next);
  std::string shorter = textOf(1500000, "shorter");
  writeFile(m->path("www/big.txt.new"), shorter);
  rename(m->path("www/big.txt.new").c_str(), m->path("www/big.txt").c_str());
  start = Clock::now();
  while (msSince(start) < 3000) {
    body = curl(port, "/big.txt", "--compressed").body;
    if (body == shorter) break;
    sleepMs(50);
  }
  EXPECT_TRUE(body == shorter) << "the store kept the old content";
  EXPECT_TRUE(gunzip(readFile(stored)) == shorter);
  EXPECT_EQ(run("ls -A " + m->path("store")), "big.txt.gz\n");
}

TEST_F(HttpGzip, RangesApplyToTheCompressedBytes) {
  ASSERT_TRUE(start()) << m->log();
  for (std::string path : {"/page.txt", "/big.txt"}) {  // in memory (xcache) and from the store
    HttpResponse whole = rawCurl(port, path, kGzip);
    ASSERT_EQ(whole.header("Content-Encoding"), "gzip") << path;
    std::string gz = whole.body;
    std::string etag = whole.header("ETag");

    HttpResponse first = rawCurl(port, path, kGzip + " -H 'Range: bytes=0-99'");
    EXPECT_EQ(first.status, 206) << path;
    EXPECT_EQ(first.header("Content-Encoding"), "gzip");
    EXPECT_EQ(first.header("Content-Range"), "bytes 0-99/" + str(gz.size())) << path;
    EXPECT_TRUE(first.body == gz.substr(0, 100)) << path;

    HttpResponse tail = rawCurl(port, path, kGzip + " -H 'Range: bytes=-50'");
    EXPECT_EQ(tail.status, 206);
    EXPECT_EQ(tail.header("Content-Range"),
              "bytes " + str(gz.size() - 50) + "-" + str(gz.size() - 1) + "/" + str(gz.size()));
    EXPECT_TRUE(tail.body == gz.substr(gz.size() - 50));

    HttpResponse matching =
        rawCurl(port, path, kGzip + " -H 'Range: bytes=10-19' -H 'If-Range: " + etag + "'");
    EXPECT_EQ(matching.status, 206);
    EXPECT_TRUE(matching.body == gz.substr(10, 10));

    // The identity representation's ranges are over the original bytes.
    const std::string& original = path == "/page.txt" ? text : big;
    HttpResponse identity = rawCurl(port, path, "-H 'Range: bytes=0-99'");
    EXPECT_EQ(identity.header("Content-Range"), "bytes 0-99/" + str(original.size()));
    EXPECT_EQ(identity.header("Content-Encoding"), "");
    EXPECT_TRUE(identity.body == original.substr(0, 100));
  }
}
