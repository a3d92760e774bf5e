#include "protocols/tftp/files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace manifold::tftp {

namespace {

std::string uniqueName(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  return std::string(prefix) + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

}  // namespace

int openBelow(int rootFd, const std::string& relative, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) how.mode = 0644;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, rootFd, relative.c_str(), &how, sizeof how));
}

int Upload::begin(int rootFd, const std::string& relative, bool& exists) {
  abort();
  size_t slash = relative.rfind('/');
  std::string dir = slash == std::string::npos ? "." : relative.substr(0, slash);
  name_ = slash == std::string::npos ? relative : relative.substr(slash + 1);
  dirFd_ = openBelow(rootFd, dir, O_RDONLY | O_DIRECTORY);
  if (dirFd_ < 0) return errno;
  struct stat st;
  exists = fstatat(dirFd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && S_ISDIR(st.st_mode)) return EISDIR;
  fd_ = openat(dirFd_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    visible_ = uniqueName(".tftp-") + ".part";
    fd_ = openat(dirFd_, visible_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd_ < 0) visible_.clear();
  }
  if (fd_ < 0) return errno;
  fchmod(fd_, 0644);  // O_TMPFILE ignores nothing of the umask; keep uploads world-readable
  return 0;
}

int Upload::commit(bool replace) {
  int error = 0;
  if (!visible_.empty()) {
    if (!replace && linkat(dirFd_, visible_.c_str(), dirFd_, name_.c_str(), 0) == 0) {
      unlinkat(dirFd_, visible_.c_str(), 0);
    } else if (replace && renameat(dirFd_, visible_.c_str(), dirFd_, name_.c_str()) == 0) {
    } else {
      error = errno;
      unlinkat(dirFd_, visible_.c_str(), 0);
    }
    visible_.clear();
  } else {
    std::string proc = "/proc/self/fd/" + std::to_string(fd_);
    if (!replace) {
      if (linkat(AT_FDCWD, proc.c_str(), dirFd_, name_.c_str(), AT_SYMLINK_FOLLOW) != 0)
        error = errno;
    } else {
      // Link under a temp name, then rename over the target: readers see old or new, never half.
      std::string temp = uniqueName(".tftp-");
      if (linkat(AT_FDCWD, proc.c_str(), dirFd_, temp.c_str(), AT_SYMLINK_FOLLOW) != 0 ||
          renameat(dirFd_, temp.c_str(), dirFd_, name_.c_str()) != 0) {
        error = errno;
        unlinkat(dirFd_, temp.c_str(), 0);
      }
    }
  }
  ::close(fd_);
  ::close(dirFd_);
  fd_ = dirFd_ = -1;
  return error;
}

void Upload::abort() {
  if (fd_ >= 0) ::close(fd_);
  if (!visible_.empty() && dirFd_ >= 0) unlinkat(dirFd_, visible_.c_str(), 0);
  if (dirFd_ >= 0) ::close(dirFd_);
  fd_ = dirFd_ = -1;
  visible_.clear();
}

}  // namespace manifold::tftp
