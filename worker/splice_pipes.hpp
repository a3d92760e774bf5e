// Pipes for splice(2) relays (socket -> pipe -> socket without a user-space copy), pooled per
// worker: creating two fds and sizing the pipe per request would cost three syscalls each.
// A pipe goes back to the pool only when empty; one that still holds bytes (a relay cut short)
// is closed, so a later user never reads someone else's data.
#pragma once

#include <cstddef>
#include <vector>

namespace manifold {

struct SplicePipe {
  int readFd = -1, writeFd = -1;
  size_t capacity = 0;  // bytes the pipe holds (F_GETPIPE_SZ)
  size_t held = 0;      // bytes in it now (kept by the user)
  bool open() const { return readFd >= 0; }
};

class SplicePipes {
 public:
  // Best effort (pipe-max-size, 1 MiB by default; per-user quotas): a large pipe moves a
  // body in fewer rounds. Slots cost nothing while the pipe is empty.
  static constexpr size_t kWantedCapacity = 256 * 1024;
  explicit SplicePipes(size_t keep = 16) : keep_(keep) {}
  ~SplicePipes();
  SplicePipes(const SplicePipes&) = delete;
  SplicePipes& operator=(const SplicePipes&) = delete;

  // A pipe from the pool or a new one; false (and errno) when none can be made.
  bool acquire(SplicePipe& out);
  // Gives `p` back (closed instead when it holds bytes or the pool is full); `p` is reset.
  void release(SplicePipe& p);
  size_t pooled() const { return free_.size(); }

 private:
  static void close(SplicePipe& p);
  std::vector<SplicePipe> free_;
  size_t keep_;
};

}  // namespace manifold
