// Tier: end-to-end — the store's repair against real nginx WebDAV nodes (Debian's nginx with
// dav_methods and the dav-ext module for PROPFIND), each node its own nginx process so a test
// can stop and restart one: hand-off copies (and their hints) moved home when the node returns,
// deletes that do not resurrect, a replaced (empty) node refilled, concurrent PUTs to one path
// converging, bin/manifold-fs check, drain and rebalance losing nothing, litmus basic, cadaver.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/fs/fs_dav_nodes.hpp"
#include "t/integration/fs/fs_test_util.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

using FsRepair = DavStore;
using FsLitmus = FsRepair;
using FsCadaver = FsRepair;

}  // namespace

// A node is down while files are written: their copies go to hand-off nodes, each with a hint
// in the reserved folder; when the node returns the repairer moves them home (the hand-off copy
// and its hint are deleted once the replicas hold the file).
TEST_F(FsRepair, HandOffCopiesGoHomeWhenTheNodeReturns) {
  ASSERT_TRUE(open(4, "repair_interval = 300ms\n", 2, "replicas = 2\n", statusSection()));
  nodes->stop(0);
  auto paths = putMany(
      port, 24, [](int i) { return "/_s1/h/f" + str(i); },
      [](int i) { return "hinted " + str(i); });
  ASSERT_EQ(paths.size(), 24u) << m->log();
  size_t hints = 0;
  for (size_t i = 1; i < nodes->size(); ++i) hints += nodes->reserved(i, "hints");
  EXPECT_GE(hints, 4u);  // node 0 is a replica of about half the paths
  EXPECT_EQ(static_cast<long long>(hints), storeCounter(*m, "fs_handoffs"));
  for (const auto& p : paths) EXPECT_EQ(copiesOf(*nodes, p), 2u) << p;
  std::string check;
  EXPECT_FALSE(repaired(*m, 0, &check));  // node 0 cannot be listed
  EXPECT_NE(check.find("unlisted nodes 1"), std::string::npos) << check;

  sleepMs(700);  // a few passes without node 0: logged once, not once per pass
  ASSERT_TRUE(nodes->start(0));
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  EXPECT_NE(check.find("24 files"), std::string::npos) << check;
  std::string log = m->log();
  size_t warnings = 0;
  for (size_t at = log.find(nodes->addr(0) + " answered"); at != std::string::npos;
       at = log.find(nodes->addr(0) + " answered", at + 1))
    ++warnings;
  EXPECT_EQ(warnings, 1u) << log;
  EXPECT_NE(log.find(nodes->addr(0) + " lists again"), std::string::npos) << log;
  EXPECT_NE(check.find("copies of the newest version per file: 2:24"), std::string::npos) << check;
  EXPECT_EQ(nodes->files(0).size(), hints);  // each hint stood for one copy of node 0
  for (const auto& p : paths) EXPECT_EQ(copiesOf(*nodes, p), 2u) << p;
  for (size_t i = 0; i < nodes->size(); ++i) EXPECT_EQ(nodes->reserved(i, "hints"), 0u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(request(port, "GET", paths[i]).body, "hinted " + str(i));
  EXPECT_GE(storeCounter(*m, "fs_repair_copies"), static_cast<long long>(hints));
  EXPECT_GE(storeCounter(*m, "fs_repair_passes"), 1);
  EXPECT_EQ(storeCounter(*m, "fs_repair_backlog"), 0);
  std::string stats = run(binPath("manifold-shm") + " -n " + m->shmName() + " stats");
  EXPECT_NE(stats.find("fs_repair_under_replicated"), std::string::npos) << stats;
  std::string metrics = request(m->port("status"), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("manifold_fs_fs_repair_backlog{service=\"fs:store\"} 0"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("manifold_fs_fs_repair_copies_total{service=\"fs:store\"}"),
            std::string::npos);
}

// A file deleted while one of its replicas was down does not come back when that node returns
// with its old copy: the DELETE left tombstones on the nodes it reached, and the repairer
// deletes copies older than the tombstone. A file written again after its DELETE stays. The
// tombstones outlive tombstone_ttl while a node is away, and are purged once every node has
// confirmed the deletes.
TEST_F(FsRepair, DeletesDoNotResurrect) {
  ASSERT_TRUE(open(3, "repair_interval = 300ms\ntombstone_ttl = 1s\n", 1));
  auto paths = putMany(
      port, 9, [](int i) { return "/_s1/d/f" + str(i); },
      [](int) { return std::string("doomed"); });
  ASSERT_EQ(paths.size(), 9u) << m->log() << nodes->errors();
  size_t onZero = nodes->files(0).size();
  ASSERT_GE(onZero, 2u);
  nodes->stop(0);
  sleepMs(1100);  // tombstones one second newer than the copies (HTTP dates are in seconds)
  for (const auto& p : paths) EXPECT_EQ(request(port, "DELETE", p).status, 204) << p;
  EXPECT_EQ(put(port, "/_s1/d/f0", "reborn").status, 201);  // written again after its DELETE
  EXPECT_EQ(nodes->reserved(1, "tombstones"), 9u);
  EXPECT_EQ(nodes->files(0).size(), onZero);  // its old copies come back with it
  sleepMs(1500);  // older than tombstone_ttl, node 0 still away: the tombstones stay
  for (size_t i = 1; i < paths.size(); ++i)  // (f0's may go: written again since)
    EXPECT_TRUE(fileExists(nodes->dir(1) + "/.manifold-fs/tombstones" + paths[i])) << paths[i];
  ASSERT_TRUE(nodes->start(0));
  std::string check;
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  EXPECT_NE(check.find("1 files"), std::string::npos) << check;
  for (size_t i = 1; i < paths.size(); ++i) {
    EXPECT_EQ(copiesOf(*nodes, paths[i]), 0u) << paths[i];
    EXPECT_EQ(request(port, "GET", paths[i]).status, 404) << paths[i];
  }
  EXPECT_EQ(copiesOf(*nodes, "/_s1/d/f0"), 2u);
  EXPECT_EQ(request(port, "GET", "/_s1/d/f0").body, "reborn");
  size_t tombstones = 0;
  for (int waited = 0; waited <= 20000; waited += 250) {
    tombstones = 0;
    for (size_t i = 0; i < nodes->size(); ++i) tombstones += nodes->reserved(i, "tombstones");
    if (tombstones == 0) break;
    sleepMs(250);
  }
  EXPECT_EQ(tombstones, 0u) << m->log();
  for (size_t i = 1; i < paths.size(); ++i) EXPECT_EQ(copiesOf(*nodes, paths[i]), 0u) << paths[i];
  EXPECT_EQ(request(port, "GET", "/_s1/d/f0").body, "reborn");
}

// A collection deleted while a node was down: a folder's tombstone cannot be written (nginx
// refuses a PUT to a folder's path) and the repairer guards files, so every file under it gets
// its own; the node's old copies do not come back, and files beside the collection stay.
TEST_F(FsRepair, CollectionDeleteDoesNotResurrect) {
  ASSERT_TRUE(open(3, "repair_interval = 300ms\n", 1));
  auto paths = putMany(
      port, 8, [](int i) { return "/_s1/c/d" + str(i % 2) + "/f" + str(i); },
      [](int) { return std::string("doomed"); });
  ASSERT_EQ(paths.size(), 8u) << m->log() << nodes->errors();
  EXPECT_EQ(put(port, "/_s1/cc", "beside").status, 201);
  size_t onZero = nodes->files(0).size();
  ASSERT_GE(onZero, 2u);
  nodes->stop(0);
  sleepMs(1100);  // tombstones one second newer than the copies (HTTP dates are in seconds)
  EXPECT_EQ(request(port, "DELETE", "/_s1/c/").status, 204) << m->log();
  EXPECT_EQ(nodes->reserved(1, "tombstones"), 8u);
  EXPECT_EQ(nodes->reserved(2, "tombstones"), 8u);
  EXPECT_FALSE(fileExists(nodes->dir(1) + "/_s1/c"));
  for (const auto& p : paths) EXPECT_EQ(request(port, "GET", p).status, 404) << p;
  EXPECT_EQ(request(port, "DELETE", "/_s1/c/").status, 404);
  ASSERT_TRUE(nodes->start(0));
  std::string check;
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  for (const auto& p : paths) {
    EXPECT_EQ(copiesOf(*nodes, p), 0u) << p;
    EXPECT_EQ(request(port, "GET", p).status, 404) << p;
  }
  EXPECT_EQ(copiesOf(*nodes, "/_s1/cc"), 2u);
  EXPECT_EQ(request(port, "GET", "/_s1/cc").body, "beside");
}

// Before any repair, reads of a path the router saw deleted are answered 404, though a node
// that missed the DELETE still holds a copy (a router without the table, tombstone_memory = 0,
// serves that copy). A PUT of the path makes it readable again at once.
TEST_F(FsRepair, ReadsOfDeletedPathsAreNotServedFromStaleCopies) {
  DavNodes nodes(3);
  ASSERT_TRUE(nodes.startAll());
  std::string stage = "stage = 1" + nodes.addrs({0, 1, 2}) + "\n";
  Instance m(store(stage, "repair = off\n") +
                 "[fs:plain]\nlisten = 127.0.0.1:{port:plain}\nrepair = off\n"
                 "tombstone_memory = 0\n" +
                 stage,
             "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store"), plain = m.port("plain");
  auto paths = putMany(
      port, 8, [](int i) { return "/_s1/g/f" + str(i); }, [](int) { return std::string("old"); });
  ASSERT_EQ(paths.size(), 8u) << m.log() << nodes.errors();
  nodes.stop(0);
  for (const auto& p : paths) EXPECT_EQ(request(port, "DELETE", p).status, 204) << p;
  ASSERT_TRUE(nodes.start(0));
  std::vector<std::string> stale = nodes.files(0);
  ASSERT_GE(stale.size(), 2u);
  for (const auto& p : paths) EXPECT_EQ(request(port, "GET", p).status, 404) << p;
  for (const auto& p : stale) EXPECT_EQ(request(plain, "GET", p).body, "old") << p;
  EXPECT_GE(storeCounter(m, "fs_reads_deleted"), 8);
  int again = put(port, paths[0], "new").status;  // 204 where node 0 kept its copy
  EXPECT_TRUE(again == 201 || again == 204) << again;
  EXPECT_EQ(request(port, "GET", paths[0]).body, "new");
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// PUT bodies reach every copy byte for byte: sizes around the buffer and replay limits on one
// keep-alive connection, with Content-Length and chunked; a client that leaves mid-body leaves
// no half-written file on any node (nor replaces the old version), and the router stops at once
// (the fan-out hears of the cut though the client's connection was waiting for its answer).
TEST_F(FsRepair, PutBodiesAreWholeOnEveryCopyAndCutUploadsLeaveNothing) {
  ASSERT_TRUE(open(3, "repair = off\n"));
  RawClient c(port);
  ASSERT_TRUE(c.ok());
  const std::vector<size_t> sizes = {1, 4096, 65543, (1u << 20) + 1, 3u << 20};
  std::vector<std::string> paths, bodies;
  for (size_t i = 0; i < sizes.size(); ++i) {
    paths.push_back("/_s1/w/f" + str(static_cast<long long>(i)));
    bodies.push_back(pattern(sizes[i], static_cast<unsigned>(i) + 3));
    Reply r = c.exchange("PUT " + paths.back() + " HTTP/1.1\r\nHost: s\r\nContent-Length: " +
                         str(static_cast<long long>(sizes[i])) + "\r\n\r\n" + bodies.back());
    EXPECT_EQ(r.status, 201) << paths.back();
  }
  std::string chunked = pattern(2u << 20, 99), framed;
  for (size_t at = 0, step = 1; at < chunked.size(); at += step, step = step * 7 % 300007 + 1) {
    std::string_view part = std::string_view(chunked).substr(at, step);
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    framed.append(size).append(part).append("\r\n");
  }
  paths.push_back("/_s1/w/chunked");
  bodies.push_back(chunked);
  EXPECT_EQ(c.exchange("PUT /_s1/w/chunked HTTP/1.1\r\nHost: s\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" +
                       framed + "0\r\n\r\n")
                .status,
            201);
  for (size_t i = 0; i < paths.size(); ++i) {
    size_t copies = 0;
    for (size_t n = 0; n < nodes->size(); ++n) {
      if (!fileExists(nodes->dir(n) + paths[i])) continue;
      ++copies;
      EXPECT_TRUE(readFile(nodes->dir(n) + paths[i]) == bodies[i]) << paths[i] << " on " << n;
    }
    EXPECT_EQ(copies, 2u) << paths[i];
  }

  ASSERT_EQ(put(port, "/_s1/w/kept", "old version").status, 201);
  for (const std::string path : {"/_s1/w/cut", "/_s1/w/kept"}) {
    RawClient cut(port);
    ASSERT_TRUE(cut.send("PUT " + path + " HTTP/1.1\r\nHost: s\r\nContent-Length: " + str(4 << 20) +
                         "\r\n\r\n" + pattern(700000, 5)));
    sleepMs(200);  // the nodes have part of it
    cut.close();
  }
  sleepMs(500);
  for (size_t n = 0; n < nodes->size(); ++n) {
    EXPECT_FALSE(fileExists(nodes->dir(n) + "/_s1/w/cut")) << n;
    if (fileExists(nodes->dir(n) + "/_s1/w/kept")) {
      EXPECT_EQ(readFile(nodes->dir(n) + "/_s1/w/kept"), "old version") << n;
    }
  }
  EXPECT_EQ(request(port, "GET", "/_s1/w/cut").status, 404);
  EXPECT_EQ(request(port, "GET", "/_s1/w/kept").body, "old version");
  EXPECT_EQ(copiesOf(*nodes, "/_s1/w/kept"), 2u);
  for (size_t i = 0; i < paths.size(); ++i)
    EXPECT_TRUE(request(port, "GET", paths[i]).body == bodies[i]) << paths[i];
}

// A node replaced by an empty one (same address): the repairer copies every file it should
// hold back from the other replicas; nothing changes in content.
TEST_F(FsRepair, ReplacedEmptyNodeIsRefilled) {
  ASSERT_TRUE(open(3, "repair_interval = 300ms\n", 1));
  auto paths = putMany(
      port, 30, [](int i) { return "/_s1/r/" + str(i % 3) + "/f" + str(i); },
      [](int i) { return pattern(1000 + i * 97, i); });
  ASSERT_EQ(paths.size(), 30u) << m->log() << nodes->errors();
  auto before = readAll(port, paths);
  std::vector<std::string> held = nodes->files(1);
  ASSERT_GE(held.size(), 10u);
  nodes->stop(1);
  run("rm -rf " + nodes->dir(1) + "/_s1 " + nodes->dir(1) + "/.manifold-fs");
  ASSERT_TRUE(nodes->start(1));
  std::string check;
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  EXPECT_EQ(nodes->files(1), held);
  for (const auto& p : held) EXPECT_EQ(readFile(nodes->dir(1) + p), before[p]) << p;
  EXPECT_EQ(readAll(port, paths), before);
  EXPECT_GE(storeCounter(*m, "fs_repair_copies"), static_cast<long long>(held.size()));
}

// A copy is relayed node to node, not held: a file far larger than the relay's window (48 MiB
// against 1 MiB) comes back whole (checksums) to a node that lost it, while the repairing
// worker's peak memory grows by much less than the file.
TEST_F(FsRepair, BigFileRepairIsStreamed) {
  ASSERT_TRUE(open(3, "repair_interval = 300ms\nrepair_rate = 0\nread_timeout = 30s\n"));
  const std::string big = pattern(48u << 20, 11);
  writeFile(m->path("big.bin"), big);
  const std::string want = sha256(m->path("big.bin"));
  int rc = -1;
  std::string out = run("curl -sS -o /dev/null -w '%{http_code}' -T " + m->path("big.bin") +
                            " http://127.0.0.1:" + str(port) + "/_s1/big/file",
                        &rc);
  ASSERT_EQ(out, "201") << m->log();
  std::vector<size_t> holders;
  for (size_t n = 0; n < nodes->size(); ++n)
    if (fileExists(nodes->dir(n) + "/_s1/big/file")) holders.push_back(n);
  ASSERT_EQ(holders.size(), 2u);
  ASSERT_TRUE(repaired(*m, 20000));  // a pass over the whole store first
  long long before = peakKiB(*m);
  ASSERT_GT(before, 0);
  nodes->stop(holders[0]);
  run("rm -rf " + nodes->dir(holders[0]) + "/_s1");
  ASSERT_TRUE(nodes->start(holders[0]));
  std::string check;
  ASSERT_TRUE(repaired(*m, 60000, &check)) << check << m->log();
  for (size_t n : holders) EXPECT_EQ(sha256(nodes->dir(n) + "/_s1/big/file"), want) << n;
  long long growth = peakKiB(*m) - before;
  EXPECT_LT(growth, 16 * 1024) << "KiB";  // the file is 48 MiB
  EXPECT_GE(storeCounter(*m, "fs_repair_bytes"), 48ll << 20);
}

// Two clients PUT different versions of one path at once, many times (write_quorum 1, so the
// copies may be written in different orders): when the writes stop, the repairer makes every
// copy the same version (last writer by the router's Date; within one second the larger).
TEST_F(FsRepair, ConcurrentPutsConverge) {
  ASSERT_TRUE(open(3, "write_quorum = 1\nrepair_interval = 300ms\n", 2, "replicas = 3\n"));
  auto writer = [port = port](const std::string& body) {
    for (int i = 0; i < 60; ++i) put(port, "/_s1/race", body);
  };
  std::thread a(writer, std::string(3000, 'a')), b(writer, std::string(5000, 'b'));
  a.join();
  b.join();
  // Loopback keeps the nodes' order of arrival alike, so also leave the copies as two writes
  // racing in one second can: node 0 with one version, the others with the other, one Date.
  std::string date = run("date -u '+%a, %d %b %Y %H:%M:%S GMT' | tr -d '\\n'");
  for (size_t i = 0; i < 3; ++i) {
    std::string body(i == 0 ? 5000 : 3000, i == 0 ? 'b' : 'a');
    EXPECT_EQ(one(nodes->port(i), "PUT /_s1/race HTTP/1.1\r\nHost: n\r\nDate: " + date +
                                      "\r\nContent-Length: " + str(body.size()) +
                                      "\r\nConnection: close\r\n\r\n" + body)
                  .status,
              204);
  }
  std::string check;
  ASSERT_TRUE(repaired(*m, 20000, &check)) << check << m->log();
  for (size_t i = 0; i < 3; ++i)  // same second: the larger version
    EXPECT_EQ(readFile(nodes->dir(i) + "/_s1/race"), std::string(5000, 'b')) << i;
  EXPECT_EQ(run("stat -c %Y " + nodes->dir(0) + "/_s1/race " + nodes->dir(1) + "/_s1/race " +
                nodes->dir(2) + "/_s1/race | sort -u | wc -l"),
            "1\n");
}

// Taking a node out: marked `down`, `manifold-fs drain` moves its copies to the nodes that will
// hold them once it is removed, then the config drops it; adding a node to the stage and
// `manifold-fs rebalance` moves the files it now places there (about a quarter for a fourth node),
// while the router keeps answering reads. Checksums of every file before and after agree.
TEST(FsTool, DrainAndRebalanceLoseNothing) {
  DavNodes nodes(4);
  ASSERT_TRUE(nodes.startAll());
  std::string three = store("stage = 1" + nodes.addrs({0, 1, 2}) + "\n", "repair = off\n");
  Instance m(three, "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  auto paths = putMany(
      port, 60, [](int i) { return "/_s1/t/" + str(i % 5) + "/f" + str(i); },
      [](int i) { return pattern(500 + i * 131, i + 7); });
  ASSERT_EQ(paths.size(), 60u) << m.log() << nodes.errors();
  auto before = readAll(port, paths);
  int rc = -1;
  std::string out = fsTool(m, "check", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("60 files"), std::string::npos) << out;

  // Mark node 0 down (the repairer, now on, leaves it alone), drain it, then remove it:
  // stage 1 = nodes 1 and 2.
  m.rewriteConfig(store("stage = 1 " + nodes.addr(0) + " down" + nodes.addrs({1, 2}) + "\n",
                        "repair_interval = 200ms\n"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  size_t onZero = nodes.files(0).size();
  out = fsTool(m, "drain " + nodes.addr(0), &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(str(onZero) + " deletes"), std::string::npos) << out;  // one line
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  sleepMs(1000);  // repair passes meanwhile copy nothing back
  EXPECT_TRUE(nodes.files(0).empty());
  EXPECT_EQ(readAll(port, paths), before);
  m.rewriteConfig(store("stage = 1" + nodes.addrs({1, 2}) + "\n", "repair = off\n"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(3)) << m.log();
  out = fsTool(m, "check", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(readAll(port, paths), before);

  // Add node 3 to the stage; reads go on (a copy not moved yet is found on the next node).
  m.rewriteConfig(store("stage = 1" + nodes.addrs({1, 2, 3}) + "\n", "repair = off\n"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(4)) << m.log();
  out = fsTool(m, "check", &rc);
  EXPECT_EQ(rc, 1) << out;  // misplaced until rebalanced
  std::atomic<int> badReads{0};
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done)
      for (const auto& p : paths)
        if (request(port, "GET", p).body != before[p]) ++badReads;
  });
  // On a terminal (script's pty) it redraws a progress line; --rate makes it last ~2 s.
  out = run("script -qec '" + binPath("manifold-fs") + " -c " + m.configPath() +
                " rebalance 1 --parallel 2 --rate 100k' /dev/null",
            &rc);
  done = true;
  reader.join();
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(badReads, 0);
  EXPECT_NE(out.find("\r\033[K"), std::string::npos) << out;
  EXPECT_NE(out.find("/s, "), std::string::npos) << out;   // rate
  EXPECT_NE(out.find(" left"), std::string::npos) << out;  // time left
  EXPECT_NE(out.find("rebalance 1: 60 files seen"), std::string::npos) << out;
  size_t moved = nodes.files(3).size();
  EXPECT_GE(moved, 60u * 2 / 3 * 1 / 2);  // a third of 120 copies expected: 40
  EXPECT_LE(moved, 60u);
  out = fsTool(m, "check", &rc);
  EXPECT_EQ(rc, 0) << out;
  for (const auto& p : paths) EXPECT_EQ(copiesOf(nodes, p), 2u) << p;
  EXPECT_EQ(readAll(port, paths), before);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Debian's litmus, basic suite, against the router (nginx nodes): everything passes except the
// two checks that a missing parent is refused, since the store makes parents on demand
// (nodes with create_full_put_path; MKCOL sends its parents' MKCOLs first).
TEST_F(FsLitmus, BasicSuite) {
  ASSERT_TRUE(open(3, "repair = off\n", 1));
  std::string out =
      run("cd " + m->dir() + " && TESTS=basic timeout 120 litmus http://127.0.0.1:" +
          str(m->port("store")) + "/_s1/ 2>&1 | sed -n '/basic/,/summary for .basic/p'");
  EXPECT_NE(out.find("of 16 tests run: 14 passed, 2 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("put_no_parent......... FAIL"), std::string::npos) << out;
  EXPECT_NE(out.find("mkcol_no_parent....... FAIL"), std::string::npos) << out;
}

// Debian's cadaver against the router, on an empty store (the stage's root is answered as an
// empty collection though no node has it yet): make a collection, upload, list, download,
// delete.
TEST_F(FsCadaver, BrowseUploadDownloadDelete) {
  ASSERT_TRUE(open(3, "repair = off\n", 1));
  writeFile(m->path("h.txt"), "hello cadaver\n");
  std::string out = run("cd " + m->dir() +
                        " && printf 'mkcol docs\\ncd docs\\nput h.txt\\nls\\nget h.txt h2.txt\\n"
                        "delete h.txt\\nls\\nquit\\n' | HOME=" +
                        m->dir() + " timeout 30 cadaver http://127.0.0.1:" + str(m->port("store")) +
                        "/_s1/ 2>&1");
  EXPECT_NE(out.find("Creating `docs': succeeded."), std::string::npos) << out;
  EXPECT_NE(out.find("Uploading h.txt to `/_s1/docs/h.txt':"), std::string::npos) << out;
  EXPECT_NE(out.find("h.txt                                 14"), std::string::npos) << out;
  EXPECT_EQ(readFile(m->path("h2.txt")), "hello cadaver\n");
  EXPECT_NE(out.find("Deleting `h.txt': succeeded."), std::string::npos) << out;
  EXPECT_NE(out.find("collection is empty."), std::string::npos) << out;
}
