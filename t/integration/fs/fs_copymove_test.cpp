// Tier: end-to-end — COPY and MOVE through the store's router against real nginx WebDAV nodes
// (fs_dav_nodes.hpp): a file's copies land on the destination's replicas (checked on the nodes'
// disks), a moved source leaves no copy anywhere, also when a replica was down during the MOVE
// (tombstones, then repair), collections with nested folders, members that fail named in a 207
// with their sources kept, a large file relayed in bounded memory, litmus copymove.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "t/integration/fs/fs_dav_nodes.hpp"
#include "t/integration/fs/fs_test_util.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

using FsCopyMove = DavStore;

// A COPY or MOVE of `from` to `to`, with `headers` (whole lines); Host "s", as request() and
// put() send it (the cache's key has it).
Reply transfer(int port, const std::string& method, const std::string& from, const std::string& to,
               const std::string& headers = "") {
  return one(port, method + " " + from + " HTTP/1.1\r\nHost: s\r\nDestination: " + to + "\r\n" +
                       headers + "Connection: close\r\n\r\n");
}

Reply propfind(int port, const std::string& path) {
  return one(port, "PROPFIND " + path +
                       " HTTP/1.1\r\nHost: s\r\nDepth: 1\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n");
}

// The nodes holding `path`, and whether each holds `body`.
size_t copiesWith(const DavNodes& nodes, const std::string& path, const std::string& body) {
  size_t n = 0;
  for (size_t i = 0; i < nodes.size(); ++i)
    n += fileExists(nodes.dir(i) + path) && readFile(nodes.dir(i) + path) == body;
  return n;
}

}  // namespace

// A file copied, then moved: the destination's replicas hold it (on disk, every copy the same),
// the moved source is gone from every node at once and after a repair pass; Destination as an
// absolute URL or a path, with or without its stage; Overwrite F and T; the RFC 4918 errors.
TEST_F(FsCopyMove, FileCopyAndMove) {
  ASSERT_TRUE(open(3, "repair_interval = 300ms\n"));
  const std::string url = "http://s:80";  // the Host the requests name
  ASSERT_EQ(put(port, "/_s1/a/src", "the source\n").status, 201);
  sleepMs(1100);  // the MOVE's tombstone is then newer than the file (same-second ties keep it)

  EXPECT_EQ(transfer(port, "COPY", "/_s1/a/src", url + "/_s1/b/copy").status, 409);  // no b/
  ASSERT_EQ(request(port, "MKCOL", "/_s1/b/").status, 201);
  Reply r = transfer(port, "COPY", "/_s1/a/src", url + "/_s1/b/copy");
  EXPECT_EQ(r.status, 201) << r.head << m->log();
  EXPECT_EQ(copiesWith(*nodes, "/_s1/b/copy", "the source\n"), 2u);
  EXPECT_EQ(copiesOf(*nodes, "/_s1/a/src"), 2u);  // a copy keeps its source
  EXPECT_EQ(transfer(port, "COPY", "/_s1/a/src", "/_s1/b/copy", "Overwrite: F\r\n").status, 412);
  ASSERT_EQ(put(port, "/_s1/a/src", "the source, second version\n").status, 204);
  sleepMs(1100);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/a/src", "/_s1/b/copy", "Overwrite: T\r\n").status, 204);
  EXPECT_EQ(copiesWith(*nodes, "/_s1/b/copy", "the source, second version\n"), 2u);
  EXPECT_EQ(request(port, "GET", "/_s1/b/copy").body, "the source, second version\n");

  r = transfer(port, "COPY", "/_s1/b/copy", "/nostage");  // the write stage, as a PUT
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("Location"), "/_s1/nostage");
  EXPECT_EQ(copiesOf(*nodes, "/_s1/nostage"), 2u);

  r = transfer(port, "MOVE", "/_s1/a/src", url + "/_s1/b/moved");
  EXPECT_EQ(r.status, 201) << r.head << m->log();
  EXPECT_EQ(copiesWith(*nodes, "/_s1/b/moved", "the source, second version\n"), 2u);
  EXPECT_EQ(copiesOf(*nodes, "/_s1/a/src"), 0u);
  EXPECT_EQ(request(port, "GET", "/_s1/a/src").status, 404);
  EXPECT_EQ(request(port, "GET", "/_s1/b/moved").body, "the source, second version\n");
  EXPECT_EQ(transfer(port, "MOVE", "/_s1/b/moved", "/_s1/b/copy", "Overwrite: F\r\n").status, 412);
  EXPECT_EQ(copiesOf(*nodes, "/_s1/b/moved"), 2u);  // refused: nothing moved

  // RFC 4918's errors: source missing, Destination missing, malformed, on another server;
  // Depth 1 (not a COPY's), a bad Overwrite; a stage's root.
  EXPECT_EQ(transfer(port, "COPY", "/_s1/a/none", "/_s1/b/x").status, 404);
  EXPECT_EQ(request(port, "COPY", "/_s1/b/copy").status, 400);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/b/copy", "ftp://127.0.0.1/_s1/x").status, 400);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/b/copy", "/_s1/../x").status, 400);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/b/copy", "http://elsewhere.example/_s1/x").status, 502);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/b/copy", "/_s1/b/x", "Depth: 1\r\n").status, 400);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/b/copy", "/_s1/b/x", "Overwrite: maybe\r\n").status, 400);
  EXPECT_EQ(transfer(port, "MOVE", "/_s1/b/copy", "/_s1/").status, 403);
  EXPECT_EQ(transfer(port, "MOVE", "/_s1/b/copy", "/_s1/b/copy").status, 403);
  EXPECT_EQ(transfer(port, "MOVE", "/_s1/b/copy", "/_s9/x").status, 409);  // no stage 9
  // Out of scope: locks and properties.
  EXPECT_EQ(request(port, "LOCK", "/_s1/b/copy").status, 501);
  EXPECT_EQ(request(port, "UNLOCK", "/_s1/b/copy").status, 501);
  EXPECT_EQ(request(port, "PROPPATCH", "/_s1/b/copy").status, 501);

  std::string check;
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  EXPECT_EQ(copiesOf(*nodes, "/_s1/a/src"), 0u);
  EXPECT_EQ(copiesOf(*nodes, "/_s1/b/moved"), 2u);
  EXPECT_EQ(storeCounter(*m, "fs_copies"), 3);
  EXPECT_EQ(storeCounter(*m, "fs_moves"), 1);
  EXPECT_EQ(storeCounter(*m, "fs_copies_failed"), 0);
  EXPECT_EQ(storeCounter(*m, "fs_moves_failed"), 0);
  EXPECT_EQ(storeCounter(*m, "fs_transfer_files"), 4);
}

// Files moved while one node is down: each destination gets its copies (a hand-off node, with
// its hint, in place of the node that is down), the sources their tombstones; when the node
// returns with its old copies of the sources, the repairer deletes them (no resurrection) and
// moves the hand-off copies home.
TEST_F(FsCopyMove, MoveWithReplicaDownDoesNotResurrect) {
  ASSERT_TRUE(open(3, "repair_interval = 300ms\n"));
  const int count = 10;  // node 0 is a replica of about two thirds of the sources, and dests
  for (int i = 0; i < count; ++i)
    ASSERT_EQ(put(port, "/_s1/src/f" + str(i), "file " + str(i)).status, 201);
  ASSERT_EQ(request(port, "MKCOL", "/_s1/dst/").status, 201);
  sleepMs(1100);  // tombstones newer than the files
  size_t stale = nodes->files(0).size();
  ASSERT_GE(stale, 1u);
  nodes->stop(0);
  for (int i = 0; i < count; ++i) {
    Reply r = transfer(port, "MOVE", "/_s1/src/f" + str(i), "/_s1/dst/f" + str(i));
    EXPECT_EQ(r.status, 201) << i << " " << r.head << m->log();
  }
  EXPECT_GE(storeCounter(*m, "fs_handoffs"), 1);
  size_t hints = nodes->reserved(1, "hints") + nodes->reserved(2, "hints");
  EXPECT_EQ(static_cast<long long>(hints), storeCounter(*m, "fs_handoffs"));
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(copiesWith(*nodes, "/_s1/dst/f" + str(i), "file " + str(i)), 2u) << i;
    EXPECT_EQ(request(port, "GET", "/_s1/src/f" + str(i)).status, 404);
  }
  for (size_t n = 1; n < nodes->size(); ++n)  // every source tombstoned on the nodes that are up
    EXPECT_EQ(nodes->reserved(n, "tombstones"), static_cast<size_t>(count)) << n;
  ASSERT_TRUE(nodes->start(0));  // back with its old copies of the sources
  std::string check;
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(copiesOf(*nodes, "/_s1/src/f" + str(i)), 0u) << i;
    EXPECT_EQ(copiesWith(*nodes, "/_s1/dst/f" + str(i), "file " + str(i)), 2u) << i;
    EXPECT_EQ(request(port, "GET", "/_s1/dst/f" + str(i)).body, "file " + str(i));
  }
  for (size_t n = 0; n < nodes->size(); ++n) EXPECT_EQ(nodes->reserved(n, "hints"), 0u);
  // The stale sources, the hand-off copies and their hints.
  EXPECT_GE(storeCounter(*m, "fs_repair_deletes"), static_cast<long long>(stale + 2 * hints));
}

// A collection that a COPY with Overwrite: T replaces is deleted as a client's DELETE of it
// would be (FsRepair.CollectionDeleteDoesNotResurrect): its old files are deleted
// one by one with their tombstones, and a node that was down does not mix them back in.
TEST_F(FsCopyMove, CollectionReplacedByCopyDoesNotResurrect) {
  ASSERT_TRUE(open(3, "repair_interval = 300ms\n", 1));
  auto old = putMany(
      port, 6, [](int i) { return "/_s1/old/d/f" + str(i); },
      [](int) { return std::string("old"); });
  ASSERT_EQ(old.size(), 6u) << m->log() << nodes->errors();
  EXPECT_EQ(put(port, "/_s1/new/x", "new").status, 201);
  nodes->stop(0);
  sleepMs(1100);  // tombstones one second newer than the copies
  EXPECT_EQ(transfer(port, "COPY", "/_s1/new/", "/_s1/old/").status, 204) << m->log();
  EXPECT_GE(nodes->reserved(1, "tombstones") + nodes->reserved(2, "tombstones"), 6u);
  ASSERT_TRUE(nodes->start(0));
  std::string check;
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  for (const auto& p : old) {
    EXPECT_EQ(copiesOf(*nodes, p), 0u) << p;
    EXPECT_EQ(request(port, "GET", p).status, 404) << p;
  }
  EXPECT_EQ(copiesOf(*nodes, "/_s1/old/x"), 2u);
  EXPECT_EQ(request(port, "GET", "/_s1/old/x").body, "new");
  EXPECT_EQ(copiesOf(*nodes, "/_s1/new/x"), 2u);
}

// A MOVE whose copy cannot reach write_quorum (two of three nodes down: one copy only) is
// answered 503 and leaves its source as it was, readable, on every node that held it.
TEST_F(FsCopyMove, FailedMoveKeepsTheSource) {
  ASSERT_TRUE(open(3, "repair = off\n"));
  ASSERT_EQ(put(port, "/_s1/f/x", "keep me").status, 201);
  std::vector<size_t> holders, others;
  for (size_t n = 0; n < nodes->size(); ++n)
    (fileExists(nodes->dir(n) + "/_s1/f/x") ? holders : others).push_back(n);
  ASSERT_EQ(holders.size(), 2u);
  nodes->stop(others[0]);
  nodes->stop(holders[1]);
  Reply r = transfer(port, "MOVE", "/_s1/f/x", "/_s1/f/y");
  EXPECT_EQ(r.status, 503) << r.head << m->log();
  EXPECT_TRUE(fileExists(nodes->dir(holders[0]) + "/_s1/f/x"));
  EXPECT_TRUE(fileExists(nodes->dir(holders[1]) + "/_s1/f/x"));
  EXPECT_EQ(request(port, "GET", "/_s1/f/x").body, "keep me");
  EXPECT_EQ(storeCounter(*m, "fs_moves_failed"), 1);
  EXPECT_EQ(storeCounter(*m, "fs_moves"), 0);
  EXPECT_EQ(nodes->reserved(holders[0], "tombstones"), 0u);  // no delete was started
}

// A collection with nested folders (and an empty one) moved, then copied with Depth infinity
// and Depth 0: the destination's collections exist on every node, every file on its replicas,
// and the moved source is gone from every node.
TEST_F(FsCopyMove, CollectionsWithNestedFolders) {
  ASSERT_TRUE(open(3, "repair = off\n"));
  for (std::string c : {"/_s1/c/", "/_s1/c/d1/", "/_s1/c/d1/d2/", "/_s1/c/empty/"})
    ASSERT_EQ(request(port, "MKCOL", c).status, 201) << c;
  const std::vector<std::string> files = {"f0", "d1/f1", "d1/d2/f2", "d1/d2/f3"};
  for (const auto& f : files) ASSERT_EQ(put(port, "/_s1/c/" + f, "in " + f).status, 201);
  sleepMs(1100);

  Reply r = transfer(port, "MOVE", "/_s1/c/", "/_s1/moved/");
  EXPECT_EQ(r.status, 201) << r.head << r.body << m->log();
  for (const auto& f : files) {
    EXPECT_EQ(copiesWith(*nodes, "/_s1/moved/" + f, "in " + f), 2u) << f;
    EXPECT_EQ(request(port, "GET", "/_s1/moved/" + f).body, "in " + f);
  }
  for (size_t n = 0; n < nodes->size(); ++n) {
    EXPECT_FALSE(fileExists(nodes->dir(n) + "/_s1/c")) << n;
    EXPECT_TRUE(fileExists(nodes->dir(n) + "/_s1/moved/empty")) << n;
    EXPECT_TRUE(fileExists(nodes->dir(n) + "/_s1/moved/d1/d2")) << n;
  }
  EXPECT_EQ(propfind(port, "/_s1/c/").status, 404);

  r = transfer(port, "COPY", "/_s1/moved", "/_s1/deep");  // a collection named without its '/'
  EXPECT_EQ(r.status, 201) << r.head << r.body;
  for (const auto& f : files) EXPECT_EQ(copiesWith(*nodes, "/_s1/deep/" + f, "in " + f), 2u) << f;
  EXPECT_EQ(transfer(port, "COPY", "/_s1/moved/", "/_s1/deep/", "Overwrite: F\r\n").status, 412);
  ASSERT_EQ(put(port, "/_s1/deep/extra", "not in the source").status, 201);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/moved/", "/_s1/deep/").status, 204);  // replaced
  EXPECT_EQ(copiesOf(*nodes, "/_s1/deep/extra"), 0u);
  EXPECT_EQ(copiesOf(*nodes, "/_s1/deep/d1/d2/f3"), 2u);

  r = transfer(port, "COPY", "/_s1/moved/", "/_s1/shallow/", "Depth: 0\r\n");
  EXPECT_EQ(r.status, 201);
  Reply listing = propfind(port, "/_s1/shallow/");
  EXPECT_EQ(listing.status, 207);
  EXPECT_EQ(listing.body.find("f0"), std::string::npos) << listing.body;
  EXPECT_EQ(listing.body.find("d1"), std::string::npos) << listing.body;
  for (size_t n = 0; n < nodes->size(); ++n)
    EXPECT_TRUE(fileExists(nodes->dir(n) + "/_s1/shallow")) << n;
  EXPECT_EQ(storeCounter(*m, "fs_transfer_files"), 12);  // 4 moved, 4 + 4 copied
}

// With the router's cache on, a COPY over a cached file and a MOVE of a cached file are not
// answered from the cache afterwards (the destination, and the moved source, are invalidated;
// tombstone_memory = 0, so the deleted-paths table does not answer for the source).
TEST_F(FsCopyMove, CacheForgetsDestinationAndMovedSource) {
  ASSERT_TRUE(open(3, "repair = off\ncache = on\ncache_memory = 4m\ntombstone_memory = 0\n"));
  ASSERT_EQ(put(port, "/_s1/k/a", "old a").status, 201);
  ASSERT_EQ(put(port, "/_s1/k/b", "old b").status, 201);
  // A lifetime from the file's age: old copies get one (the cache's heuristic).
  for (size_t n = 0; n < nodes->size(); ++n)
    run("find " + nodes->dir(n) + "/_s1 -type f -exec touch -d '10 days ago' {} + 2>/dev/null");
  for (std::string path : {"/_s1/k/a", "/_s1/k/b"}) {
    EXPECT_EQ(request(port, "GET", path).header("X-Cache"), "MISS");
    EXPECT_EQ(request(port, "GET", path).header("X-Cache"), "HIT") << path;
  }
  ASSERT_EQ(put(port, "/_s1/k/new", "new a").status, 201);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/k/new", "/_s1/k/a").status, 204);
  Reply a = request(port, "GET", "/_s1/k/a");
  EXPECT_EQ(a.body, "new a");
  EXPECT_EQ(a.header("X-Cache"), "MISS");
  EXPECT_EQ(transfer(port, "MOVE", "/_s1/k/b", "/_s1/k/c").status, 201);
  EXPECT_EQ(request(port, "GET", "/_s1/k/b").status, 404);
  EXPECT_EQ(request(port, "GET", "/_s1/k/c").body, "old b");
}

// Members that cannot be written are named in a 207 Multi-Status with the nodes' status, the
// others are copied (stage 1 to stage 2, whose nodes refuse bodies over 100 bytes); a MOVE
// moves the members it can and keeps the others, and the source collection, in place.
TEST(FsCopyMoveStages, PartialFailureIsMultiStatus) {
  DavNodes first(3), second(3, "client_max_body_size 100;");
  ASSERT_TRUE(first.startAll() && second.startAll()) << first.errors() << second.errors();
  Instance m(store("stage = 1" + first.addrs({0, 1, 2}) + "\nstage = 2" + second.addrs({0, 1, 2}) +
                       "\nwrite_stage = 1\n",
                   "repair = off\n"));
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  ASSERT_EQ(request(port, "MKCOL", "/_s1/p/").status, 201);
  const std::string big(1000, 'b');
  ASSERT_EQ(put(port, "/_s1/p/small1", "small one").status, 201);
  ASSERT_EQ(put(port, "/_s1/p/big", big).status, 201);
  ASSERT_EQ(put(port, "/_s1/p/small2", "small two").status, 201);
  sleepMs(1100);

  Reply r = transfer(port, "COPY", "/_s1/p/", "/_s2/p/");
  EXPECT_EQ(r.status, 207) << r.head << m.log();
  EXPECT_NE(r.body.find("<D:href>/_s2/p/big</D:href><D:status>HTTP/1.1 413 "), std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("small"), std::string::npos) << r.body;
  EXPECT_EQ(request(port, "GET", "/_s2/p/small1").body, "small one");
  EXPECT_EQ(request(port, "GET", "/_s2/p/big").status, 404);
  EXPECT_EQ(storeCounter(m, "fs_copies_failed"), 1);

  r = transfer(port, "MOVE", "/_s1/p/", "/_s2/q/");
  EXPECT_EQ(r.status, 207) << r.head << m.log();
  EXPECT_NE(r.body.find("<D:href>/_s2/q/big</D:href>"), std::string::npos) << r.body;
  EXPECT_EQ(request(port, "GET", "/_s1/p/big").body, big);  // kept where it was
  EXPECT_EQ(request(port, "GET", "/_s1/p/small2").status, 404);
  EXPECT_EQ(request(port, "GET", "/_s2/q/small2").body, "small two");
  EXPECT_EQ(propfind(port, "/_s1/p/").status, 207);  // the source collection stays
  EXPECT_EQ(storeCounter(m, "fs_moves_failed"), 1);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A destination stage whose nodes are all marked down (so never asked, not even to look the
// destination up): a file's COPY and a collection's MOVE are 503, and every member stays where
// it was.
TEST(FsCopyMoveStages, NoDestinationNodeStopsAtOnce) {
  DavNodes first(3), second(2);
  ASSERT_TRUE(first.startAll() && second.startAll()) << first.errors() << second.errors();
  Instance m(store("stage = 1" + first.addrs({0, 1, 2}) + "\nstage = 2 " + second.addr(0) +
                       " down " + second.addr(1) + " down\nwrite_stage = 1\n",
                   "repair = off\n"));
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  ASSERT_EQ(request(port, "MKCOL", "/_s1/s/").status, 201);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(put(port, "/_s1/s/f" + str(i), "member").status, 201);
  EXPECT_EQ(transfer(port, "COPY", "/_s1/s/f0", "/_s2/f0").status, 503);
  EXPECT_EQ(transfer(port, "MOVE", "/_s1/s/", "/_s2/s/").status, 503);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(request(port, "GET", "/_s1/s/f" + str(i)).body, "member");
  for (size_t n = 0; n < second.size(); ++n) EXPECT_TRUE(second.files(n).empty()) << n;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A file far larger than the relay's window (48 MiB against 1 MiB per node) is copied whole
// (checksums on both replicas of the destination) while the worker's peak memory grows by much
// less than the file; then moved by a client that leaves before the answer.
TEST_F(FsCopyMove, BigFileIsStreamed) {
  ASSERT_TRUE(open(3, "repair = off\nread_timeout = 30s\n"));
  writeFile(m->path("big.bin"), pattern(48u << 20, 5));
  const std::string want = sha256(m->path("big.bin"));
  std::string out = run("curl -sS -o /dev/null -w '%{http_code}' -T " + m->path("big.bin") +
                        " http://127.0.0.1:" + str(port) + "/_s1/big/src");
  ASSERT_EQ(out, "201") << m->log();
  long long before = peakKiB(*m);
  ASSERT_GT(before, 0);
  out =
      run("curl -sS -o /dev/null -w '%{http_code}' -X COPY -H 'Destination: /_s1/big/copy' "
          "http://127.0.0.1:" +
          str(port) + "/_s1/big/src");
  EXPECT_EQ(out, "201") << m->log();
  size_t holders = 0;
  for (size_t n = 0; n < nodes->size(); ++n) {
    if (!fileExists(nodes->dir(n) + "/_s1/big/copy")) continue;
    ++holders;
    EXPECT_EQ(sha256(nodes->dir(n) + "/_s1/big/copy"), want) << n;
  }
  EXPECT_EQ(holders, 2u);
  long long growth = peakKiB(*m) - before;
  EXPECT_LT(growth, 16 * 1024) << "KiB";  // the file is 48 MiB
  EXPECT_GE(storeCounter(*m, "fs_transfer_bytes"), 2 * (48ll << 20));

  // A client that leaves mid-MOVE (curl gives up after 50 ms) does not stop it: the move ends,
  // whole, rather than leaving the file half-way.
  int rc = -1;
  run("curl -sS -o /dev/null --max-time 0.05 -X MOVE -H 'Destination: /_s1/big/moved' "
      "http://127.0.0.1:" +
          str(port) + "/_s1/big/src 2>/dev/null",
      &rc);
  EXPECT_EQ(rc, 28);  // curl's "operation timed out": the client left before the answer
  bool moved = false;
  for (int waited = 0; waited < 30000 && !moved; waited += 100) {
    moved = storeCounter(*m, "fs_moves") == 1;
    if (!moved) sleepMs(100);
  }
  ASSERT_TRUE(moved) << m->log();
  EXPECT_EQ(copiesOf(*nodes, "/_s1/big/src"), 0u);
  holders = 0;
  for (size_t n = 0; n < nodes->size(); ++n) {
    if (!fileExists(nodes->dir(n) + "/_s1/big/moved")) continue;
    ++holders;
    EXPECT_EQ(sha256(nodes->dir(n) + "/_s1/big/moved"), want) << n;
  }
  EXPECT_EQ(holders, 2u);
}

// Debian's litmus, copymove suite, against the router (nginx nodes): every check passes, with
// no warning (the statuses RFC 4918 names: 201, 204, 412, 409).
TEST_F(FsCopyMove, LitmusCopymoveSuite) {
  ASSERT_TRUE(open(3, "repair = off\n"));
  std::string out =
      run("cd " + m->dir() + " && TESTS=copymove timeout 120 litmus http://127.0.0.1:" + str(port) +
          "/_s1/ 2>&1 | sed -n '/copymove/,/summary for .copymove/p'");
  EXPECT_NE(out.find("of 13 tests run: 13 passed, 0 failed"), std::string::npos) << out;
  EXPECT_EQ(out.find("WARNING"), std::string::npos) << out;  // 201/204/412/409 as RFC 4918 says
}
