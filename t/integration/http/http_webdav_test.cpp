// Tier: integration — the WebDAV subset of the static web server (PUT, DELETE, MKCOL) with real
// curl uploads, raw sockets for aborted bodies, and the caches after writes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {
// Names in a directory (with dot files), sorted, one per line.
std::string listing(const std::string& dir) { return run("ls -A1 '" + dir + "' | sort"); }
}  // namespace

// [http:dav] webdav on (4M body limit), [http:full] also create_full_put_path, [http:ro]
// webdav off, [http:nox] webdav on without xcache; all over the same root.
class HttpWebdav : public ::testing::Test {
 protected:
  void SetUp() override {
    m = std::make_unique<Instance>(
        httpSection("dav", "{dir}/www", "webdav = on\nclient_max_body_size = 4M") +
        httpSection("full", "{dir}/www", "webdav = on\ncreate_full_put_path = on") +
        httpSection("ro", "{dir}/www") +
        httpSection("nox", "{dir}/www", "webdav = on\nxcache_size = 0") + statusSection());
    run("mkdir -p " + m->path("www/dir"));
    writeFile(m->path("www/existing.txt"), "old content\n");
    ASSERT_TRUE(m->start()) << m->log();
    dav = m->port("dav");
    full = m->port("full");
    ro = m->port("ro");
    nox = m->port("nox");
    status = m->port("status");
  }
  std::string url(int port, const std::string& path) {
    return "http://127.0.0.1:" + str(port) + path;
  }
  std::unique_ptr<Instance> m;
  int dav = 0, full = 0, ro = 0, nox = 0, status = 0;
};

TEST_F(HttpWebdav, PutCreatesThenReplaces) {
  writeFile(m->path("upload.txt"), "first version\n");
  HttpResponse created = curl(dav, "/new.txt", "-T " + m->path("upload.txt"));
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.header("Location"), "/new.txt");
  EXPECT_EQ(created.header("Content-Length"), "0");
  EXPECT_EQ(readFile(m->path("www/new.txt")), "first version\n");
  EXPECT_EQ(curl(dav, "/new.txt").body, "first version\n");

  writeFile(m->path("upload.txt"), "second\n");
  HttpResponse replaced = curl(dav, "/new.txt", "-T " + m->path("upload.txt"));
  EXPECT_EQ(replaced.status, 204);
  EXPECT_EQ(replaced.body, "");
  EXPECT_EQ(curl(dav, "/new.txt").body, "second\n");
  EXPECT_EQ(readFile(m->path("www/new.txt")), "second\n");

  // Names with escapes, an empty body, binary content.
  std::string binary = pattern(70000, 5);
  writeFile(m->path("upload.bin"), binary);
  EXPECT_EQ(curl(dav, "/dir/with%20space.bin", "-T " + m->path("upload.bin")).status, 201);
  EXPECT_TRUE(readFile(m->path("www/dir/with space.bin")) == binary);
  EXPECT_TRUE(curl(dav, "/dir/with%20space.bin").body == binary);
  Reply empty = one(
      dav, "PUT /empty.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(empty.status, 201);
  EXPECT_TRUE(fileExists(m->path("www/empty.txt")));
  EXPECT_EQ(readFile(m->path("www/empty.txt")), "");
  // Uploaded files are readable by others, like files made by hand.
  struct stat st;
  ASSERT_EQ(stat(m->path("www/new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // A PUT on a directory or on the root is refused.
  EXPECT_EQ(curl(dav, "/dir", "-T " + m->path("upload.txt")).status, 409);
  EXPECT_EQ(listing(m->path("www")), "dir\nempty.txt\nexisting.txt\nnew.txt\n");
}

TEST_F(HttpWebdav, PutLargerThanTheLimitIs413) {
  run("head -c 5000000 /dev/urandom > " + m->path("five.bin"));
  // curl announces the length and waits for 100-continue: the 413 comes before the body.
  HttpResponse r = curl(dav, "/five.bin", "-T " + m->path("five.bin"));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_FALSE(fileExists(m->path("www/five.bin")));
  // Raw, with the body following at once.
  Reply raw = one(dav, "PUT /raw.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 4194305\r\n\r\n" +
                           std::string(100000, 'x'));
  EXPECT_EQ(raw.status, 413);
  EXPECT_FALSE(fileExists(m->path("www/raw.bin")));
  // Chunked: the limit is found while reading; the server answers 413 (or curl sees the close
  // first), and nothing is created either way.
  HttpResponse chunked =
      curl(dav, "/chunked.bin", "-T - -H 'Transfer-Encoding: chunked' < " + m->path("five.bin"));
  EXPECT_TRUE(chunked.status == 413 || chunked.status == 0) << chunked.status;
  EXPECT_FALSE(fileExists(m->path("www/chunked.bin")));
  // Exactly at the limit is fine.
  run("head -c 4194304 /dev/urandom > " + m->path("four.bin"));
  EXPECT_EQ(curl(dav, "/four.bin", "-T " + m->path("four.bin")).status, 201);
  EXPECT_EQ(sha256(m->path("www/four.bin")), sha256(m->path("four.bin")));
  EXPECT_EQ(listing(m->path("www")), "dir\nexisting.txt\nfour.bin\n");
}

TEST_F(HttpWebdav, PutIntoAMissingDirectory) {
  writeFile(m->path("upload.txt"), "deep\n");
  EXPECT_EQ(curl(dav, "/missing/file.txt", "-T " + m->path("upload.txt")).status, 409);
  EXPECT_FALSE(fileExists(m->path("www/missing")));
  EXPECT_EQ(curl(dav, "/existing.txt/file.txt", "-T " + m->path("upload.txt")).status, 409);

  HttpResponse created = curl(full, "/a/b/c/file.txt", "-T " + m->path("upload.txt"));
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(readFile(m->path("www/a/b/c/file.txt")), "deep\n");
  EXPECT_EQ(curl(full, "/a/b/c/file.txt").body, "deep\n");
  EXPECT_EQ(curl(full, "/a/b/other.txt", "-T " + m->path("upload.txt")).status, 201);
  EXPECT_EQ(readFile(m->path("www/a/b/other.txt")), "deep\n");
  // Never above the root, even with create_full_put_path.
  Reply escape = one(full,
                     "PUT /x/../../escape.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                     "Connection: close\r\n\r\nabc");
  EXPECT_EQ(escape.status, 400);
  EXPECT_FALSE(fileExists(m->path("escape.txt")));
}

TEST_F(HttpWebdav, ChunkedAndExpectContinueUploads) {
  std::string body = pattern(300000, 9);
  writeFile(m->path("chunked.bin"), body);
  HttpResponse chunked =
      curl(dav, "/chunked.bin", "-T - -H 'Transfer-Encoding: chunked' < " + m->path("chunked.bin"));
  EXPECT_EQ(chunked.status, 201);
  EXPECT_TRUE(readFile(m->path("www/chunked.bin")) == body);
  EXPECT_TRUE(curl(dav, "/chunked.bin").body == body);
  // Raw chunked with extensions and a trailer.
  Reply raw =
      one(dav,
          "PUT /raw.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
          "Connection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: y\r\n\r\n");
  EXPECT_EQ(raw.status, 201);
  EXPECT_EQ(readFile(m->path("www/raw.txt")), "hello world");

  // curl sends "Expect: 100-continue" for bodies over 1 MB.
  run("head -c 2500000 /dev/urandom > " + m->path("two.bin"));
  int rc = -1;
  std::string out =
      run("curl -s -i --max-time 10 -T " + m->path("two.bin") + " " + url(dav, "/two.bin"), &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n", 0), 0u) << out;
  EXPECT_EQ(sha256(m->path("www/two.bin")), sha256(m->path("two.bin")));
  out = run("curl -s -o " + m->path("got.bin") + " -w '%{http_code}' " + url(dav, "/two.bin"));
  EXPECT_EQ(out, "200");
  EXPECT_EQ(sha256(m->path("got.bin")), sha256(m->path("two.bin")));
  // Raw: 100 Continue, then the final status after the body.
  RawClient client(dav);
  client.send(
      "PUT /cont.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  Reply interim;
  ASSERT_TRUE(client.read(interim));
  EXPECT_EQ(interim.statusLine(), "HTTP/1.1 100 Continue");
  client.send("abcd");
  Reply done;
  ASSERT_TRUE(client.read(done));
  EXPECT_EQ(done.status, 201);
  EXPECT_EQ(readFile(m->path("www/cont.txt")), "abcd");
  // The connection goes on.
  EXPECT_EQ(client.exchange(get("/cont.txt")).body, "abcd");
}

TEST_F(HttpWebdav, AbortedUploadLeavesNothing) {
  std::string before = listing(m->path("www"));
  {
    RawClient client(dav);
    client.send("PUT /aborted.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                std::string(1000, 'z'));
    sleepMs(100);
  }  // closed with 999000 bytes missing
  {
    RawClient client(dav);  // the same over an existing file: it stays as it was
    client.send("PUT /existing.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                std::string(1000, 'z'));
    sleepMs(100);
  }
  {
    RawClient client(dav);  // chunked, cut in the middle of a chunk
    client.send(
        "PUT /aborted2.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "1000\r\n" +
        std::string(100, 'z'));
    sleepMs(100);
  }
  sleepMs(200);
  EXPECT_EQ(listing(m->path("www")), before);
  EXPECT_EQ(listing(m->path("www")), "dir\nexisting.txt\n");
  EXPECT_EQ(readFile(m->path("www/existing.txt")), "old content\n");
  EXPECT_EQ(curl(dav, "/aborted.bin").status, 404);
  EXPECT_EQ(curl(dav, "/existing.txt").body, "old content\n");
  EXPECT_EQ(counter(status, "http:dav", "requests_incomplete"), 3);
  EXPECT_EQ(counter(status, "http:dav", "connections_open"), 0);
}

TEST_F(HttpWebdav, DeleteFilesAndDirectories) {
  writeFile(m->path("www/gone.txt"), "bye\n");
  EXPECT_EQ(curl(dav, "/gone.txt").body, "bye\n");  // cached now
  HttpResponse deleted = curl(dav, "/gone.txt", "-X DELETE");
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.body, "");
  EXPECT_FALSE(fileExists(m->path("www/gone.txt")));
  EXPECT_EQ(curl(dav, "/gone.txt").status, 404);
  EXPECT_EQ(curl(dav, "/gone.txt", "-X DELETE").status, 404);

  run("mkdir -p " + m->path("www/tree/a/b") + " " + m->path("www/tree/c"));
  writeFile(m->path("www/tree/a/b/f.txt"), "f");
  writeFile(m->path("www/tree/c/g.txt"), "g");
  writeFile(m->path("www/tree/.hidden"), "h");
  run("ln -s " + m->path("www/existing.txt") + " " + m->path("www/tree/link"));
  EXPECT_EQ(curl(dav, "/tree/c/g.txt").body, "g");
  EXPECT_EQ(curl(dav, "/tree/", "-X DELETE").status, 204);
  EXPECT_FALSE(fileExists(m->path("www/tree")));
  EXPECT_EQ(readFile(m->path("www/existing.txt")), "old content\n");  // the link's target stays
  EXPECT_EQ(curl(dav, "/tree/c/g.txt").status, 404);
  run("mkdir -p " + m->path("www/t2/x"));
  EXPECT_EQ(curl(dav, "/t2", "-X DELETE").status, 204);
  EXPECT_FALSE(fileExists(m->path("www/t2")));
  // Never the root, never above it.
  EXPECT_EQ(curl(dav, "/", "-X DELETE").status, 403);
  EXPECT_EQ(one(dav, "DELETE /../www HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status,
            400);
  EXPECT_TRUE(fileExists(m->path("www/existing.txt")));
}

TEST_F(HttpWebdav, Mkcol) {
  HttpResponse created = curl(dav, "/newdir", "-X MKCOL");
  EXPECT_EQ(created.status, 201);
  struct stat st;
  ASSERT_EQ(stat(m->path("www/newdir").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  HttpResponse again = curl(dav, "/newdir", "-X MKCOL");
  EXPECT_EQ(again.status, 405);
  EXPECT_EQ(again.header("Allow"), "GET, HEAD, OPTIONS, PUT, DELETE, MKCOL");
  EXPECT_EQ(curl(dav, "/existing.txt", "-X MKCOL").status, 405);
  EXPECT_EQ(curl(dav, "/missing/sub", "-X MKCOL").status, 409);
  EXPECT_FALSE(fileExists(m->path("www/missing")));
  Reply withBody = one(dav,
                       "MKCOL /bodied HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                       "Content-Length: 7\r\nConnection: close\r\n\r\n<x></x>");
  EXPECT_EQ(withBody.status, 415);
  EXPECT_FALSE(fileExists(m->path("www/bodied")));
  // A trailing slash names the same collection; a new one is usable at once.
  EXPECT_EQ(curl(dav, "/newdir/inner/", "-X MKCOL").status, 201);
  writeFile(m->path("upload.txt"), "inside\n");
  EXPECT_EQ(curl(dav, "/newdir/inner/f.txt", "-T " + m->path("upload.txt")).status, 201);
  EXPECT_EQ(curl(dav, "/newdir/inner/f.txt").body, "inside\n");
}

TEST_F(HttpWebdav, DisabledWebdavRefusesWrites) {
  writeFile(m->path("upload.txt"), "nope\n");
  HttpResponse put = curl(ro, "/new.txt", "-T " + m->path("upload.txt"));
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(curl(ro, "/existing.txt", "-X DELETE").status, 405);
  EXPECT_EQ(curl(ro, "/newdir", "-X MKCOL").status, 405);
  EXPECT_FALSE(fileExists(m->path("www/new.txt")));
  EXPECT_FALSE(fileExists(m->path("www/newdir")));
  EXPECT_EQ(readFile(m->path("www/existing.txt")), "old content\n");
  // A large refused body does not hang the client.
  run("head -c 2000000 /dev/urandom > " + m->path("two.bin"));
  auto start = Clock::now();
  EXPECT_EQ(curl(ro, "/two.bin", "-T " + m->path("two.bin")).status, 405);
  EXPECT_LT(msSince(start), 2000);
  EXPECT_FALSE(fileExists(m->path("www/two.bin")));
}

TEST_F(HttpWebdav, UploadsUpdateTheCachesAtOnce) {
  // The file is cached (xcache and every worker's stat cache, file_check_interval = 1s).
  for (int i = 0; i < 6; ++i) ASSERT_EQ(one(dav, getClose("/existing.txt")).body, "old content\n");
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(curl(dav, "/existing.txt", "--compressed").body, "old content\n");
  std::vector<std::string> versions = {"new content\n", "a longer new content\n", "short\n"};
  for (auto& content : versions) {
    writeFile(m->path("upload.txt"), content);
    ASSERT_EQ(curl(dav, "/existing.txt", "-T " + m->path("upload.txt")).status, 204);
    for (int i = 0; i < 6; ++i) {  // new connections: both workers, at once
      Reply r = one(dav, getClose("/existing.txt"));
      EXPECT_EQ(r.body, content);
      EXPECT_EQ(r.header("Content-Length"), str(content.size()));
    }
  }
  // Through another site on the same root too (its own caches, same shm generation).
  EXPECT_EQ(one(ro, getClose("/existing.txt")).body, "short\n");
  // And after DELETE and MKCOL.
  ASSERT_EQ(curl(dav, "/existing.txt", "-X DELETE").status, 204);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(one(dav, getClose("/existing.txt")).status, 404);
  EXPECT_EQ(one(dav, getClose("/made")).status, 404);
  ASSERT_EQ(curl(dav, "/made", "-X MKCOL").status, 201);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(one(dav, getClose("/made")).status, 301);
}

TEST_F(HttpWebdav, UploadsUpdateTheCachesAtOnceWithoutXcache) {
  // xcache_size = 0: no shared cache, but every worker's stat cache still follows the writes.
  for (int i = 0; i < 6; ++i) ASSERT_EQ(one(nox, getClose("/existing.txt")).body, "old content\n");
  std::vector<std::string> versions = {"new content\n", "a longer new content\n", "short\n"};
  for (auto& content : versions) {
    writeFile(m->path("upload.txt"), content);
    ASSERT_EQ(curl(nox, "/existing.txt", "-T " + m->path("upload.txt")).status, 204);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(one(nox, getClose("/existing.txt")).body, content);
  }
  ASSERT_EQ(curl(nox, "/existing.txt", "-X DELETE").status, 204);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(one(nox, getClose("/existing.txt")).status, 404);
}
