// Helpers shared by the dns_* integration tests.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "t/integration/lib/harness.hpp"

namespace manifold::testing {

// A port free for both UDP and TCP on 127.0.0.1 and ::1 a moment ago (DNS listens on both).
inline int freeDnsPort() { return freePortAnyProtocol(); }

// One UDP exchange with raw bytes; empty when nothing came back within the timeout.
inline std::string udpExchange(int port, const std::string& packet, int timeoutMs = 700) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// A DNS header with these fields.
inline std::string header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                          uint16_t ar) {
  std::string h;
  for (uint16_t v : {id, flags, qd, an, ns, ar}) {
    h.push_back(static_cast<char>(v >> 8));
    h.push_back(static_cast<char>(v));
  }
  return h;
}

// ---- dig: the one place a dig command line is built ----
// Every query starts from these options: no recursion desired (both servers under test are
// authoritative) and one try of 2 s. `args` (options, then the query) follows them, so an option
// there such as "+time=5" or "+rec" overrides the default.
inline std::string digCommand(int port, const std::string& args,
                              const std::string& server = "127.0.0.1") {
  return "dig -p " + std::to_string(port) + " @" + server + " +norec +time=2 +tries=1 " + args;
}

// dig's whole output, its errors included.
inline std::string dig(int port, const std::string& args, const std::string& server = "127.0.0.1") {
  return run(digCommand(port, args, server) + " 2>&1");
}

// dig +short: the answer's data, one record a line.
inline std::string digShort(int port, const std::string& args,
                            const std::string& server = "127.0.0.1") {
  return dig(port, "+short " + args, server);
}

inline int rcodeOf(const std::string& reply) { return reply.size() >= 4 ? reply[3] & 0x0F : -1; }

// Polls `ok` every 100 ms for up to `ms`.
inline bool eventually(const std::function<bool()>& ok, int ms) {
  for (int waited = 0; waited < ms; waited += 100) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ok();
}

}  // namespace manifold::testing
