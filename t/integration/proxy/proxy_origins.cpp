#include "t/integration/proxy/proxy_origins.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t/integration/lib/http_client.hpp"

namespace manifold::testing {

NginxOrigins::NginxOrigins(const std::vector<std::string>& names) : dir_(makeTempDir()) {
  std::string servers;
  for (const auto& name : names) {
    int port = freePort();
    ports_.push_back(port);
    servers += "  server {\n    listen 127.0.0.1:" + std::to_string(port) +
               ";\n    location / {\n      return 200 \"" + name +
               "|$http_x_forwarded_for|$http_x_forwarded_proto|$http_forwarded|$http_connection|"
               "$http_keep_alive|$http_te|$http_x_hop|$http_host\\n\";\n    }\n  }\n";
  }
  std::string conf = "daemon off;\nmaster_process off;\nworker_processes 1;\npid " + dir_ +
                     "/nginx.pid;\nerror_log " + dir_ +
                     "/error.log warn;\nevents { worker_connections 1024; }\nhttp {\n"
                     "  access_log " +
                     dir_ +
                     "/access.log;\n"
                     "  client_body_temp_path " +
                     dir_ + "/body;\n  proxy_temp_path " + dir_ + "/proxy;\n  fastcgi_temp_path " +
                     dir_ + "/fcgi;\n  uwsgi_temp_path " + dir_ + "/uwsgi;\n  scgi_temp_path " +
                     dir_ + "/scgi;\n" + servers + "}\n";
  writeFile(dir_ + "/nginx.conf", conf);
  process_ = std::make_unique<Background>("/usr/sbin/nginx -e " + dir_ + "/error.log -p " + dir_ +
                                          " -c " + dir_ + "/nginx.conf");
  auto start = Clock::now();
  while (msSince(start) < 5000) {
    bool all = true;
    for (int port : ports_)
      if (getStatus(port, "/", 500) != 200) all = false;
    if (all) {
      ok_ = true;
      break;
    }
    sleepMs(50);
  }
}

NginxOrigins::~NginxOrigins() { process_.reset(); }

std::string NginxOrigins::accessLog() const { return readFile(dir_ + "/access.log"); }

void sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

ScriptedOrigin::ScriptedOrigin(Script script, bool silent)
    : script_(std::move(script)), silent_(silent) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(listenFd_, 64);
  socklen_t len = sizeof a;
  getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { loop(); });
}

ScriptedOrigin::~ScriptedOrigin() {
  stop_ = true;
  thread_.join();
  ::close(listenFd_);
}

void ScriptedOrigin::loop() {
  while (!stop_) {
    if (silent_) {
      sleepMs(20);
      continue;
    }
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++connections_;
    std::string head;
    char buf[4096];
    auto start = Clock::now();
    while (head.find("\r\n\r\n") == std::string::npos && msSince(start) < 2000) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    script_(fd, head);
    ::close(fd);
  }
}

}  // namespace manifold::testing
