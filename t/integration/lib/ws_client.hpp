// A small blocking WebSocket client for integration tests (RFC 6455 client side): connects to
// 127.0.0.1:port, performs the opening handshake (checking Sec-WebSocket-Accept), sends masked
// frames (or any raw bytes, to test refusals) and reads the server's frames with a timeout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace manifold::testing {

class WsClient {
 public:
  WsClient() = default;
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Opening handshake. True when the server answered 101 with the right accept value;
  // `response` gets the server's answer head either way. `headers`: extra request lines.
  bool connect(int port, const std::string& path = "/announce", const std::string& headers = "",
               std::string* response = nullptr);
  bool sendText(std::string_view text);
  // A masked frame with the given first byte (FIN, RSV, opcode).
  bool sendFrame(uint8_t firstByte, std::string_view payload);
  bool sendRaw(std::string_view bytes);

  struct Frame {
    uint8_t opcode = 0;
    bool fin = false;
    std::string payload;
  };
  // The next frame from the server; false on timeout, EOF or a malformed frame.
  bool readFrame(Frame& out, int timeoutMs = 5000);
  // The next text message (pings and pongs skipped); false on timeout, close or EOF.
  bool readText(std::string& out, int timeoutMs = 5000);
  // Waits for a close frame; returns its code (1005 for none), or -1 on timeout/EOF first.
  int readClose(int timeoutMs = 5000);
  // True when the server closes the TCP connection within timeoutMs (after any frames).
  bool waitEof(int timeoutMs = 5000);
  void close();
  int fd() const { return fd_; }

 private:
  bool fill(int timeoutMs);
  int fd_ = -1;
  std::string in_;
};

}  // namespace manifold::testing
