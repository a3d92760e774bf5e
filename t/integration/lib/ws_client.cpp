#include "t/integration/lib/ws_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "protocols/http/websocket_frame.hpp"
#include "protocols/http/websocket_handshake.hpp"

namespace manifold::testing {

namespace ws = manifold::http::ws;

WsClient::~WsClient() { close(); }

void WsClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

bool WsClient::connect(int port, const std::string& path, const std::string& headers,
                       std::string* response) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
                          "Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          "\r\nSec-WebSocket-Version: 13\r\n" + headers + "\r\n";
  if (!sendRaw(req)) return false;
  size_t end;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos)
    if (!fill(5000)) return false;
  const std::string head = in_.substr(0, end + 4);
  in_.erase(0, end + 4);
  if (response) *response = head;
  return head.rfind("HTTP/1.1 101 ", 0) == 0 &&
         head.find("Sec-WebSocket-Accept: " + ws::acceptValue(key) + "\r\n") != std::string::npos;
}

bool WsClient::sendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool WsClient::sendFrame(uint8_t firstByte, std::string_view payload) {
  static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  std::string out;
  ws::appendMaskedFrame(out, firstByte, payload, mask);
  return sendRaw(out);
}

bool WsClient::sendText(std::string_view text) { return sendFrame(0x81, text); }

bool WsClient::fill(int timeoutMs) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeoutMs) != 1) return false;
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  in_.append(buf, static_cast<size_t>(n));
  return true;
}

bool WsClient::readFrame(Frame& out, int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  ws::FrameLimits limits;
  limits.fromClient = false;
  limits.maxFrame = limits.maxMessage = 1 << 30;
  for (;;) {
    ws::FrameHeader h;
    ws::FrameResult r = ws::parseFrameHeader(in_, limits, h);
    if (r.status == ws::FrameStatus::Error) return false;
    if (r.status == ws::FrameStatus::Ok && in_.size() >= h.headerBytes + h.payloadBytes) {
      out.opcode = h.opcode;
      out.fin = h.fin;
      out.payload = in_.substr(h.headerBytes, h.payloadBytes);
      in_.erase(0, h.headerBytes + h.payloadBytes);
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0 || !fill(static_cast<int>(left))) return false;
  }
}

bool WsClient::readText(std::string& out, int timeoutMs) {
  Frame f;
  while (readFrame(f, timeoutMs)) {
    if (f.opcode == ws::kText) {
      out = f.payload;
      return true;
    }
    if (f.opcode == ws::kClose) return false;
  }
  return false;
}

int WsClient::readClose(int timeoutMs) {
  Frame f;
  while (readFrame(f, timeoutMs)) {
    if (f.opcode != ws::kClose) continue;
    if (f.payload.size() < 2) return 1005;
    return (static_cast<uint8_t>(f.payload[0]) << 8) | static_cast<uint8_t>(f.payload[1]);
  }
  return -1;
}

bool WsClient::waitEof(int timeoutMs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) != 1) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

}  // namespace manifold::testing
