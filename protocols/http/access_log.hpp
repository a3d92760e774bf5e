// Access log in the combined format, buffered: lines collect in memory and are written when the
// buffer fills or once a second, so logging costs no syscall per request. Reopened on USR1.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "worker/timer.hpp"

namespace manifold::http {

class AccessLog {
 public:
  AccessLog(struct ev_loop* loop, std::string path);
  ~AccessLog();
  bool open();  // false + errno
  bool reopen() {
    flush();
    return open();
  }
  void write(const sockaddr_storage& peer, std::string_view requestLine, int status,
             uint64_t bodyBytes, std::string_view referer, std::string_view userAgent, time_t now);
  void flush();

 private:
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  Timer timer_;  // flushes once a second; never keeps a draining worker alive
  time_t stampSecond_ = -1;
  char stamp_[32];
};

}  // namespace manifold::http
