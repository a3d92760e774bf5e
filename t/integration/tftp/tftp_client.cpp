#include "t/integration/tftp/tftp_client.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>

namespace manifold::testing {

using namespace tftp;

TftpTestClient::TftpTestClient(int serverPort, const char* localAddress) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, localAddress, &local.sin_addr);
  ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
  server_.sin_family = AF_INET;
  server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server_.sin_port = htons(static_cast<uint16_t>(serverPort));
}

TftpTestClient::~TftpTestClient() {
  if (fd_ >= 0) ::close(fd_);
}

int TftpTestClient::port() const {
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
  return ntohs(local.sin_port);
}

void TftpTestClient::sendRaw(const std::string& bytes, const sockaddr_in& to) {
  ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void TftpTestClient::sendRawToServer(const std::string& bytes) { sendRaw(bytes, server_); }

void TftpTestClient::sendRequest(Opcode op, const std::string& name, Mode mode,
                                 const Options& options) {
  uint8_t buf[2048];
  size_t n = buildRequest(buf, sizeof buf, op, name, mode, options);
  sendRaw(std::string(reinterpret_cast<char*>(buf), n), server_);
}

void TftpTestClient::ack(uint16_t block) {
  uint8_t buf[4];
  buildAck(buf, 4, block);
  sendRaw(std::string(reinterpret_cast<char*>(buf), 4), tid_);
}

void TftpTestClient::data(uint16_t block, const std::string& bytes) {
  uint8_t header[4];
  buildDataHeader(header, 4, block);
  sendRaw(std::string(reinterpret_cast<char*>(header), 4) + bytes, tid_);
}

void TftpTestClient::error(uint16_t code, const std::string& message) {
  uint8_t buf[256];
  size_t n = buildError(buf, sizeof buf, static_cast<ErrorCode>(code), message);
  sendRaw(std::string(reinterpret_cast<char*>(buf), n), tid_);
}

bool TftpTestClient::receive(TftpPacket& out, int timeoutMs) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeoutMs) <= 0) return false;
  std::string buf(70000, '\0');
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 2) return false;
  buf.resize(static_cast<size_t>(n));
  out = TftpPacket{};
  out.raw = buf;
  out.from = from;
  out.opcode = static_cast<Opcode>(get16(reinterpret_cast<uint8_t*>(buf.data())));
  if (out.opcode == Opcode::Oack) {
    out.payload = buf.substr(2);
  } else if (n >= 4) {
    out.number = get16(reinterpret_cast<uint8_t*>(buf.data()) + 2);
    out.payload = buf.substr(4);
    if (out.opcode == Opcode::Error) out.payload = out.payload.c_str();
  }
  // The first non-error reply from a port other than the listen port fixes the TID.
  if (!haveTid_ && from.sin_port != server_.sin_port) {
    tid_ = from;
    haveTid_ = true;
  }
  return true;
}

bool tftpGet(int port, const std::string& name, std::string& out, const Options& options,
             int* errorCode, Mode mode) {
  TftpTestClient c(port);
  c.sendRequest(Opcode::Rrq, name, mode, options);
  size_t blksize = 512, window = 1;
  out.clear();
  uint64_t next = 1;  // next block expected (64-bit, wire = low 16 bits)
  size_t inWindow = 0;
  TftpPacket p;
  for (;;) {
    if (!c.receive(p, 3000)) return false;
    if (p.opcode == Opcode::Error) {
      if (errorCode) *errorCode = p.number;
      return false;
    }
    if (p.opcode == Opcode::Oack) {
      Options got;
      if (!parseOack(reinterpret_cast<const uint8_t*>(p.raw.data()), p.raw.size(), got))
        return false;
      if (got.hasBlksize) blksize = got.blksize;
      if (got.hasWindowsize) window = got.windowsize;
      c.ack(0);
      continue;
    }
    if (p.opcode != Opcode::Data) return false;
    if (p.number != static_cast<uint16_t>(next)) continue;  // a retransmission
    out += p.payload;
    ++next;
    bool last = p.payload.size() < blksize;
    if (++inWindow >= window || last) {
      c.ack(static_cast<uint16_t>(next - 1));
      inWindow = 0;
    }
    if (last) return true;
  }
}

std::string makeContent(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (auto& ch : s) ch = static_cast<char>(rng());
  return s;
}

}  // namespace manifold::testing
