#include "protocols/http/access_log.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "worker/log.hpp"

namespace manifold::http {

namespace {
constexpr size_t kFlushAt = 64 * 1024;

// Quotes and backslashes escaped, control bytes as \xHH, as nginx does.
void appendEscaped(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char ch : text) {
    if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
      out.append("\\x");
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    } else {
      out.push_back(static_cast<char>(ch));
    }
  }
}
}  // namespace

AccessLog::AccessLog(struct ev_loop* loop, std::string path)
    : path_(std::move(path)), timer_(loop, [this] { flush(); }) {
  timer_.keepsLoopAlive(false);
  timer_.repeat(1.);
}

AccessLog::~AccessLog() {
  flush();
  timer_.stop();
  if (fd_ >= 0) ::close(fd_);
}

bool AccessLog::open() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return true;
}

void AccessLog::flush() {
  if (buffer_.empty() || fd_ < 0) return;
  if (::write(fd_, buffer_.data(), buffer_.size()) < 0)
    LOG_ERROR("access log %s: %s", path_.c_str(), strerror(errno));
  buffer_.clear();
}

void AccessLog::write(const sockaddr_storage& peer, std::string_view requestLine, int status,
                      uint64_t bodyBytes, std::string_view referer, std::string_view userAgent,
                      time_t now) {
  if (now != stampSecond_) {
    tm parts;
    localtime_r(&now, &parts);
    strftime(stamp_, sizeof stamp_, "%d/%b/%Y:%H:%M:%S %z", &parts);
    stampSecond_ = now;
  }
  char address[INET6_ADDRSTRLEN] = "-";
  if (peer.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr, address,
              sizeof address);
  else if (peer.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, address,
              sizeof address);
  buffer_.append(address).append(" - - [").append(stamp_).append("] \"");
  appendEscaped(buffer_, requestLine);
  buffer_.append("\" ")
      .append(std::to_string(status))
      .append(" ")
      .append(std::to_string(bodyBytes));
  buffer_.append(" \"");
  appendEscaped(buffer_, referer.empty() ? "-" : referer);
  buffer_.append("\" \"");
  appendEscaped(buffer_, userAgent.empty() ? "-" : userAgent);
  buffer_.append("\"\n");
  if (buffer_.size() >= kFlushAt) flush();
}

}  // namespace manifold::http
