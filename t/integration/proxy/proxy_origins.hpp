// Origins for the proxy tests: nginx (Debian's package) with one server block per named
// origin that answers every path with its name and echoes the request fields a proxy changes,
// and a scripted raw TCP origin for faults nginx cannot make (malformed heads, cuts, silence).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "t/integration/lib/harness.hpp"

namespace manifold::testing {

// nginx on 127.0.0.1 with `names.size()` server blocks; origin i listens on ports()[i] and
// answers "name|X-Forwarded-For|X-Forwarded-Proto|Forwarded|Connection|Keep-Alive|TE|
// X-Hop|Host\n" to any request. Killed by pid on destruction.
class NginxOrigins {
 public:
  explicit NginxOrigins(const std::vector<std::string>& names);
  ~NginxOrigins();
  bool ok() const { return ok_; }
  const std::vector<int>& ports() const { return ports_; }
  std::string accessLog() const;

 private:
  std::string dir_;
  std::vector<int> ports_;
  std::unique_ptr<Background> process_;
  bool ok_ = false;
};

// A TCP origin on 127.0.0.1:port() that runs `script(fd, request)` for each connection once a
// request head has arrived, then closes it. Listens with a backlog but accepts nothing while
// `silent` (connects succeed, nothing answers: a hung backend).
class ScriptedOrigin {
 public:
  using Script = std::function<void(int fd, const std::string& head)>;
  explicit ScriptedOrigin(Script script, bool silent = false);
  ~ScriptedOrigin();
  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void loop();
  Script script_;
  int listenFd_ = -1;
  int port_ = 0;
  bool silent_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

void sendAll(int fd, const std::string& data);

}  // namespace manifold::testing
