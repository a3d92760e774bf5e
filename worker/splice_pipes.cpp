#include "worker/splice_pipes.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace manifold {

SplicePipes::~SplicePipes() {
  for (SplicePipe& p : free_) close(p);
}

bool SplicePipes::acquire(SplicePipe& out) {
  if (!free_.empty()) {
    out = free_.back();
    free_.pop_back();
    return true;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  out = SplicePipe{fds[0], fds[1], 0, 0};
  fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kWantedCapacity));  // may be refused: keep default
  int size = fcntl(fds[1], F_GETPIPE_SZ);
  out.capacity = size > 0 ? static_cast<size_t>(size) : 65536;
  return true;
}

void SplicePipes::release(SplicePipe& p) {
  if (!p.open()) return;
  if (p.held == 0 && free_.size() < keep_) {
    free_.push_back(p);
  } else {
    close(p);
  }
  p = SplicePipe{};
}

void SplicePipes::close(SplicePipe& p) {
  ::close(p.readFd);
  ::close(p.writeFd);
  p = SplicePipe{};
}

}  // namespace manifold
