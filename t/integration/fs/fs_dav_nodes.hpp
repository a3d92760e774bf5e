// The fs tests that run real nginx WebDAV nodes (Debian's nginx with dav_methods and the
// dav-ext module for PROPFIND), each node its own nginx process so a test can stop and restart
// one, and a router in front of them: shared by fs_repair_test.cpp and fs_copymove_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "t/integration/fs/fs_test_util.hpp"
#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

namespace manifold::testing {

// WebDAV nodes, one nginx (no master process, so nothing outlives the test) per node.
class DavNodes {
 public:
  // `serverExtra`: nginx directives added to each node's server block.
  explicit DavNodes(size_t count, std::string serverExtra = "")
      : root_(makeTempDir()), serverExtra_(std::move(serverExtra)) {
    run("chmod 777 " + root_);
    for (size_t i = 0; i < count; ++i) {
      ports_.push_back(freePort());
      // Each nginx its own body temp folder: they number their temp files alike.
      run("mkdir -p " + dir(i) + " " + dir(i) + ".tmp && chmod 777 " + dir(i) + " " + dir(i) +
          ".tmp");
      procs_.emplace_back();
    }
  }
  ~DavNodes() {
    procs_.clear();
    run("rm -rf " + root_);
  }
  size_t size() const { return ports_.size(); }
  int port(size_t i) const { return ports_[i]; }
  std::string addr(size_t i) const { return "127.0.0.1:" + str(ports_[i]); }
  std::string dir(size_t i) const { return root_ + "/n" + str(static_cast<long long>(i)); }
  std::string addrs(std::vector<size_t> which) const {
    std::string out;
    for (size_t i : which) out += " " + addr(i);
    return out;
  }
  bool start(size_t i) {
    std::string n = str(static_cast<long long>(i));
    std::string conf =
        "load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;\n"
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid " +
        root_ + "/nginx" + n + ".pid;\nerror_log " + root_ + "/error" + n +
        ".log warn;\nevents {}\nhttp {\n  access_log off;\n"
        "  client_body_temp_path " +
        dir(i) + ".tmp;\n  client_max_body_size 0;\n" +
        "  server { listen 127.0.0.1:" + str(ports_[i]) + "; root " + dir(i) +
        "; dav_methods PUT DELETE MKCOL; dav_ext_methods PROPFIND OPTIONS;"
        " create_full_put_path on; " +
        serverExtra_ + " }\n}\n";
    writeFile(root_ + "/nginx" + n + ".conf", conf);
    procs_[i] =
        std::make_unique<Background>("nginx -p " + root_ + " -c " + root_ + "/nginx" + n + ".conf");
    for (int t = 0; t < 100; ++t) {
      if (one(ports_[i], "OPTIONS / HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n").status ==
          200)
        return true;
      sleepMs(50);
    }
    return false;
  }
  bool startAll() {
    for (size_t i = 0; i < size(); ++i)
      if (!start(i)) return false;
    return true;
  }
  void stop(size_t i) { procs_[i].reset(); }
  // Files under the node's stage folders (not the reserved folder), as "/_s1/x".
  std::vector<std::string> files(size_t i) const {
    std::string out =
        run("cd " + dir(i) + " && find . -type f -path './_s*' | sed 's/^\\.//' | sort");
    std::vector<std::string> v;
    for (size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
      v.push_back(out.substr(at, nl - at));
    return v;
  }
  // The nodes' error logs, for failure messages.
  std::string errors() const { return run("cat " + root_ + "/error*.log"); }
  size_t reserved(size_t i, const std::string& kind) const {
    return std::stoul(
        run("find " + dir(i) + "/.manifold-fs/" + kind + " -type f 2>/dev/null | wc -l"));
  }

 private:
  std::string root_, serverExtra_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<Background>> procs_;
};

inline std::string store(const std::string& stages, const std::string& extra = "",
                         const std::string& copies = "replicas = 2\n") {
  return "[fs:store]\nlisten = 127.0.0.1:{port:store}\nconnect_timeout = 1s\n" + copies + stages +
         extra + "\n";
}

// Starts the nodes and a router in front of every one of them, as stage 1.
inline std::unique_ptr<Instance> storeOver(DavNodes& nodes, const std::string& extra,
                                           unsigned workers = 1,
                                           const std::string& copies = "replicas = 2\n",
                                           const std::string& sections = "") {
  if (!nodes.startAll()) {
    ADD_FAILURE() << "nginx nodes did not start: " << nodes.errors();
    return nullptr;
  }
  std::vector<size_t> all;
  for (size_t i = 0; i < nodes.size(); ++i) all.push_back(i);
  auto m = std::make_unique<Instance>(
      store("stage = 1" + nodes.addrs(all) + "\n", extra, copies) + sections, "", workers);
  if (!m->start()) {
    ADD_FAILURE() << m->log();
    return nullptr;
  }
  return m;
}

inline Reply put(int port, const std::string& path, const std::string& body) {
  return one(port, "PUT " + path + " HTTP/1.1\r\nHost: s\r\nContent-Length: " + str(body.size()) +
                       "\r\nConnection: close\r\n\r\n" + body);
}

// PUTs `count` files through the router: path(i) with body(i); their paths, or none on a failure.
inline std::vector<std::string> putMany(int port, int count,
                                        const std::function<std::string(int)>& path,
                                        const std::function<std::string(int)>& body) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    paths.push_back(path(i));
    int status = put(port, paths.back(), body(i)).status;
    if (status != 201) {
      ADD_FAILURE() << "PUT " << paths.back() << ": " << status;
      return {};
    }
  }
  return paths;
}

inline Reply request(int port, const std::string& method, const std::string& path) {
  return one(port, method + " " + path + " HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
}

inline std::string fsTool(const Instance& m, const std::string& args, int* rc) {
  return run(binPath("manifold-fs") + " -c " + m.configPath() + " " + args + " 2>&1", rc);
}

// `manifold-fs check` until it says the store is whole (the router's repairer at work).
inline bool repaired(const Instance& m, int waitMs, std::string* last = nullptr) {
  for (int waited = 0; waited <= waitMs; waited += 250) {
    int rc = -1;
    std::string out = fsTool(m, "check", &rc);
    if (last) *last = out;
    if (rc == 0) return true;
    sleepMs(250);
  }
  return false;
}

// Every file's content read through the router.
inline std::map<std::string, std::string> readAll(int port, const std::vector<std::string>& paths) {
  std::map<std::string, std::string> out;
  for (const auto& p : paths) {
    Reply r = request(port, "GET", p);
    out[p] = r.status == 200 ? r.body : "status " + str(r.status);
  }
  return out;
}

inline size_t copiesOf(const DavNodes& nodes, const std::string& path) {
  size_t n = 0;
  for (size_t i = 0; i < nodes.size(); ++i) n += fileExists(nodes.dir(i) + path);
  return n;
}

// The peak resident set of the instance's one worker, in KiB (-1 unless it has one worker).
inline long long peakKiB(const Instance& m) {
  std::vector<pid_t> w = m.workerPids();
  if (w.size() != 1) return -1LL;
  return std::stoll(run("awk '/VmHWM/ {print $2}' /proc/" + str(w[0]) + "/status"));
}

// The nginx-node tests' common setup: `count` nginx nodes, and a router over all of them as stage 1
// (storeOver); the router must stop cleanly at the end of each test.
class DavStore : public ::testing::Test {
 protected:
  bool open(size_t count, const std::string& extra, unsigned workers = 1,
            const std::string& copies = "replicas = 2\n", const std::string& sections = "") {
    nodes = std::make_unique<DavNodes>(count);
    m = storeOver(*nodes, extra, workers, copies, sections);
    if (m) port = m->port("store");
    return m != nullptr;
  }
  void TearDown() override {
    if (m) {
      EXPECT_EQ(m->stop(), 0) << m->log();
    }
  }
  std::unique_ptr<DavNodes> nodes;
  std::unique_ptr<Instance> m;  // declared after the nodes: stopped before them
  int port = 0;
};

}  // namespace manifold::testing
