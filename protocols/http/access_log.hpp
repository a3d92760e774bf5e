// Access log in the combined format, buffered: lines collect in memory and are written when the
// buffer fills or once a second, so logging costs no syscall per request. Reopened on USR1.
#pragma once

#include <ev.h>
#include <sys/socket.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace manifold::http {

class AccessLog {
 public:
  AccessLog(struct ev_loop* loop, std::string path);
  ~AccessLog();
  bool open();  // false + errno
  bool reopen() { flush(); return open(); }
  void write(const sockaddr_storage& peer, std::string_view requestLine, int status,
             uint64_t bodyBytes, std::string_view referer, std::string_view userAgent, time_t now);
  void flush();

 private:
  static void onTimer(struct ev_loop*, ev_timer* watcher, int);
  struct ev_loop* loop_;
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  ev_timer timer_;
  time_t stampSecond_ = -1;
  char stamp_[32];
};

}  // namespace manifold::http
