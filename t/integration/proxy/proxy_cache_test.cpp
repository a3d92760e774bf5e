// Tier: end-to-end — the [proxy:NAME] cache (cache = on) against real origins: Manifold's own
// static server, nginx, and a scripted origin whose answers (Cache-Control, ETag, delays, cuts)
// each test chooses and whose requests it counts.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"
#include "t/integration/proxy/proxy_origins.hpp"

using namespace manifold::testing;

namespace {

std::string cacheSection(const std::string& backend, const std::string& extra = "") {
  return "[proxy:edge]\nlisten = 127.0.0.1:{port:edge}\nbackend = " + backend +
         "\ncache = on\ncache_memory = 8m\n" + extra + "\n";
}

long long shmCounter(const Instance& m, const std::string& title, const std::string& name) {
  return jsonCounter(run(binPath("manifold-shm") + " -n " + m.shmName() + " --json"), title, name);
}

// A whole response with the given extra header lines and body, then the close.
void respond(int fd, const std::string& headers, const std::string& body, int status = 200) {
  sendAll(fd, "HTTP/1.1 " + str(status) + " X\r\n" + headers +
                  "Content-Length: " + str(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

Reply fetch(int port, const std::string& path, const std::string& extra = "") {
  return one(port, "GET " + path + " HTTP/1.1\r\nHost: cache.test\r\n" + extra +
                       "Connection: close\r\n\r\n");
}

// The origin's view of what it answered, shared with the scripted origin's thread.
struct Script {
  std::mutex mutex;
  std::vector<std::string> heads;
  void record(const std::string& head) {
    std::lock_guard<std::mutex> lock(mutex);
    heads.push_back(head);
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return heads.size();
  }
  std::string last() {
    std::lock_guard<std::mutex> lock(mutex);
    return heads.empty() ? "" : heads.back();
  }
};

}  // namespace

// Miss then hit from Manifold's static server: the same bytes, Age, X-Cache; HEAD, a range, a
// conditional request and a multi-range request answered from the stored object; the origin
// saw one request.
TEST(ProxyCache, HitsAnswerHeadRangesAndConditionalsFromTheStoredObject) {
  Instance m(
      httpSection("origin", "{dir}/www", "gzip = off\n") + cacheSection("127.0.0.1:{port:origin}"),
      "", 2);
  run("mkdir -p " + m.path("www"));
  std::string body = pattern(5000, 3);
  writeFile(m.path("www/a.bin"), body);
  run("touch -d '10 days ago' " + m.path("www/a.bin"));  // a heuristic lifetime of about a day
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");

  Reply miss = fetch(edge, "/a.bin");
  EXPECT_EQ(miss.status, 200);
  EXPECT_EQ(miss.header("X-Cache"), "MISS");
  EXPECT_EQ(miss.body, body);
  for (int i = 0; i < 4; ++i) {  // both workers, several connections
    Reply hit = fetch(edge, "/a.bin");
    EXPECT_EQ(hit.status, 200);
    EXPECT_EQ(hit.header("X-Cache"), "HIT");
    EXPECT_EQ(hit.body, body);
    EXPECT_TRUE(hit.has("Age"));
    EXPECT_EQ(hit.header("ETag"), miss.header("ETag"));
  }
  Reply head =
      one(edge, "HEAD /a.bin HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n", true);
  EXPECT_EQ(head.header("X-Cache"), "HIT");
  EXPECT_EQ(head.header("Content-Length"), "5000");
  Reply range = fetch(edge, "/a.bin", "Range: bytes=100-199\r\n");
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.header("Content-Range"), "bytes 100-199/5000");
  EXPECT_EQ(range.body, body.substr(100, 100));
  Reply multi = fetch(edge, "/a.bin", "Range: bytes=0-9,20-29\r\n");
  EXPECT_EQ(multi.status, 206);
  EXPECT_NE(multi.header("Content-Type").find("multipart/byteranges"), std::string::npos);
  Reply unsat = fetch(edge, "/a.bin", "Range: bytes=9000-\r\n");
  EXPECT_EQ(unsat.status, 416);
  Reply cond = fetch(edge, "/a.bin", "If-None-Match: " + miss.header("ETag") + "\r\n");
  EXPECT_EQ(cond.status, 304);
  EXPECT_EQ(cond.header("ETag"), miss.header("ETag"));
  EXPECT_EQ(shmCounter(m, "http:origin", "requests"), 1);
  EXPECT_GE(shmCounter(m, "proxy:edge", "proxy_cache_hits"), 8);
  EXPECT_EQ(shmCounter(m, "proxy:edge", "proxy_cache_stores"), 1);
  std::string listing = run(binPath("manifold-shm") + " -n " + m.shmName() + " cache");
  EXPECT_NE(listing.find("proxy:edge: 1 objects, 5000 body bytes in memory"), std::string::npos)
      << listing;
  EXPECT_NE(listing.find("cache.test/a.bin"), std::string::npos) << listing;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Vary: each variant is stored on its own (gzip and identity from the static server), and a
// request's variant never answers another's.
TEST(ProxyCache, VariantsByVaryAreStoredSeparately) {
  Instance m(
      httpSection("origin", "{dir}/www", "gzip = on\n") + cacheSection("127.0.0.1:{port:origin}"),
      "", 1);
  run("mkdir -p " + m.path("www"));
  std::string text = textOf(20000, "variant");
  writeFile(m.path("www/t.txt"), text);
  run("touch -d '10 days ago' " + m.path("www/t.txt"));
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  const std::string gz = "Accept-Encoding: gzip\r\n";
  EXPECT_EQ(fetch(edge, "/t.txt").header("X-Cache"), "MISS");
  Reply zipped = fetch(edge, "/t.txt", gz);
  EXPECT_EQ(zipped.header("X-Cache"), "MISS");  // another variant: fetched
  EXPECT_EQ(zipped.header("Content-Encoding"), "gzip");
  Reply plain = fetch(edge, "/t.txt");
  EXPECT_EQ(plain.header("X-Cache"), "HIT");
  EXPECT_EQ(plain.body, text);
  EXPECT_FALSE(plain.has("Content-Encoding"));
  Reply zippedHit = fetch(edge, "/t.txt", gz);
  EXPECT_EQ(zippedHit.header("X-Cache"), "HIT");
  EXPECT_EQ(gunzip(zippedHit.body), text);
  EXPECT_EQ(shmCounter(m, "http:origin", "requests"), 2);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// An object that must be revalidated every time (a fresh file: heuristic lifetime 0) is
// confirmed with a conditional request; the origin answers 304 and the client gets the stored
// body, marked REVALIDATED. nginx as the origin.
TEST(ProxyCache, RevalidatesWithConditionalRequestsAnswered304) {
  NginxOrigins nginx({"n1"});
  ASSERT_TRUE(nginx.ok());
  Instance m(cacheSection("127.0.0.1:" + str(nginx.ports()[0]), "cache_heuristic_percent = 0\n"),
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  // The echo origin sends no validators: stored without freshness? Not stored at all.
  Reply first = fetch(edge, "/echo");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-Cache"), "MISS");
  EXPECT_EQ(fetch(edge, "/echo").header("X-Cache"), "MISS");  // no freshness information
  EXPECT_EQ(shmCounter(m, "proxy:edge", "proxy_cache_stores"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();

  // Manifold's static origin: ETag and Last-Modified; a lifetime of 0 means revalidate each time.
  Instance s(httpSection("origin", "{dir}/www", "gzip = off\nfile_check_interval = 0\n") +
                 cacheSection("127.0.0.1:{port:origin}", "cache_heuristic_percent = 0\n"),
             "", 1);
  run("mkdir -p " + s.path("www"));
  writeFile(s.path("www/r.txt"), "revalidate me\n");
  run("touch -d '3 days ago' " + s.path("www/r.txt"));
  ASSERT_TRUE(s.start()) << s.log();
  edge = s.port("edge");
  EXPECT_EQ(fetch(edge, "/r.txt").header("X-Cache"), "MISS");
  for (int i = 0; i < 3; ++i) {
    Reply r = fetch(edge, "/r.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Cache"), "REVALIDATED");
    EXPECT_EQ(r.body, "revalidate me\n");
  }
  EXPECT_EQ(shmCounter(s, "http:origin", "responses_3xx"), 3);  // the 304s
  EXPECT_EQ(shmCounter(s, "proxy:edge", "proxy_cache_revalidated"), 3);
  // The file changes: the conditional request gets a 200 and the new body is stored.
  writeFile(s.path("www/r.txt"), "changed\n");
  run("touch -d '2 days ago' " + s.path("www/r.txt"));
  Reply changed = fetch(edge, "/r.txt");
  EXPECT_EQ(changed.body, "changed\n");
  EXPECT_EQ(fetch(edge, "/r.txt").body, "changed\n");
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// The 304 merges its fields into the stored object (RFC 9111 3.2): a new Cache-Control and a
// new header value are served afterwards, and the new max-age makes the object fresh.
TEST(ProxyCache, NotModifiedUpdatesTheStoredFields) {
  Script seen;
  ScriptedOrigin origin([&](int fd, const std::string& head) {
    seen.record(head);
    if (head.find("If-None-Match: \"v1\"") != std::string::npos) {
      sendAll(fd,
              "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=100\r\n"
              "X-Version: second\r\nConnection: close\r\n\r\n");
      return;
    }
    respond(fd, "ETag: \"v1\"\r\nCache-Control: max-age=0\r\nX-Version: first\r\n", "body one");
  });
  Instance m(cacheSection("127.0.0.1:" + str(origin.port())), "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  EXPECT_EQ(fetch(edge, "/o").header("X-Version"), "first");
  Reply r = fetch(edge, "/o");
  EXPECT_EQ(r.header("X-Cache"), "REVALIDATED");
  EXPECT_EQ(r.header("X-Version"), "second");
  EXPECT_EQ(r.body, "body one");
  Reply hit = fetch(edge, "/o");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.header("X-Version"), "second");
  EXPECT_EQ(hit.header("Cache-Control"), "max-age=100");
  EXPECT_EQ(seen.count(), 2u);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// stale-while-revalidate answers at once with the stale object and refreshes it in the
// background; stale-if-error answers with it while the origin is down; must-revalidate does not.
TEST(ProxyCache, StaleWhileRevalidateAndStaleIfError) {
  std::atomic<int> version{1};
  std::atomic<bool> down{false};
  Script seen;
  ScriptedOrigin origin([&](int fd, const std::string& head) {
    seen.record(head);
    if (down) {
      respond(fd, "", "broken", 503);
      return;
    }
    std::string cc = head.find("GET /strict") == 0 ? "max-age=1, must-revalidate"
                     : head.find("GET /sie") == 0  ? "max-age=1, stale-if-error=60"
                                                   : "max-age=1, stale-while-revalidate=30";
    respond(fd, "Cache-Control: " + cc + "\r\n", "version " + str(version));
  });
  Instance m(cacheSection("127.0.0.1:" + str(origin.port())), "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  EXPECT_EQ(fetch(edge, "/swr").body, "version 1");
  EXPECT_EQ(fetch(edge, "/strict").body, "version 1");
  EXPECT_EQ(fetch(edge, "/sie").body, "version 1");
  version = 2;
  sleepMs(2100);  // both stale now
  Reply stale = fetch(edge, "/swr");
  EXPECT_EQ(stale.header("X-Cache"), "STALE");
  EXPECT_EQ(stale.body, "version 1");
  // The background refresh brings version 2 without a client waiting for it.
  bool refreshed = false;
  for (int i = 0; i < 100 && !refreshed; ++i) {
    Reply r = fetch(edge, "/swr");
    refreshed = r.body == "version 2" && r.header("X-Cache") == "HIT";
    if (!refreshed) sleepMs(20);
  }
  EXPECT_TRUE(refreshed);
  EXPECT_GE(shmCounter(m, "proxy:edge", "proxy_cache_background_updates"), 1);

  down = true;
  Reply onError = fetch(edge, "/sie");  // stale-if-error (60 s): served stale, not the 503
  EXPECT_EQ(onError.status, 200);
  EXPECT_EQ(onError.header("X-Cache"), "STALE");
  EXPECT_EQ(onError.body, "version 1");
  Reply strict = fetch(edge, "/strict");  // must-revalidate: the error goes through
  EXPECT_EQ(strict.status, 503);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// 50 parallel misses of one key, spread over two workers, make one origin request; every client
// gets the whole body.
TEST(ProxyCache, ParallelMissesAreCoalescedIntoOneOriginRequest) {
  Script seen;
  std::string body = pattern(30000, 9);
  ScriptedOrigin origin([&](int fd, const std::string& head) {
    seen.record(head);
    sleepMs(400);  // every client arrives while the first fetch runs
    respond(fd, "Cache-Control: max-age=60\r\n", body);
  });
  Instance m(cacheSection("127.0.0.1:" + str(origin.port())), "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  std::vector<std::thread> clients;
  std::atomic<int> good{0};
  for (int i = 0; i < 50; ++i)
    clients.emplace_back([&] {
      Reply r = one(edge, "GET /hot HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n",
                    false, 5000);
      if (r.status == 200 && r.body == body) ++good;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(good, 50);
  EXPECT_EQ(seen.count(), 1u);
  EXPECT_GE(shmCounter(m, "proxy:edge", "proxy_cache_coalesced"), 1);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// What a shared cache must not store: no-store, private, Set-Cookie (by default), a request with
// Authorization; a response cut short by a dying backend; a malformed response. None comes back
// from the cache.
TEST(ProxyCache, NeverStoresWhatItMustNot) {
  Script seen;
  ScriptedOrigin origin([&](int fd, const std::string& head) {
    seen.record(head);
    std::string path = head.substr(4, head.find(' ', 4) - 4);
    if (path == "/nostore") return respond(fd, "Cache-Control: no-store, max-age=60\r\n", "a");
    if (path == "/private") return respond(fd, "Cache-Control: private, max-age=60\r\n", "b");
    if (path == "/cookie")
      return respond(fd, "Cache-Control: max-age=60\r\nSet-Cookie: s=1\r\n", "c");
    if (path == "/auth") return respond(fd, "Cache-Control: max-age=60\r\n", "d");
    if (path == "/cut") {
      sendAll(fd, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 1000\r\n\r\n" +
                      std::string(400, 'x'));
      return;  // closed with 600 bytes missing
    }
    if (path == "/bad")
      return sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc");
    respond(fd, "", "?");
  });
  Instance m(cacheSection("127.0.0.1:" + str(origin.port())), "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  for (const char* path : {"/nostore", "/private", "/cookie"})
    for (int i = 0; i < 2; ++i) {
      Reply r = fetch(edge, path);
      EXPECT_EQ(r.status, 200) << path;
      EXPECT_NE(r.header("X-Cache"), "HIT") << path;
    }
  EXPECT_EQ(fetch(edge, "/cookie").header("Set-Cookie"), "s=1");
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(fetch(edge, "/auth", "Authorization: Basic dTpw\r\n").header("X-Cache"), "MISS");
  for (int i = 0; i < 2; ++i) {
    Reply cut = fetch(edge, "/cut");
    EXPECT_NE(cut.body.size(), 1000u);  // a cut connection, never a short "complete" body
    Reply bad = fetch(edge, "/bad");
    EXPECT_EQ(bad.status, 502);
  }
  EXPECT_EQ(seen.count(), 13u);  // every request went to the origin
  EXPECT_EQ(shmCounter(m, "proxy:edge", "proxy_cache_stores"), 0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// PURGE from an allowed network removes the object; from elsewhere it is refused. An unsafe
// method invalidates the URI and its Location.
TEST(ProxyCache, PurgeAndInvalidationByUnsafeMethods) {
  Script seen;
  ScriptedOrigin origin([&](int fd, const std::string& head) {
    seen.record(head);
    if (head.find("POST ") == 0) return respond(fd, "Location: /other\r\n", "posted", 201);
    respond(fd, "Cache-Control: max-age=60\r\n", "object");
  });
  Instance m(cacheSection("127.0.0.1:" + str(origin.port()), "cache_purge = 127.0.0.0/8\n") +
                 "[proxy:closed]\nlisten = 127.0.0.1:{port:closed}\nbackend = 127.0.0.1:" +
                 str(origin.port()) + "\ncache = on\ncache_memory = 4m\ncache_purge = 10.0.0.0/8\n",
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  fetch(edge, "/p");
  EXPECT_EQ(fetch(edge, "/p").header("X-Cache"), "HIT");
  Reply purge = one(edge, "PURGE /p HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(purge.status, 200);
  EXPECT_EQ(fetch(edge, "/p").header("X-Cache"), "MISS");
  Reply again =
      one(edge, "PURGE /nothing HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(again.status, 404);
  int closed = m.port("closed");
  Reply refused = one(closed, "PURGE /p HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(refused.status, 403);

  fetch(edge, "/other");
  EXPECT_EQ(fetch(edge, "/p").header("X-Cache"), "HIT");
  EXPECT_EQ(fetch(edge, "/other").header("X-Cache"), "HIT");
  Reply post = one(edge,
                   "POST /p HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 2\r\nConnection: "
                   "close\r\n\r\nhi");
  EXPECT_EQ(post.status, 201);
  EXPECT_EQ(fetch(edge, "/p").header("X-Cache"), "MISS");
  EXPECT_EQ(fetch(edge, "/other").header("X-Cache"), "MISS");  // its Location
  EXPECT_GE(shmCounter(m, "proxy:edge", "proxy_cache_invalidations"), 2);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Objects larger than cache_memory_max_object live in the disk tier: served with sendfile,
// found again after a restart (the shm index is gone) and after a reload (the index is kept).
TEST(ProxyCache, DiskTierSurvivesRestartAndReloadKeepsTheIndex) {
  Instance m(httpSection("origin", "{dir}/www", "gzip = off\n") +
                 cacheSection("127.0.0.1:{port:origin}",
                              "cache_dir = {dir}/cache\ncache_memory_max_object = 64k\n"),
             "", 2);
  run("mkdir -p " + m.path("www"));
  std::string big = pattern(300000, 4), small = pattern(2000, 5);
  writeFile(m.path("www/big.bin"), big);
  writeFile(m.path("www/small.bin"), small);
  run("touch -d '10 days ago' " + m.path("www/big.bin") + " " + m.path("www/small.bin"));
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  EXPECT_EQ(fetch(edge, "/big.bin").body, big);
  EXPECT_EQ(fetch(edge, "/small.bin").body, small);
  Reply hit = fetch(edge, "/big.bin");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.body, big);
  EXPECT_GE(shmCounter(m, "proxy:edge", "proxy_cache_disk_hits"), 1);
  EXPECT_EQ(run("find " + m.path("cache") + " -type f -size +200k | wc -l"), "1\n");
  EXPECT_EQ(run("ls " + m.path("cache/tmp") + " | wc -l"), "0\n");  // no temp file left

  // Reload: same shm region, the index and the memory tier stay.
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  EXPECT_EQ(fetch(edge, "/small.bin").header("X-Cache"), "HIT");
  long long before = shmCounter(m, "http:origin", "requests");
  EXPECT_EQ(before, 2);
  EXPECT_EQ(m.stop(), 0) << m.log();

  // Restart: the memory tier is gone, the disk tier is not.
  ASSERT_TRUE(m.start()) << m.log();
  edge = m.port("edge");
  Reply again = fetch(edge, "/big.bin");
  EXPECT_EQ(again.header("X-Cache"), "HIT");
  EXPECT_EQ(again.body, big);
  EXPECT_EQ(fetch(edge, "/small.bin").header("X-Cache"), "MISS");
  EXPECT_EQ(shmCounter(m, "http:origin", "requests"), 1);  // only the small one
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// The disk tier is kept within cache_max_size: least recently used files go first.
TEST(ProxyCache, DiskTierStaysWithinItsBudget) {
  Instance m(httpSection("origin", "{dir}/www", "gzip = off\n") +
                 cacheSection("127.0.0.1:{port:origin}",
                              "cache_dir = {dir}/cache\ncache_memory_max_object = 16k\n"
                              "cache_max_size = 1m\ncache_max_object = 512k\n"),
             "", 1);
  run("mkdir -p " + m.path("www"));
  for (int i = 0; i < 8; ++i) writeFile(m.path("www/f" + str(i)), pattern(300000, i));
  run("touch -d '10 days ago' " + m.path("www") + "/*");
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(fetch(edge, "/f" + str(i)).status, 200);
    if (i == 0) sleepMs(1100);  // f0 is the oldest by a second
  }
  sleepMs(1100);
  EXPECT_EQ(fetch(edge, "/f7").header("X-Cache"), "HIT");  // the most recently used, by a second
  auto diskBytes = [&] { return std::stoll(run("du -sb " + m.path("cache") + " | cut -f1")); };
  for (int i = 0; i < 150 && diskBytes() > (1 << 20); ++i) sleepMs(100);  // a pass every 10 s
  EXPECT_LE(diskBytes(), 1 << 20);
  EXPECT_EQ(fetch(edge, "/f0").header("X-Cache"), "MISS");  // removed first
  EXPECT_EQ(fetch(edge, "/f7").header("X-Cache"), "HIT");   // kept
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A full disk tier (a 512 KiB tmpfs): large objects are still relayed whole (not stored), the
// failure is logged once, and small objects are stored in memory as before.
TEST(ProxyCache, FullDiskTierKeepsServingFromMemory) {
  Instance m(httpSection("origin", "{dir}/www", "gzip = off\n") +
                 cacheSection("127.0.0.1:{port:origin}",
                              "cache_dir = {dir}/cache\ncache_memory_max_object = 16k\n"),
             "", 1);
  run("mkdir -p " + m.path("www") + " " + m.path("cache"));
  ASSERT_EQ(run("mount -t tmpfs -o size=512k tmpfs " + m.path("cache") + " && echo ok"), "ok\n");
  struct Unmount {
    std::string path;
    ~Unmount() { run("umount " + path); }
  } unmount{m.path("cache")};
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    bodies.push_back(pattern(300000, 10 + i));
    writeFile(m.path("www/big" + str(i)), bodies.back());
  }
  writeFile(m.path("www/small"), "small object\n");
  run("touch -d '10 days ago' " + m.path("www") + "/*");
  ASSERT_TRUE(m.start()) << m.log();
  int edge = m.port("edge");
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 4; ++i) EXPECT_EQ(fetch(edge, "/big" + str(i)).body, bodies[i]);
  fetch(edge, "/small");
  EXPECT_EQ(fetch(edge, "/small").header("X-Cache"), "HIT");
  EXPECT_GE(shmCounter(m, "proxy:edge", "proxy_cache_disk_errors"), 1);
  std::string log = m.log();
  size_t first = log.find("write failed");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(log.find("write failed", first + 1), std::string::npos);  // once
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A large hit goes out with sendfile from the object's file (no user-space copy); the file is
// never written in place, so a hit still being sent while its object is purged, replaced by a
// new version (renamed over the same path) and purged again sends the old version whole.
TEST(ProxyCache, LargeHitSentFromItsFileStaysIntactWhileReplacedAndEvicted) {
  Instance m(httpSection("origin", "{dir}/www", "gzip = off\n") +
                 cacheSection("127.0.0.1:{port:origin}",
                              "cache_dir = {dir}/cache\ncache_memory_max_object = 64k\n"
                              "cache_purge = 127.0.0.1\n"),
             "", 1);
  run("mkdir -p " + m.path("www"));
  const std::string old = pattern(24 << 20, 21), fresh = pattern(24 << 20, 22);
  writeFile(m.path("www/big.bin"), old);
  run("touch -d '10 days ago' " + m.path("www/big.bin"));
  ASSERT_TRUE(m.start()) << m.log();
  const int edge = m.port("edge");
  EXPECT_TRUE(fetch(edge, "/big.bin").body == old);

  RawClient slow(edge, 4096);  // takes a few bytes, then stops reading for a while
  ASSERT_TRUE(slow.send("GET /big.bin HTTP/1.1\r\nHost: cache.test\r\n\r\n"));
  ASSERT_GT(slow.readSome(3000), 0);

  const std::string purge =
      "PURGE /big.bin HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(one(edge, purge).status, 200);
  writeFile(m.path("www/big.bin"), fresh);
  run("touch -d '9 days ago' " + m.path("www/big.bin"));
  Reply refetched = fetch(edge, "/big.bin");
  EXPECT_EQ(refetched.header("X-Cache"), "MISS");
  EXPECT_TRUE(refetched.body == fresh) << "the new version differs";
  Reply hit = fetch(edge, "/big.bin");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_TRUE(hit.body == fresh) << "a hit of the new version differs";
  EXPECT_EQ(one(edge, purge).status, 200);  // and gone from the cache altogether

  Reply first;
  ASSERT_TRUE(slow.read(first, 30000));
  EXPECT_EQ(first.header("X-Cache"), "HIT");
  EXPECT_EQ(first.body.size(), old.size());
  EXPECT_TRUE(first.body == old) << "the hit sent while replaced is not the old version";
  EXPECT_GE(shmCounter(m, "proxy:edge", "proxy_cache_disk_hits"), 2);
  EXPECT_EQ(m.stop(), 0) << m.log();
}
