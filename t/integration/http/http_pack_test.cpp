// Tier: integration — site packs: bin/manifold-pack (build, --list, --verify, deterministic
// output) and `sites = DIR` serving them on the real binary: hosts, gzip forms, ranges,
// conditionals, HEAD, redirects; atomic swaps under load with every response checked against
// its ETag; removal; truncated, corrupt and foreign packs refused while the old one serves.
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

std::string packTool() { return binPath("manifold-pack"); }

// Builds DIR into OUT; returns the tool's exit code.
int pack(const std::string& dir, const std::string& out, const std::string& options = "") {
  int rc = -1;
  run("SOURCE_DATE_EPOCH=1700000000 " + packTool() + " -q " + options + " '" + dir + "' '" + out +
          "' 2>&1",
      &rc);
  return rc;
}

// path -> ETag, from --list.
std::map<std::string, std::string> etags(const std::string& packPath) {
  std::map<std::string, std::string> out;
  std::istringstream in(run(packTool() + " --list '" + packPath + "'"));
  std::string line;
  std::getline(in, line);  // the summary
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string kind, size, gz, mtime, etag, type, path;
    f >> kind >> size >> gz >> mtime >> etag >> type >> path;
    if (kind == "file") out[path] = etag;
  }
  return out;
}

// A small site: /index.html, /style.css (compressible), /img.bin (binary), /sub/index.html,
// /sub/page.txt, /empty/ (no index), /big.bin (sendfile-sized). `tag` varies the content.
void makeTree(const std::string& dir, const std::string& tag) {
  run("mkdir -p '" + dir + "/sub' '" + dir + "/empty'");
  writeFile(dir + "/index.html", "<h1>home " + tag + "</h1>\n");
  writeFile(dir + "/style.css", textOf(5000, "body{color:red} /*" + tag + "*/"));
  writeFile(dir + "/img.bin", pattern(3000, tag[1]));
  writeFile(dir + "/sub/index.html", "<p>sub " + tag + "</p>\n");
  writeFile(dir + "/sub/page.txt", textOf(20000, "page " + tag));
  writeFile(dir + "/big.bin", pattern(300000, tag[0]) + tag);
  run("touch -d '2024-01-02 03:04:05 UTC' $(find '" + dir + "')");
}

std::string packsSection(const std::string& extra = "") {
  return "[http:packs]\nlisten = 127.0.0.1:{port:packs}\nsites = {dir}/sites\n" + extra + "\n" +
         statusSection();
}

// Renames `from` over `to` (the atomic swap an operator does).
void swapIn(const std::string& from, const std::string& to) {
  ASSERT_EQ(rename(from.c_str(), to.c_str()), 0) << from << " -> " << to;
}

std::string hostGet(const std::string& path, const std::string& host,
                    const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra +
         "Connection: close\r\n\r\n";
}

}  // namespace

TEST(HttpPackTool, BuildListVerifyAndDeterministic) {
  std::string dir = makeTempDir();
  makeTree(dir + "/www", "one");
  ASSERT_EQ(pack(dir + "/www", dir + "/a.site"), 0);
  ASSERT_EQ(pack(dir + "/www", dir + "/b.site"), 0);
  EXPECT_EQ(sha256(dir + "/a.site"), sha256(dir + "/b.site"));
  // The same tree copied elsewhere (other inodes, other directory order): the same bytes.
  run("cp -a '" + dir + "/www' '" + dir + "/copy'");
  ASSERT_EQ(pack(dir + "/copy", dir + "/c.site"), 0);
  EXPECT_EQ(sha256(dir + "/a.site"), sha256(dir + "/c.site"));
  // A changed file changes the pack.
  writeFile(dir + "/copy/sub/page.txt", "changed");
  ASSERT_EQ(pack(dir + "/copy", dir + "/d.site"), 0);
  EXPECT_NE(sha256(dir + "/a.site"), sha256(dir + "/d.site"));
  // No temporary file is left beside the output.
  EXPECT_EQ(run("ls -A '" + dir + "' | grep -c tmp"), "0\n");

  std::string list = run(packTool() + " --list '" + dir + "/a.site'");
  EXPECT_NE(list.find("6 files, 11 entries"), std::string::npos) << list;
  EXPECT_NE(list.find("built Tue, 14 Nov 2023 22:13:20 GMT"), std::string::npos) << list;
  for (const char* path : {" /index.html", " /style.css", " /sub/page.txt", " /big.bin"})
    EXPECT_NE(list.find(path), std::string::npos) << path;
  EXPECT_NE(list.find("redirect"), std::string::npos);
  EXPECT_NE(list.find("text/css"), std::string::npos);
  std::map<std::string, std::string> tags = etags(dir + "/a.site");
  EXPECT_EQ(tags.size(), 8u);  // 6 files + "/" and "/sub/" repeating their index
  EXPECT_EQ(tags["/"], tags["/index.html"]);
  EXPECT_EQ(tags["/sub/"], tags["/sub/index.html"]);

  int rc = -1;
  std::string verified = run(packTool() + " --verify '" + dir + "/a.site' 2>&1", &rc);
  EXPECT_EQ(rc, 0) << verified;
  EXPECT_NE(verified.find("OK, 6 files"), std::string::npos) << verified;
  // One flipped byte of a body: --verify names the file and fails.
  run("cp '" + dir + "/a.site' '" + dir + "/bad.site'");
  long long size = atoll(run("stat -c %s '" + dir + "/bad.site'").c_str());
  run("printf 'X' | dd of='" + dir + "/bad.site' bs=1 seek=" + str(size / 2) +
      " conv=notrunc 2>/dev/null");
  verified = run(packTool() + " --verify '" + dir + "/bad.site' 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(verified.find(": body hash mismatch"), std::string::npos) << verified;
  // Not a pack at all.
  verified = run(packTool() + " --list '" + dir + "/www/index.html' 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(verified.find("not a site pack"), std::string::npos) << verified;
  run("rm -rf '" + dir + "'");
}

// On a terminal (script(1) gives it one) a large tree shows progress; in a pipe it does not.
TEST(HttpPackTool, ProgressOnATerminalOnly) {
  std::string dir = makeTempDir();
  run("mkdir -p " + dir + "/many && cd " + dir +
      "/many && for i in $(seq 1 250); do echo $i > f$i.txt; done");
  std::string tty =
      run("script -qec \"" + packTool() + " " + dir + "/many " + dir + "/a.site\" /dev/null");
  EXPECT_NE(tty.find("packing: 250/250 files"), std::string::npos) << tty;
  EXPECT_NE(tty.find("packing: 100/250 files"), std::string::npos) << tty;
  std::string piped = run(packTool() + " " + dir + "/many " + dir + "/b.site 2>&1");
  EXPECT_EQ(piped.find("packing:"), std::string::npos) << piped;
  EXPECT_NE(piped.find("250 files"), std::string::npos) << piped;  // the summary line
  EXPECT_EQ(sha256(dir + "/a.site"), sha256(dir + "/b.site"));
  run("rm -rf '" + dir + "'");
}

class HttpPack : public ::testing::Test {
 protected:
  void SetUp() override {
    m = std::make_unique<Instance>(packsSection());
    run("mkdir -p " + m->path("sites"));
    makeTree(m->path("one"), "one");
    makeTree(m->path("two"), "two");
    ASSERT_EQ(pack(m->path("one"), m->path("one.site")), 0);
    ASSERT_EQ(pack(m->path("two"), m->path("two.site")), 0);
  }
  void startServer() {
    ASSERT_TRUE(m->start()) << m->log();
    port = m->port("packs");
    status = m->port("status");
  }
  // Polled until 16 answers in a row (new connections, spread over the workers) pass `good`:
  // inotify is asynchronous and every worker loads packs on its own, so one answer shows only
  // that one worker has seen the change.
  template <typename Good>
  bool waitAllWorkers(const std::string& host, const std::string& path, Good good) {
    for (int i = 0; i < 100; ++i) {
      int row = 0;
      while (row < 16 && good(one(port, hostGet(path, host)))) ++row;
      if (row == 16) return true;
      sleepMs(50);
    }
    return false;
  }
  bool waitStatus(const std::string& host, int want, const std::string& path = "/") {
    return waitAllWorkers(host, path, [&](const Reply& r) { return r.status == want; });
  }
  bool waitBody(const std::string& host, const std::string& want) {
    return waitAllWorkers(host, "/", [&](const Reply& r) { return r.body == want; });
  }
  std::unique_ptr<Instance> m;
  int port = 0, status = 0;
};

TEST_F(HttpPack, ServesEachHostFromItsPack) {
  run("cp " + m->path("one.site") + " " + m->path("sites/one.example.site"));
  run("cp " + m->path("two.site") + " " + m->path("sites/_default.site"));
  startServer();
  std::map<std::string, std::string> tags = etags(m->path("one.site"));

  Reply r = one(port, hostGet("/", "one.example"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<h1>home one</h1>\n");
  EXPECT_EQ(r.header("Content-Type"), "text/html");
  EXPECT_EQ(r.header("ETag"), tags["/index.html"]);
  EXPECT_EQ(r.header("Last-Modified"), "Tue, 02 Jan 2024 03:04:05 GMT");
  // Host matching ignores case, the port and a trailing dot; other hosts get _default.
  EXPECT_EQ(one(port, hostGet("/", "ONE.Example.:8080")).body, "<h1>home one</h1>\n");
  EXPECT_EQ(one(port, hostGet("/", "other.example")).body, "<h1>home two</h1>\n");

  // Bodies byte-exact: small (copied), large (sendfile), binary.
  EXPECT_TRUE(one(port, hostGet("/big.bin", "one.example")).body ==
              readFile(m->path("one/big.bin")));
  EXPECT_TRUE(one(port, hostGet("/img.bin", "one.example")).body ==
              readFile(m->path("one/img.bin")));
  EXPECT_EQ(one(port, hostGet("/sub/", "one.example")).body, "<p>sub one</p>\n");

  // The stored gzip form, with its own validator; identity without Accept-Encoding.
  Reply gz = one(port, hostGet("/style.css", "one.example", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
  EXPECT_EQ(gz.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(gz.header("Content-Type"), "text/css");
  EXPECT_TRUE(gunzip(gz.body) == readFile(m->path("one/style.css")));
  EXPECT_LT(gz.body.size(), 5000u);
  EXPECT_EQ(gz.header("ETag"), tags["/style.css"].substr(0, 33) + "-gz\"");
  Reply plain = one(port, hostGet("/style.css", "one.example"));
  EXPECT_FALSE(plain.has("Content-Encoding"));
  EXPECT_TRUE(plain.body == readFile(m->path("one/style.css")));

  // Ranges: one range, a suffix, several (multipart), unsatisfiable.
  std::string big = readFile(m->path("one/big.bin"));
  Reply part = one(port, hostGet("/big.bin", "one.example", "Range: bytes=1000-200999\r\n"));
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 1000-200999/" + str(big.size()));
  EXPECT_TRUE(part.body == big.substr(1000, 200000));
  Reply suffix = one(port, hostGet("/img.bin", "one.example", "Range: bytes=-10\r\n"));
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, readFile(m->path("one/img.bin")).substr(2990));
  Reply multi = one(port, hostGet("/img.bin", "one.example", "Range: bytes=0-1,10-11\r\n"));
  EXPECT_EQ(multi.status, 206);
  EXPECT_NE(multi.header("Content-Type").find("multipart/byteranges"), std::string::npos);
  EXPECT_EQ(one(port, hostGet("/img.bin", "one.example", "Range: bytes=5000-\r\n")).status, 416);

  // Conditionals.
  EXPECT_EQ(one(port, hostGet("/index.html", "one.example",
                              "If-None-Match: " + tags["/index.html"] + "\r\n"))
                .status,
            304);
  EXPECT_EQ(one(port, hostGet("/index.html", "one.example", "If-Match: \"nope\"\r\n")).status, 412);
  EXPECT_EQ(one(port, hostGet("/index.html", "one.example",
                              "If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT\r\n"))
                .status,
            304);
  // HEAD: the head of the GET, no body.
  Reply head =
      one(port, "HEAD /big.bin HTTP/1.1\r\nHost: one.example\r\nConnection: close\r\n\r\n", true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), str(big.size()));
  EXPECT_EQ(head.body, "");

  // Directories: a redirect to the slash form (query kept), 403 without an index; misses.
  Reply redirect = one(port, hostGet("/sub?x=1", "one.example"));
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.header("Location"), "/sub/?x=1");
  EXPECT_EQ(one(port, hostGet("/empty/", "one.example")).status, 403);
  EXPECT_EQ(one(port, hostGet("/nothing", "one.example")).status, 404);
  EXPECT_EQ(one(port, hostGet("/sub/../index.html", "one.example")).status, 200);  // normalised
  // Pack sections are read-only.
  EXPECT_EQ(one(port,
                "PUT /x HTTP/1.1\r\nHost: one.example\r\nContent-Length: 1\r\n"
                "Connection: close\r\n\r\nx")
                .status,
            405);

  EXPECT_EQ(counter(status, "http:packs", "packs_live"), 2);
  EXPECT_EQ(counter(status, "http:packs", "pack_loads"), 2);
  EXPECT_GE(counter(status, "http:packs", "sendfile_responses"), 2);
}

// A pack over pack_memory_max keeps only its index in memory: small bodies are pread, large
// ones sent with sendfile, byte-exact all the same.
TEST_F(HttpPack, PacksOverTheMemoryLimitServeFromTheFile) {
  m->rewriteConfig(packsSection("pack_memory_max = 0"));
  run("cp " + m->path("one.site") + " " + m->path("sites/_default.site"));
  startServer();
  for (const char* path : {"/index.html", "/img.bin", "/style.css", "/big.bin", "/sub/page.txt"})
    EXPECT_TRUE(one(port, hostGet(path, "x")).body == readFile(m->path(std::string("one") + path)))
        << path;
  Reply gz = one(port, hostGet("/sub/page.txt", "x", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
  EXPECT_TRUE(gunzip(gz.body) == readFile(m->path("one/sub/page.txt")));
  Reply part = one(port, hostGet("/img.bin", "x", "Range: bytes=100-199\r\n"));
  EXPECT_EQ(part.status, 206);
  EXPECT_TRUE(part.body == readFile(m->path("one/img.bin")).substr(100, 100));
}

TEST_F(HttpPack, NewPackGoesLiveAndRemovalTakesTheSiteDown) {
  startServer();
  EXPECT_EQ(one(port, hostGet("/", "one.example")).status, 404);  // no pack, no _default
  run("cp " + m->path("one.site") + " " + m->path("sites/.incoming"));
  swapIn(m->path("sites/.incoming"), m->path("sites/one.example.site"));
  ASSERT_TRUE(waitStatus("one.example", 200));
  EXPECT_EQ(one(port, hostGet("/", "one.example")).body, "<h1>home one</h1>\n");
  EXPECT_EQ(one(port, hostGet("/", "two.example")).status, 404);
  // Written in place by cp (close after write) works too.
  run("cp " + m->path("two.site") + " " + m->path("sites/_default.site"));
  ASSERT_TRUE(waitStatus("two.example", 200));
  EXPECT_EQ(one(port, hostGet("/", "two.example")).body, "<h1>home two</h1>\n");

  ASSERT_EQ(unlink(m->path("sites/one.example.site").c_str()), 0);
  // Now answered by _default, once the removal is noticed (its pack served meanwhile).
  EXPECT_TRUE(waitBody("one.example", "<h1>home two</h1>\n"));
  swapIn(m->path("sites/_default.site"), m->path("moved-away.site"));
  ASSERT_TRUE(waitStatus("one.example", 404));
  ASSERT_TRUE(m->waitForLog("pack " + m->path("sites") + "/_default.site removed"));
  EXPECT_EQ(counter(status, "http:packs", "pack_removals"), 2);
  EXPECT_EQ(counter(status, "http:packs", "packs_live"), 0);
  // Removed hosts leave the board.
  std::string shm = run(binPath("manifold-shm") + " -n " + m->shmName() + " http:packs/packs");
  EXPECT_NE(shm.find("(no rows)"), std::string::npos) << shm;
}

TEST_F(HttpPack, TruncatedCorruptAndForeignPacksAreRefusedWhileTheOldOneServes) {
  run("cp " + m->path("one.site") + " " + m->path("sites/_default.site"));
  startServer();
  std::string good = one(port, hostGet("/", "x")).header("ETag");
  ASSERT_FALSE(good.empty());
  long long size = atoll(run("stat -c %s " + m->path("one.site")).c_str());

  run("head -c " + str(size - 7) + " " + m->path("two.site") + " > " + m->path("cut"));
  swapIn(m->path("cut"), m->path("sites/_default.site"));
  ASSERT_TRUE(
      m->waitForLog("pack " + m->path("sites/_default.site") + " refused: truncated or extended"));
  EXPECT_TRUE(m->waitForLog("(the previous pack keeps serving)"));

  run("cp " + m->path("two.site") + " " + m->path("corrupt"));
  run("printf 'Q' | dd of=" + m->path("corrupt") + " bs=1 seek=300 conv=notrunc 2>/dev/null");
  swapIn(m->path("corrupt"), m->path("sites/_default.site"));
  ASSERT_TRUE(m->waitForLog("refused: corrupt index (metadata hash mismatch)"));

  // One flipped byte in a body (the last bytes of the pack are /sub/page.txt's gzip form).
  run("cp " + m->path("two.site") + " " + m->path("badbody"));
  long long twoSize = atoll(run("stat -c %s " + m->path("two.site")).c_str());
  run("printf 'Q' | dd of=" + m->path("badbody") + " bs=1 seek=" + str(twoSize - 100) +
      " conv=notrunc 2>/dev/null");
  swapIn(m->path("badbody"), m->path("sites/_default.site"));
  ASSERT_TRUE(m->waitForLog("refused: corrupt body (/sub/page.txt: gzip form hash mismatch)"));

  writeFile(m->path("foreign"), "GIF89a" + pattern(4000));
  swapIn(m->path("foreign"), m->path("sites/_default.site"));
  ASSERT_TRUE(m->waitForLog("refused: not a site pack (no MFLDPACK magic)"));

  // A refused pack for a new host does not bring the host up.
  writeFile(m->path("empty"), "");
  swapIn(m->path("empty"), m->path("sites/new.example.site"));
  ASSERT_TRUE(m->waitForLog("new.example.site refused: truncated"));

  // Through all of it the first pack kept answering, every worker, every host.
  for (int i = 0; i < 20; ++i) {
    Reply r = one(port, hostGet("/", i % 2 ? "x" : "new.example"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("ETag"), good);
    EXPECT_EQ(r.body, "<h1>home one</h1>\n");
  }
  EXPECT_EQ(counter(status, "http:packs", "packs_refused"), 5);
  EXPECT_EQ(counter(status, "http:packs", "pack_swaps"), 0);
  // A good pack after the bad ones is taken.
  run("cp " + m->path("two.site") + " " + m->path("good"));
  swapIn(m->path("good"), m->path("sites/_default.site"));
  EXPECT_TRUE(waitBody("x", "<h1>home two</h1>\n"));
  EXPECT_EQ(counter(status, "http:packs", "pack_swaps"), 1);

  // Per host, the pack in use and what happened to it: manifold-shm and the metrics endpoint.
  std::string shm = run(binPath("manifold-shm") + " -n " + m->shmName() + " http:packs/packs");
  // The row, whitespace collapsed: host, path, build time, files, loaded at, swaps, refused.
  std::string row = run(binPath("manifold-shm") + " -n " + m->shmName() +
                        " http:packs/packs | grep ' _default ' | tr -s ' '");
  EXPECT_EQ(row.substr(0, row.rfind(' ', row.rfind(' ', row.rfind(' ') - 1) - 1)),
            " _default " + m->path("sites/_default.site") + " 1700000000 6")
      << shm;
  EXPECT_EQ(row.substr(row.rfind(' ', row.rfind(' ') - 1)), " 1 4\n") << shm;
  std::string metrics = one(status, getClose("/metrics")).body;
  std::string labels =
      "{service=\"http:packs\",host=\"_default\",path=\"" + m->path("sites/_default.site") + "\"} ";
  EXPECT_NE(metrics.find("manifold_http_pack_files" + labels + "6\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("manifold_http_pack_build_time_seconds" + labels + "1700000000\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("manifold_http_pack_refused_total" + labels + "4\n"), std::string::npos);
  EXPECT_NE(metrics.find("manifold_http_pack_swaps_total" + labels + "1\n"), std::string::npos);
  EXPECT_EQ(metrics.find("host=\"new.example\""), std::string::npos);  // never live
  std::string json = one(status, getClose("/metrics.json")).body;
  EXPECT_NE(json.find("\"boards\":[{\"region\":\"http:packs/packs\",\"family\":\"http_pack\""),
            std::string::npos)
      << json;
}

// Packs swapped every 100 ms while keep-alive clients fetch every file: each response must be
// whole and be exactly the body its ETag names (from either version), none may fail.
TEST_F(HttpPack, SwapUnderLoadEveryResponseMatchesItsEtag) {
  swapIn(m->path("one.site"), m->path("sites/_default.site"));
  startServer();
  // ETag -> body, both versions (the gzip forms are not asked for).
  std::map<std::string, std::string> expected;
  std::vector<std::string> paths = {"/index.html", "/style.css", "/img.bin", "/sub/page.txt",
                                    "/big.bin"};
  for (const char* v : {"one", "two"}) {
    // Rebuilt beside (the first was renamed into the sites directory): the same bytes.
    ASSERT_EQ(pack(m->path(v), m->path(std::string(v) + ".copy")), 0);
    std::map<std::string, std::string> tags = etags(m->path(std::string(v) + ".copy"));
    for (const std::string& p : paths) expected[tags[p]] = readFile(m->path(v + p));
  }
  ASSERT_EQ(expected.size(), paths.size() * 2);

  std::atomic<bool> stop{false};
  std::atomic<long> ok{0}, bad{0};
  std::mutex mu;
  std::set<std::string> seen;
  std::string firstProblem;
  auto client = [&](int seed) {
    size_t i = seed;
    while (!stop) {
      RawClient c(port);
      for (int k = 0; k < 50 && !stop; ++k, ++i) {
        const std::string& p = paths[i % paths.size()];
        Reply r = c.exchange("GET " + p + " HTTP/1.1\r\nHost: h\r\n\r\n");
        auto it = expected.find(r.header("ETag"));
        if (r.status == 200 && it != expected.end() && r.body == it->second) {
          ++ok;
          std::lock_guard<std::mutex> lock(mu);
          seen.insert(r.header("ETag"));
        } else {
          ++bad;
          std::lock_guard<std::mutex> lock(mu);
          if (firstProblem.empty())
            firstProblem = p + ": " + r.statusLine() + " etag " + r.header("ETag") + " body " +
                           str(r.body.size());
          break;  // a new connection
        }
      }
    }
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) clients.emplace_back(client, t);
  int swaps = 0;
  for (auto start = Clock::now(); secondsSince(start) < 4; ++swaps) {
    const char* v = swaps % 2 ? "one" : "two";
    ASSERT_EQ(link(m->path(std::string(v) + ".copy").c_str(), m->path("sites/.next").c_str()), 0);
    swapIn(m->path("sites/.next"), m->path("sites/_default.site"));
    sleepMs(100);
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad.load(), 0) << firstProblem;
  EXPECT_GT(ok.load(), 100);
  EXPECT_GE(swaps, 20);
  EXPECT_EQ(seen.size(), expected.size());  // both versions of every file were served
  // Swaps are counted once per instance (not per worker), once the last events are read.
  for (int i = 0; i < 100 && counter(status, "http:packs", "pack_swaps") < swaps; ++i) sleepMs(50);
  EXPECT_EQ(counter(status, "http:packs", "pack_swaps"), swaps);
}

TEST(HttpPackConfig, SitesRefuseRootAndWebdav) {
  std::string dir = makeTempDir();
  run("mkdir -p " + dir + "/sites");
  auto check = [&](const std::string& extra) {
    writeFile(dir + "/m.ini",
              "[http:p]\nlisten = 127.0.0.1:1\nsites = " + dir + "/sites\n" + extra);
    int rc = -1;
    std::string out = run(binPath("manifold") + " -t -c " + dir + "/m.ini 2>&1", &rc);
    EXPECT_NE(rc, 0) << out;
    return out;
  };
  std::string both = check("root = " + dir + "\n");
  EXPECT_NE(both.find("m.ini:3: sites: a section serves either a root directory or site packs"),
            std::string::npos)
      << both;
  std::string dav = check("webdav = on\n");
  EXPECT_NE(dav.find("m.ini:4: webdav: site packs are read-only"), std::string::npos) << dav;
  writeFile(dir + "/m.ini", "[http:p]\nlisten = 127.0.0.1:1\nsites = " + dir + "/none\n");
  int rc = -1;
  std::string missing = run(binPath("manifold") + " -t -c " + dir + "/m.ini 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(missing.find("m.ini:3: sites:"), std::string::npos) << missing;
  run("rm -rf '" + dir + "'");
}
