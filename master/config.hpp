// The whole config: [master] and every service's validated section. Services include only
// master/section_reader.hpp (through protocols/service.hpp); this header is for the master, the
// workers and the tools that need the loaded result.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "master/section_reader.hpp"
#include "protocols/service.hpp"

namespace manifold::config {

struct MasterConfig {
  unsigned workers = 1;  // resolved: auto = online CPUs
  bool cpuAffinity = false;
  std::string pidfile;
  bool daemon = false;
  std::string user;   // empty: keep the current user
  std::string group;  // empty: the user's primary group
  std::string shmName = "manifold";
  uint64_t shmSize = 256ull << 20;
  Millis shutdownTimeout{30000};
  std::string errorLog;  // empty or "stderr": standard error
  std::string logLevel = "info";
  uint64_t workerRlimitNofile = 0;     // 0: leave as is
  unsigned workerConnections = 16384;  // TCP connection cap per worker (all services)
  Millis respawnDelayMax{5000};        // back-off ceiling for a crashing worker
  unsigned crashLoopLimit = 5;         // deaths within crashLoopWindow that stop respawning
  Millis crashLoopWindow{10000};
};

struct Config {
  std::string path;
  MasterConfig master;
  std::vector<std::unique_ptr<ServiceConfig>> services;
  ~Config();
};

// Reads, types and validates the whole file (master section, every service section through
// its protocol, listen-address conflicts across services).
std::unique_ptr<Config> load(const std::string& path);

}  // namespace manifold::config
