// Tier: end-to-end — [fs:NAME], the distributed WebDAV store's router, in front of Manifold's
// own WebDAV servers ([http:NAME] webdav = on) on loopback: placement of N copies, reads failing
// over to another copy, hand-off past a dead node, the write quorum, DELETE and MKCOL on every
// node, a PUT without a stage answered with its Location.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "t/integration/fs/fs_test_util.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

std::string node(const std::string& name) { return davNode(name); }

std::string store(const std::string& stages, const std::string& extra = "") {
  return "[fs:store]\nlisten = 127.0.0.1:{port:store}\n" + stages + extra + "\n";
}

Reply put(int port, const std::string& path, const std::string& body) {
  return one(port, "PUT " + path + " HTTP/1.1\r\nHost: s\r\nContent-Length: " + str(body.size()) +
                       "\r\nConnection: close\r\n\r\n" + body);
}

Reply request(int port, const std::string& method, const std::string& path) {
  return one(port, method + " " + path + " HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
}

// Which of the nodes hold `path` on disk.
std::vector<std::string> holders(const Instance& m, const std::vector<std::string>& nodes,
                                 const std::string& path) {
  std::vector<std::string> out;
  for (const auto& n : nodes)
    if (fileExists(m.path(n + path))) out.push_back(n);
  return out;
}

}  // namespace

// Every file gets exactly `replicas` copies, spread over the stage; reads come back whole, also
// when the first copy is gone from its node (the next copy answers).
TEST(FsStore, PutPlacesReplicasAndReadsFailOver) {
  const std::vector<std::string> nodes = {"n1", "n2", "n3"};
  Instance m(node("n1") + node("n2") + node("n3") +
                 store("stage = 1 127.0.0.1:{port:n1} 127.0.0.1:{port:n2} 127.0.0.1:{port:n3}\n",
                       "replicas = 2\n"),
             "", 2);
  for (const auto& n : nodes) run("mkdir -p " + m.path(n));
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  std::map<std::string, int> perNode;
  for (int i = 0; i < 24; ++i) {
    std::string path = "/_s1/dir/f" + str(i), body = "file " + str(i) + "\n";
    Reply r = put(port, path, body);
    EXPECT_EQ(r.status, 201) << path;
    EXPECT_EQ(r.header("X-Copies-Written"), "2");
    auto where = holders(m, nodes, path);
    EXPECT_EQ(where.size(), 2u) << path;
    for (auto& n : where) perNode[n]++;
    EXPECT_EQ(request(port, "GET", path).body, body);
  }
  for (const auto& n : nodes) EXPECT_GE(perNode[n], 8) << n;  // 16 expected each

  // The first copy vanishes from its node: the read is answered from the other one.
  int failedOver = 0;
  for (int i = 0; i < 6; ++i) {
    std::string path = "/_s1/dir/f" + str(i);
    auto where = holders(m, nodes, path);
    ASSERT_EQ(where.size(), 2u);
    run("rm " + m.path(where[0] + path));
    Reply r = request(port, "GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "file " + str(i) + "\n");
    failedOver += r.status == 200;
  }
  EXPECT_EQ(failedOver, 6);
  EXPECT_GE(jsonCounter(run(binPath("manifold-shm") + " -n " + m.shmName() + " --json"), "fs:store",
                        "proxy_retries"),
            1);
  EXPECT_EQ(request(port, "GET", "/_s1/dir/none").status, 404);
  EXPECT_EQ(request(port, "GET", "/_s9/dir/f1").status, 404);  // no such stage
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A PUT without a stage lands in write_stage (the highest by default) and says where; DELETE
// removes every copy; MKCOL makes the collection on every node of the stage.
TEST(FsStore, StagelessPutDeleteAndMkcol) {
  const std::vector<std::string> nodes = {"n1", "n2", "n3"};
  Instance m(node("n1") + node("n2") + node("n3") +
                 store("stage = 1 127.0.0.1:{port:n1} 127.0.0.1:{port:n2}\n"
                       "stage = 2 127.0.0.1:{port:n2} 127.0.0.1:{port:n3}\n"),
             "", 1);
  for (const auto& n : nodes) run("mkdir -p " + m.path(n));
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  Reply r = put(port, "/photos/a.jpg", "jpeg bytes");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("Location"), "/_s2/photos/a.jpg");
  EXPECT_EQ(holders(m, nodes, "/_s2/photos/a.jpg"), (std::vector<std::string>{"n2", "n3"}));
  EXPECT_EQ(request(port, "GET", "/_s2/photos/a.jpg").body, "jpeg bytes");
  EXPECT_EQ(request(port, "GET", "/photos/a.jpg").status, 404);  // reads name their stage

  EXPECT_EQ(request(port, "DELETE", "/_s2/photos/a.jpg").status, 204);
  EXPECT_TRUE(holders(m, nodes, "/_s2/photos/a.jpg").empty());
  EXPECT_EQ(request(port, "DELETE", "/_s2/photos/a.jpg").status, 404);

  // Parents are made on demand (the stage's own folder does not exist on the nodes yet).
  EXPECT_EQ(request(port, "MKCOL", "/_s1/albums/2026/").status, 201);
  EXPECT_TRUE(fileExists(m.path("n1/_s1/albums/2026")));
  EXPECT_TRUE(fileExists(m.path("n2/_s1/albums/2026")));
  EXPECT_FALSE(fileExists(m.path("n3/_s1")));                     // not a node of stage 1
  EXPECT_EQ(request(port, "MKCOL", "/_s1/albums/").status, 405);  // it exists everywhere
  // A collection's DELETE on nodes without PROPFIND: the collection alone, on every node.
  EXPECT_EQ(request(port, "MKCOL", "/_s1/gone/").status, 201);
  EXPECT_EQ(put(port, "/_s1/gone/a", "a").status, 201);
  EXPECT_EQ(request(port, "DELETE", "/_s1/gone/").status, 204);
  EXPECT_FALSE(fileExists(m.path("n1/_s1/gone")));
  EXPECT_FALSE(fileExists(m.path("n2/_s1/gone")));
  EXPECT_EQ(request(port, "DELETE", "/_s1/gone/").status, 404);
  EXPECT_EQ(request(port, "MOVE", "/_s1/albums/").status, 400);  // no Destination
  EXPECT_EQ(request(port, "LOCK", "/_s1/albums/").status, 501);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// A dead node: its copies go to the next node of the ranking (hand-off), so writes keep N
// copies; with no node left to hand off to, fewer than write_quorum copies answer 503 and say
// how many were written.
TEST(FsStore, DeadNodeHandOffAndWriteQuorum) {
  const std::vector<std::string> nodes = {"n1", "n2", "n3"};
  Instance m(node("n1") + node("n2") + node("n3") +
                 store("stage = 1 127.0.0.1:{port:n1} 127.0.0.1:{port:n2} 127.0.0.1:{port:n3} "
                       "127.0.0.1:{port:dead}\n"
                       "stage = 2 127.0.0.1:{port:n1} 127.0.0.1:{port:dead}\n",
                       "replicas = 2\nconnect_timeout = 1s\n"),
             "", 1);
  for (const auto& n : nodes) run("mkdir -p " + m.path(n));
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  for (int i = 0; i < 12; ++i) {
    std::string path = "/_s1/h" + str(i);
    Reply r = put(port, path, "x");
    EXPECT_EQ(r.status, 201) << path;
    EXPECT_EQ(holders(m, nodes, path).size(), 2u) << path;
  }
  EXPECT_GE(storeCounter(m, "fs_handoffs"), 1);  // the dead node ranks in the top two often
  Reply short1 = put(port, "/_s2/q", "y");
  EXPECT_EQ(short1.status, 503);
  EXPECT_EQ(short1.header("X-Copies-Written"), "1");
  EXPECT_GE(storeCounter(m, "fs_writes_failed"), 1);
  EXPECT_EQ(m.stop(), 0) << m.log();

  // With write_quorum = 1 the same write succeeds with its one copy.
  m.rewriteConfig(node("n1") + node("n2") + node("n3") +
                  store("stage = 2 127.0.0.1:{port:n1} 127.0.0.1:{port:dead}\n",
                        "replicas = 2\nwrite_quorum = 1\nconnect_timeout = 1s\n"));
  ASSERT_TRUE(m.start()) << m.log();
  Reply one1 = put(m.port("store"), "/_s2/q2", "y");
  EXPECT_EQ(one1.status, 201);
  EXPECT_EQ(one1.header("X-Copies-Written"), "1");
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// Config mistakes are refused with file, line and key.
TEST(FsStore, BadStagesAreRefused) {
  for (const std::string& bad :
       {std::string("stage = 1 127.0.0.1:9\nreplicas = 2\n"),
        std::string("stage = 1 127.0.0.1:9 127.0.0.1:10\nstage = 1 127.0.0.1:11 127.0.0.1:12\n"),
        std::string("stage = x 127.0.0.1:9\n"), std::string("stage = 1 127.0.0.1:9 127.0.0.1:9\n"),
        std::string("stage = 1 127.0.0.1:9 127.0.0.1:10\nwrite_stage = 3\n"),
        std::string("stage = 1 127.0.0.1:9 127.0.0.1:10\nrepair = maybe\n"),
        std::string("stage = 1 127.0.0.1:9 127.0.0.1:10\nrepair_interval = 10ms\n"),
        std::string("stage = 1 127.0.0.1:9 127.0.0.1:10\nrepair_parallel = 0\n"),
        std::string("stage = 1 127.0.0.1:9 127.0.0.1:10\ntombstone_memory = 1k\n"),
        std::string("stage = 1 127.0.0.1:9 127.0.0.1:10\ntombstone_ttl = 0\n")}) {
    Instance m(store(bad), "", 1);
    std::string out = run(binPath("manifold") + " -t -c " + m.configPath() + " 2>&1");
    EXPECT_NE(out.find(m.configPath() + ":"), std::string::npos) << out;
    EXPECT_EQ(out.find("successful"), std::string::npos) << bad << out;
  }
}

// cache = on: reads come from the proxy's shared cache; a write through the router drops the
// cached copy, so the next read sees the new file.
TEST(FsStore, ReadsThroughTheCacheAndWritesInvalidateIt) {
  const std::vector<std::string> nodes = {"n1", "n2"};
  Instance m(node("n1") + node("n2") +
                 store("stage = 1 127.0.0.1:{port:n1} 127.0.0.1:{port:n2}\n",
                       "cache = on\ncache_memory = 4m\ncache_heuristic_percent = 0\n"),
             "", 1);
  for (const auto& n : nodes) run("mkdir -p " + m.path(n));
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  EXPECT_EQ(put(port, "/_s1/c.txt", "first").status, 201);
  // A lifetime from the file's age: make the copies old so the heuristic gives them one.
  run("touch -d '10 days ago' " + m.path("n1/_s1/c.txt") + " " + m.path("n2/_s1/c.txt"));
  m.rewriteConfig(node("n1") + node("n2") +
                  store("stage = 1 127.0.0.1:{port:n1} 127.0.0.1:{port:n2}\n",
                        "cache = on\ncache_memory = 4m\n"));
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  EXPECT_EQ(request(port, "GET", "/_s1/c.txt").header("X-Cache"), "MISS");
  Reply hit = request(port, "GET", "/_s1/c.txt");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.body, "first");
  EXPECT_EQ(put(port, "/_s1/c.txt", "second").status, 204);
  Reply after = request(port, "GET", "/_s1/c.txt");
  EXPECT_EQ(after.body, "second");
  EXPECT_EQ(after.header("X-Cache"), "MISS");
  EXPECT_EQ(m.stop(), 0) << m.log();
}

// nginx WebDAV nodes (dav_methods, and PROPFIND from Debian's dav-ext module): files written
// through the router, and a PROPFIND of their folder merged over the stage lists each file
// once, though every node holds only some of them.
TEST(FsStore, NginxNodesAndMergedPropfind) {
  const std::string root = makeTempDir();
  std::vector<int> ports = {freePort(), freePort(), freePort()};
  std::string conf =
      "load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;\n"
      "daemon off;\nmaster_process off;\nworker_processes 1;\npid " +
      root +
      "/nginx.pid;\n"
      "error_log " +
      root +
      "/error.log warn;\nevents {}\nhttp {\n"
      "  access_log off;\n  client_body_temp_path " +
      root + "/tmp;\n";
  for (size_t i = 0; i < ports.size(); ++i) {
    run("mkdir -p " + root + "/n" + str(i));
    conf += "  server { listen 127.0.0.1:" + str(ports[i]) + "; root " + root + "/n" + str(i) +
            "; dav_methods PUT DELETE MKCOL; dav_ext_methods PROPFIND OPTIONS;"
            " create_full_put_path on; }\n";
  }
  conf += "}\n";
  run("mkdir -p " + root + "/tmp && chmod -R 777 " + root);
  writeFile(root + "/nginx.conf", conf);
  auto nginx = std::make_unique<Background>("nginx -p " + root + " -c " + root + "/nginx.conf");
  for (int port : ports) {  // a DAV node answers PROPFIND on its root once it runs
    bool up = false;
    for (int i = 0; i < 100 && !up; ++i) {
      up = request(port, "OPTIONS", "/").status == 200;
      if (!up) sleepMs(50);
    }
    ASSERT_TRUE(up) << readFile(root + "/error.log");
  }

  Instance m(store("stage = 1 127.0.0.1:" + str(ports[0]) + " 127.0.0.1:" + str(ports[1]) +
                   " 127.0.0.1:" + str(ports[2]) + "\n"),
             "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  int port = m.port("store");
  EXPECT_EQ(request(port, "MKCOL", "/_s1/docs/").status, 201);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(put(port, "/_s1/docs/f" + str(i), "body").status, 201);
  Reply list = one(port,
                   "PROPFIND /_s1/docs/ HTTP/1.1\r\nHost: s\r\nDepth: 1\r\n"
                   "Content-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(list.status, 207);
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = list.body.find(needle); at != std::string::npos;
         at = list.body.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("<D:href>/_s1/docs/</D:href>"), 1u) << list.body;
  for (int i = 0; i < 9; ++i) EXPECT_EQ(count("<D:href>/_s1/docs/f" + str(i) + "</D:href>"), 1u);
  int copies = 0;  // two copies of each file over three nodes: no node alone lists them all
  for (size_t i = 0; i < ports.size(); ++i)
    copies += std::stoi(run("ls " + root + "/n" + str(i) + "/_s1/docs | wc -l"));
  EXPECT_EQ(copies, 18);
  EXPECT_EQ(one(port,
                "PROPFIND /_s1/docs/ HTTP/1.1\r\nHost: s\r\nDepth: infinity\r\n"
                "Connection: close\r\n\r\n")
                .status,
            403);
  EXPECT_EQ(m.stop(), 0) << m.log();
  nginx.reset();  // killed by pid
  run("rm -rf " + root);
}
