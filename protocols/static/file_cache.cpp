#include "protocols/static/file_cache.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "protocols/http/conditional.hpp"
#include "protocols/http/date.hpp"
#include "protocols/static/mime.hpp"

namespace manifold::http {

FileCache::FileCache(int rootFd, bool followSymlinks, double checkInterval, unsigned maxEntries,
                     const MimeTable& mime, Xcache& xcache)
    : rootFd_(rootFd),
      followSymlinks_(followSymlinks),
      checkInterval_(checkInterval),
      maxEntries_(maxEntries),
      mime_(mime),
      xcache_(xcache) {}

std::string FileCache::xcacheKey(std::string_view path, char variant) {
  std::string key(path);
  key.push_back('\0');
  key.push_back(variant);
  return key;
}

int FileCache::openBelowRoot(std::string_view path, int flags) const {
  std::string relative = path.size() <= 1 ? std::string(".") : std::string(path.substr(1));
  if (followSymlinks_) return ::openat(rootFd_, relative.c_str(), flags | O_CLOEXEC);
  return openBeneathRoot(path, flags);
}

int FileCache::openBeneathRoot(std::string_view path, int flags) const {
  std::string relative = path.size() <= 1 ? std::string(".") : std::string(path.substr(1));
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, rootFd_, relative.c_str(), &how, sizeof how));
}

void FileCache::beginRequest() {
  uint64_t generation = xcache_.generation();
  if (generation != generation_) {  // a write somewhere: every cached stat may be stale
    entries_.clear();
    generation_ = generation;
  }
  while (entries_.size() >= maxEntries_) entries_.erase(entries_.begin());
}

const FileInfo& FileCache::lookup(const std::string& path, double now) {
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    if (now - it->second.checkedAt < checkInterval_) return it->second;
    refresh(path, it->second, now);
    return it->second;
  }
  FileInfo& info = entries_[path];
  refresh(path, info, now);
  return info;
}

const FileInfo& FileCache::recheck(const std::string& path, double now) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return lookup(path, now);
  refresh(path, it->second, now);
  return it->second;
}

void FileCache::forget(const std::string& path) {
  entries_.erase(path);
  xcache_.erase(xcacheKey(path, 'i'));
  xcache_.erase(xcacheKey(path, 'g'));
}

void FileCache::refresh(const std::string& path, FileInfo& info, double now) {
  FileValidators before = info.validators;
  bool hadFile = info.error == 0 && !info.isDirectory && info.checkedAt > 0;
  info.checkedAt = now;
  info.generation = generation_;
  int fd = openBelowRoot(path, O_RDONLY | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    info.error = errno ? errno : EIO;
    if (fd >= 0) ::close(fd);
    info.file.reset();
    if (hadFile) {  // not forget(): that would free `info` under the caller
      xcache_.erase(xcacheKey(path, 'i'));
      xcache_.erase(xcacheKey(path, 'g'));
    }
    return;
  }
  info.error = 0;
  info.isDirectory = S_ISDIR(st.st_mode);
  if (!info.isDirectory && !S_ISREG(st.st_mode)) {  // fifos, devices: never served
    ::close(fd);
    info.error = EACCES;
    info.file.reset();
    return;
  }
  info.validators = {static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec,
                     static_cast<uint64_t>(st.st_size)};
  info.mtime = st.st_mtim.tv_sec;
  if (info.isDirectory) {
    ::close(fd);
    info.file.reset();
    return;
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  info.file = std::make_shared<OpenFile>(fd);
  if (hadFile && !(before == info.validators)) {
    xcache_.erase(xcacheKey(path, 'i'));
    xcache_.erase(xcacheKey(path, 'g'));
  }
  makeEtag(info.validators.mtimeNs, info.validators.size, info.validators.ino, info.etag);
  formatHttpDate(info.mtime, info.lastModified);
  info.mime = mime_.lookup(path);
  info.compressible = isCompressible(info.mime);
}

}  // namespace manifold::http
