// Helpers shared by the fs_* integration tests: Manifold's own WebDAV nodes behind the router,
// and the router's counters read from shm.
#pragma once

#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

namespace manifold::testing {

// An [http:NAME] WebDAV node on {port:NAME} serving {dir}/NAME, with no file cache (the tests
// look at the nodes' files directly). `listenWord` follows the address (" tls"); `extra` adds keys.
inline std::string davNode(const std::string& name, const std::string& extra = "",
                           const std::string& listenWord = "") {
  return "[http:" + name + "]\nlisten = 127.0.0.1:{port:" + name + "}" + listenWord +
         "\nroot = {dir}/" + name +
         "\nwebdav = on\ncreate_full_put_path = on\nfile_check_interval = 0\nxcache_size = 0\n" +
         extra + "\n";
}

// A counter of the [fs:store] section, summed over workers, as manifold-shm prints it.
inline long long storeCounter(const Instance& m, const std::string& name) {
  return jsonCounter(run(binPath("manifold-shm") + " -n " + m.shmName() + " --json"), "fs:store",
                     name);
}

}  // namespace manifold::testing
