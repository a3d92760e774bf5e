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
  for (size_t slash = file.find('/', 1); slash != std::string::npos;
       slash = file.find('/', slash + 1)) {
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

// Compresses `sourceFd` (`size` bytes, mtime `mtime`) into `target` through `temp`: written
// whole, given the source's mtime, then renamed into place. Runs on a pool thread.
void build(int sourceFd, uint64_t size, uint64_t mtime, int level, const std::string& target,
           const std::string& temp, const std::atomic<bool>& cancelled,
           GzipStore::BuildResult& result) {
  if (!makeParents(target)) {
    result = {"mkdir", errno};
    return;
  }
  int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    result = {"create", errno};
    return;
  }
  GzipStream stream;
  bool ok = stream.init(level);
  std::string in(kReadChunk, '\0'), compressed;
  off_t offset = 0;
  while (ok) {
    if (cancelled) {
      result.cancelled = true;
      ok = false;
      break;
    }
    ssize_t n = ::pread(sourceFd, in.data(), in.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    offset += n;
    compressed.clear();
    ok = stream.write(std::string_view(in.data(), n), compressed) && writeAll(out, compressed);
  }
  compressed.clear();
  ok = ok && static_cast<uint64_t>(offset) == size && stream.finish(compressed) &&
       writeAll(out, compressed);
  // The store copy carries the source's mtime: that is how a later request knows it is current.
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = mtime / 1000000000ull;
  times[0].tv_nsec = times[1].tv_nsec = mtime % 1000000000ull;
  ok = ok && futimens(out, times) == 0;
  ok = (::close(out) == 0) && ok;
  if (!ok || ::rename(temp.c_str(), target.c_str()) != 0) {
    result.step = "compress";
    result.error = errno;
    ::unlink(temp.c_str());
  }
}
}  // namespace

GzipStore::GzipStore(struct ev_loop* loop, std::string directory, int level)
    : directory_(std::move(directory)), level_(level), pool_(loop, kThreads, kJobs) {}

const FileInfo* GzipStore::find(const std::string& path, const FileInfo& source, double now) {
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    Entry& e = it->second;
    // One build per file at a time; a source that changed meanwhile is rebuilt after it.
    if (e.state == State::Building) return nullptr;
    bool current =
        e.sourceMtimeNs == source.validators.mtimeNs && e.sourceSize == source.validators.size;
    if (current && e.state == State::Ready) return &e.info;
    if (current && e.state == State::Failed) {
      if (e.retryAt == 0) e.retryAt = now + kRetryAfter;
      if (now < e.retryAt) return nullptr;
    }
  }
  if (entries_.size() >= kEntriesMax)
    std::erase_if(entries_, [](const auto& kv) { return kv.second.state != State::Building; });

  std::string target = directory_ + path + ".gz";
  Entry& entry = entries_[path];
  entry.sourceMtimeNs = source.validators.mtimeNs;
  entry.sourceSize = source.validators.size;
  if (install(entry, target, now)) return &entry.info;
  startBuild(path, target, source, now);
  return nullptr;
}

bool GzipStore::install(Entry& entry, const std::string& target, double now) {
  int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || mtimeNs(st) != entry.sourceMtimeNs) {
    if (fd >= 0) ::close(fd);
    return false;
  }
  entry.state = State::Ready;
  entry.info.error = 0;
  entry.info.validators = {static_cast<uint64_t>(st.st_ino), mtimeNs(st),
                           static_cast<uint64_t>(st.st_size)};
  entry.info.mtime = st.st_mtim.tv_sec;
  entry.info.file = std::make_shared<OpenFile>(fd);
  entry.info.checkedAt = now;
  return true;
}

bool GzipStore::building(const std::string& path) const {
  auto it = entries_.find(path);
  return it != entries_.end() && it->second.state == State::Building;
}

void GzipStore::finishBuild(const std::string& path, const std::string& target,
                            const BuildResult& result) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (!result.step && !result.cancelled && install(e, target, e.info.checkedAt)) return;
  if (result.step)
    LOG_ERROR("gzip_store: building %s failed: %s: %s", target.c_str(), result.step,
              strerror(result.error));
  e.state = State::Failed;
  e.retryAt = 0;  // set by the next find(), which knows the time
}

void GzipStore::startBuild(const std::string& path, const std::string& target,
                           const FileInfo& source, double now) {
  Entry& entry = entries_[path];
  entry.info.file.reset();
  entry.info.checkedAt = now;
  auto result = std::make_shared<BuildResult>();
  std::string temp = target + ".tmp." + std::to_string(getpid()) + "." + std::to_string(++builds_);
  // The work holds the source open (its shared OpenFile) until it has read it.
  auto work = [file = source.file, size = source.validators.size, mtime = source.validators.mtimeNs,
               level = level_, target, temp, result](const std::atomic<bool>& cancelled) {
    build(file->fd, size, mtime, level, target, temp, cancelled, *result);
  };
  auto done = [this, path, target, result] {
    finishBuild(path, target, *result);
    if (onBuilt) onBuilt();
  };
  if (!pool_.submit(std::move(work), std::move(done))) {
    entries_.erase(path);  // pool full: identity now, another try on a later request
    return;
  }
  entry.state = State::Building;
}

}  // namespace manifold::http
