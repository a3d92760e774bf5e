// A small blocking TFTP test client over a real UDP socket on loopback: sends exactly the
// packets a test asks for and reports exactly what came back, so tests can drop, repeat or
// reorder packets on purpose. Not a production client (see tools/tftp-load for that).
#pragma once

#include <netinet/in.h>

#include <string>

#include "protocols/tftp/packet.hpp"

namespace manifold::testing {

struct TftpPacket {
  tftp::Opcode opcode = tftp::Opcode::Error;
  uint16_t number = 0;  // block or error code
  std::string payload;  // DATA bytes, ERROR message, OACK option bytes
  std::string raw;
  sockaddr_in from{};
};

class TftpTestClient {
 public:
  // Binds to `localAddress` (any 127.x.y.z works on Linux loopback: a distinct source).
  explicit TftpTestClient(int serverPort, const char* localAddress = "127.0.0.1");
  ~TftpTestClient();
  TftpTestClient(const TftpTestClient&) = delete;

  void sendRequest(tftp::Opcode op, const std::string& name, tftp::Mode mode = tftp::Mode::Octet,
                   const tftp::Options& options = {});
  void sendRaw(const std::string& bytes, const sockaddr_in& to);
  void sendRawToServer(const std::string& bytes);  // the listen port
  void ack(uint16_t block);                        // to the transfer's TID
  void data(uint16_t block, const std::string& bytes);
  void error(uint16_t code, const std::string& message);
  // Waits up to timeoutMs for one packet; remembers the first sender as the transfer's TID.
  bool receive(TftpPacket& out, int timeoutMs = 2000);
  int port() const;  // our local port
  const sockaddr_in& tid() const { return tid_; }

 private:
  int fd_ = -1;
  sockaddr_in server_{};
  sockaddr_in tid_{};
  bool haveTid_ = false;
};

// A whole lockstep/windowed download with our client; returns false on error or timeout.
// `errorCode` gets the server's ERROR code if one came.
bool tftpGet(int port, const std::string& name, std::string& out, const tftp::Options& options = {},
             int* errorCode = nullptr, tftp::Mode mode = tftp::Mode::Octet);

std::string makeContent(size_t size, unsigned seed);

}  // namespace manifold::testing
