// File access below the TFTP root: opens that no name (.., absolute, symlink) can escape, and
// uploads that become visible only when complete.
#pragma once

#include <cstdint>
#include <string>

namespace manifold::tftp {

// openat2(rootFd, relative, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): -1 + errno on
// failure (EXDEV when the path, or a symlink on it, leads out of the root).
int openBelow(int rootFd, const std::string& relative, int flags);

// An upload in progress: an unnamed O_TMPFILE in the target's directory, linked into place by
// commit(). Where O_TMPFILE is not supported it falls back to a hidden ".tftp-*.part" file that
// abort() unlinks. Either way an abandoned upload leaves nothing under the final name.
class Upload {
 public:
  Upload() = default;
  Upload(const Upload&) = delete;
  ~Upload() { abort(); }

  // Opens the target's directory below the root and the temp file in it. Returns 0 or errno.
  // `exists` reports whether the final name exists now (a directory there is EISDIR).
  int begin(int rootFd, const std::string& relative, bool& exists);
  int fd() const { return fd_; }
  // Makes the data visible under the final name, replacing an existing file if `replace`
  // (otherwise EEXIST if one appeared meanwhile). Returns 0 or errno. Closes everything.
  int commit(bool replace);
  void abort();  // drops the data; idempotent

 private:
  int dirFd_ = -1, fd_ = -1;
  std::string name_;     // final name in dirFd_
  std::string visible_;  // fallback temp name, empty with O_TMPFILE
};

}  // namespace manifold::tftp
