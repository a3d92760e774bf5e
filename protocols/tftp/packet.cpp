#include "protocols/tftp/packet.hpp"

#include <cstring>

namespace manifold::tftp {

namespace {

// A NUL-terminated string starting at data[pos]; false if no NUL before `len`.
bool takeString(const uint8_t* data, size_t len, size_t& pos, std::string_view& out) {
  if (pos >= len) return false;
  const void* nul = std::memchr(data + pos, 0, len - pos);
  if (!nul) return false;
  size_t end = static_cast<size_t>(static_cast<const uint8_t*>(nul) - data);
  out = std::string_view(reinterpret_cast<const char*>(data + pos), end - pos);
  pos = end + 1;
  return true;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Strict decimal: 1..20 digits, no sign, no spaces, no overflow.
bool parseDecimal(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// Reads option pairs from data[pos..len). A dangling name without value ends the list.
void parseOptions(const uint8_t* data, size_t len, size_t pos, Options& out) {
  std::string_view name, value;
  while (takeString(data, len, pos, name) && takeString(data, len, pos, value)) {
    uint64_t n;
    if (!parseDecimal(value, n)) continue;
    if (equalsNoCase(name, "blksize")) {
      if (!out.hasBlksize && n >= kMinBlockSize && n <= kMaxBlockSize) {
        out.hasBlksize = true;
        out.blksize = static_cast<uint32_t>(n);
      }
    } else if (equalsNoCase(name, "timeout")) {
      if (!out.hasTimeout && n >= 1 && n <= 255) {
        out.hasTimeout = true;
        out.timeout = static_cast<uint32_t>(n);
      }
    } else if (equalsNoCase(name, "tsize")) {
      if (!out.hasTsize) {
        out.hasTsize = true;
        out.tsize = n;
      }
    } else if (equalsNoCase(name, "windowsize")) {
      if (!out.hasWindowsize && n >= 1 && n <= 65535) {
        out.hasWindowsize = true;
        out.windowsize = static_cast<uint32_t>(n);
      }
    }
  }
}

// Appends "name\0value\0"; false if it does not fit.
bool appendOption(uint8_t* out, size_t cap, size_t& pos, std::string_view name, uint64_t value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value);
  if (pos + name.size() + 1 + static_cast<size_t>(n) + 1 > cap) return false;
  std::memcpy(out + pos, name.data(), name.size());
  pos += name.size();
  out[pos++] = 0;
  while (n) out[pos++] = static_cast<uint8_t>(digits[--n]);
  out[pos++] = 0;
  return true;
}

bool appendOptions(uint8_t* out, size_t cap, size_t& pos, const Options& o) {
  return (!o.hasBlksize || appendOption(out, cap, pos, "blksize", o.blksize)) &&
         (!o.hasTimeout || appendOption(out, cap, pos, "timeout", o.timeout)) &&
         (!o.hasTsize || appendOption(out, cap, pos, "tsize", o.tsize)) &&
         (!o.hasWindowsize || appendOption(out, cap, pos, "windowsize", o.windowsize));
}

}  // namespace

ParseResult parseRequest(const uint8_t* data, size_t len, Request& out) {
  if (len < 2) return ParseResult::Malformed;
  uint16_t op = get16(data);
  if (op == static_cast<uint16_t>(Opcode::Data) || op == static_cast<uint16_t>(Opcode::Ack) ||
      op == static_cast<uint16_t>(Opcode::Error) || op == static_cast<uint16_t>(Opcode::Oack))
    return ParseResult::NotARequest;
  if (op != static_cast<uint16_t>(Opcode::Rrq) && op != static_cast<uint16_t>(Opcode::Wrq))
    return ParseResult::Malformed;
  out = Request{};
  out.opcode = static_cast<Opcode>(op);
  size_t pos = 2;
  std::string_view mode;
  if (!takeString(data, len, pos, out.filename) || !takeString(data, len, pos, mode))
    return ParseResult::Malformed;
  if (out.filename.empty() || out.filename.size() > kMaxFilename) return ParseResult::Malformed;
  if (equalsNoCase(mode, "octet"))
    out.mode = Mode::Octet;
  else if (equalsNoCase(mode, "netascii"))
    out.mode = Mode::Netascii;
  else
    return ParseResult::BadMode;
  parseOptions(data, len, pos, out.options);
  return ParseResult::Ok;
}

bool parsePacket(const uint8_t* data, size_t len, Packet& out) {
  if (len < 2) return false;
  uint16_t op = get16(data);
  if (op == static_cast<uint16_t>(Opcode::Oack)) {
    out = Packet{Opcode::Oack, 0, data + 2, len - 2};
    return true;
  }
  if (len < 4) return false;
  if (op != static_cast<uint16_t>(Opcode::Data) && op != static_cast<uint16_t>(Opcode::Ack) &&
      op != static_cast<uint16_t>(Opcode::Error))
    return false;
  out.opcode = static_cast<Opcode>(op);
  out.number = get16(data + 2);
  out.payload = data + 4;
  out.payloadLen = len - 4;
  if (out.opcode == Opcode::Error) {
    const void* nul = std::memchr(out.payload, 0, out.payloadLen);
    if (nul) out.payloadLen = static_cast<size_t>(static_cast<const uint8_t*>(nul) - out.payload);
  }
  return true;
}

size_t buildAck(uint8_t* out, size_t cap, uint16_t block) {
  if (cap < 4) return 0;
  put16(out, static_cast<uint16_t>(Opcode::Ack));
  put16(out + 2, block);
  return 4;
}

size_t buildDataHeader(uint8_t* out, size_t cap, uint16_t block) {
  if (cap < 4) return 0;
  put16(out, static_cast<uint16_t>(Opcode::Data));
  put16(out + 2, block);
  return 4;
}

size_t buildError(uint8_t* out, size_t cap, ErrorCode code, std::string_view message) {
  if (message.empty()) message = errorMessage(code);
  if (cap < 5) return 0;
  size_t n = std::min(message.size(), cap - 5);
  put16(out, static_cast<uint16_t>(Opcode::Error));
  put16(out + 2, static_cast<uint16_t>(code));
  std::memcpy(out + 4, message.data(), n);
  out[4 + n] = 0;
  return 5 + n;
}

size_t buildOack(uint8_t* out, size_t cap, const Options& accepted) {
  if (cap < 2) return 0;
  put16(out, static_cast<uint16_t>(Opcode::Oack));
  size_t pos = 2;
  return appendOptions(out, cap, pos, accepted) ? pos : 0;
}

size_t buildRequest(uint8_t* out, size_t cap, Opcode opcode, std::string_view filename, Mode mode,
                    const Options& options) {
  std::string_view modeName = mode == Mode::Octet ? "octet" : "netascii";
  size_t need = 2 + filename.size() + 1 + modeName.size() + 1;
  if (cap < need) return 0;
  put16(out, static_cast<uint16_t>(opcode));
  size_t pos = 2;
  std::memcpy(out + pos, filename.data(), filename.size());
  pos += filename.size();
  out[pos++] = 0;
  std::memcpy(out + pos, modeName.data(), modeName.size());
  pos += modeName.size();
  out[pos++] = 0;
  return appendOptions(out, cap, pos, options) ? pos : 0;
}

bool parseOack(const uint8_t* data, size_t len, Options& out) {
  if (len < 2 || get16(data) != static_cast<uint16_t>(Opcode::Oack)) return false;
  if (len > 2 && data[len - 1] != 0) return false;
  out = Options{};
  parseOptions(data, len, 2, out);
  return true;
}

std::string_view errorMessage(ErrorCode code) {
  switch (code) {
    case ErrorCode::FileNotFound:
      return "File not found";
    case ErrorCode::AccessViolation:
      return "Access violation";
    case ErrorCode::DiskFull:
      return "Disk full or allocation exceeded";
    case ErrorCode::IllegalOperation:
      return "Illegal TFTP operation";
    case ErrorCode::UnknownTid:
      return "Unknown transfer ID";
    case ErrorCode::FileExists:
      return "File already exists";
    case ErrorCode::NoSuchUser:
      return "No such user";
    case ErrorCode::OptionRefused:
      return "Option negotiation failed";
    case ErrorCode::NotDefined:
      break;
  }
  return "Error";
}

}  // namespace manifold::tftp
