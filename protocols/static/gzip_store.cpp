#include "protocols/static/gzip_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocols/http/gzip.hpp"
#include "worker/log.hpp"

namespace manifold::http {

namespace {
constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kEntriesMax = 4096;

uint64_t mtimeNs(const struct stat& st) {
  return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
}

bool makeParents(const std::string& file) {
  for (size_t slash = file.find('/', 1); slash != std::string::npos; slash = file.find('/', slash + 1)) {
    std::string dir = file.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

bool writeAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += n;
  }
  return true;
}
}  // namespace

GzipStore::GzipStore(std::string directory, int level)
    : directory_(std::move(directory)), level_(level) {}

const FileInfo* GzipStore::find(const std::string& path, const FileInfo& source, double now) {
  auto it = entries_.find(path);
  if (it != entries_.end() && it->second.sourceMtimeNs == source.validators.mtimeNs &&
      it->second.sourceSize == source.validators.size)
    return &it->second.info;
  if (entries_.size() >= kEntriesMax) entries_.clear();

  std::string target = directory_ + path + ".gz";
  int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || mtimeNs(st) != source.validators.mtimeNs) {
    if (fd >= 0) ::close(fd);
    if (!build(target, source)) return nullptr;
    fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
      if (fd >= 0) ::close(fd);
      return nullptr;
    }
  }
  Entry& entry = entries_[path];
  entry.sourceMtimeNs = source.validators.mtimeNs;
  entry.sourceSize = source.validators.size;
  entry.info.error = 0;
  entry.info.validators = {static_cast<uint64_t>(st.st_ino), mtimeNs(st),
                           static_cast<uint64_t>(st.st_size)};
  entry.info.mtime = st.st_mtim.tv_sec;
  entry.info.file = std::make_shared<OpenFile>(fd);
  entry.info.checkedAt = now;
  return &entry.info;
}

bool GzipStore::build(const std::string& target, const FileInfo& source) {
  if (!makeParents(target)) {
    LOG_ERROR("gzip_store: mkdir for %s: %s", target.c_str(), strerror(errno));
    return false;
  }
  std::string temp = target + ".tmp." + std::to_string(getpid());
  int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    LOG_ERROR("gzip_store: %s: %s", temp.c_str(), strerror(errno));
    return false;
  }
  GzipStream stream;
  bool ok = stream.init(level_);
  std::string in(kReadChunk, '\0'), compressed;
  off_t offset = 0;
  while (ok) {
    ssize_t n = ::pread(source.file->fd, in.data(), in.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    offset += n;
    compressed.clear();
    ok = stream.write(std::string_view(in.data(), n), compressed) && writeAll(out, compressed);
  }
  compressed.clear();
  ok = ok && static_cast<uint64_t>(offset) == source.validators.size && stream.finish(compressed) &&
       writeAll(out, compressed);
  // The store copy carries the source's mtime: that is how a later request knows it is current.
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = source.validators.mtimeNs / 1000000000ull;
  times[0].tv_nsec = times[1].tv_nsec = source.validators.mtimeNs % 1000000000ull;
  ok = ok && futimens(out, times) == 0;
  ok = (::close(out) == 0) && ok;
  if (!ok || ::rename(temp.c_str(), target.c_str()) != 0) {
    LOG_ERROR("gzip_store: building %s failed: %s", target.c_str(), strerror(errno));
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

}  // namespace manifold::http
