// Read-only mappings of served files, shared by every transfer of the same file in a worker:
// DATA packets are sent straight from the page cache (sendmmsg iovecs point into the mapping),
// with no pread and no copy per block, and 1,000 transfers of one file fault its pages once.
// A mapping is keyed by (device, inode, size, mtime); a file replaced by an upload (rename) is
// a new inode, so transfers already running keep sending the old content consistently. The
// server never touches mapped bytes itself: if a file is truncated under a transfer, the
// kernel's copy in sendmmsg fails with EFAULT and that transfer ends with an error.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace manifold::tftp {

class MappedFiles {
 public:
  MappedFiles() = default;
  MappedFiles(const MappedFiles&) = delete;
  ~MappedFiles();
  // A mapping of the open file `fd` described by `st`, or nullptr (empty file, mmap failure:
  // the caller falls back to pread). Each non-null result must be given back with release().
  const uint8_t* acquire(int fd, const struct stat& st);
  void release(const uint8_t* base);
  size_t mappings() const { return byBase_.size(); }

 private:
  struct Mapping {
    const uint8_t* base = nullptr;
    size_t length = 0;
    uint64_t key = 0;  // hash of dev/ino/size/mtime, for the index
    unsigned refs = 0;
    bool indexed = false;
  };
  static uint64_t keyOf(const struct stat& st);
  std::unordered_map<uint64_t, Mapping*> index_;         // current version of each file
  std::unordered_map<const uint8_t*, Mapping*> byBase_;  // every live mapping
};

}  // namespace manifold::tftp
