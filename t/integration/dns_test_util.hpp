// Helpers shared by the dns_* integration tests.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t/integration/harness.hpp"

namespace manifold::testing {

// A port free for both UDP and TCP on 127.0.0.1 and ::1 a moment ago (DNS listens on both).
inline int freeDnsPort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int port = freePort(true);
    bool ok = true;
    for (int family : {AF_INET, AF_INET6}) {
      int fd = socket(family, SOCK_STREAM, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_storage ss{};
      socklen_t len;
      if (family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<uint16_t>(port));
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
      } else {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<uint16_t>(port));
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
      }
      if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) ok = false;
      close(fd);
    }
    if (ok) return port;
  }
  return freePort(true);
}

}  // namespace manifold::testing
