// WebDAV subset of the static site: PUT, DELETE, MKCOL.
// PUT streams the body into an unnamed O_TMPFILE in the target directory and links it into
// place only when the whole body has arrived: an aborted or failed upload leaves nothing, not
// even after a crash, and readers see either the old file or the new one.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "protocols/http/path.hpp"
#include "protocols/static/age_format.hpp"
#include "protocols/static/site.hpp"
#include "protocols/static/upload_reserve.hpp"
#include "worker/log.hpp"

namespace manifold::http {

namespace {

struct Upload : ExchangeState {
  int dirFd = -1;
  int fd = -1;
  std::string name;
  std::string path;
  bool existed = false;
  int error = 0;
  uint64_t expected = 0;  // Content-Length, 0 when chunked
  uint64_t written = 0;
  uint64_t reserved = 0;  // fallocated so far (a prefix of the file)
  UploadReservations* reservations = nullptr;
  // sealed = on: the body's start is held here, unwritten, until it parses as an age header.
  bool sealedCheck = false;
  bool refused = false;  // not age: answered 415, nothing written
  std::string head;
  uint64_t headerLength = 0;
  ~Upload() override {
    if (reservations && reserved > written) reservations->give(reserved - written);
    if (fd >= 0) ::close(fd);
    if (dirFd >= 0) ::close(dirFd);
  }
  // Reserves the next step of disk ahead of the data (only for a known length, within the
  // instance's cap). False when the disk is full: the caller answers 507.
  bool reserveAhead() {
    if (expected == 0 || reserved >= expected ||
        reserved >= written + UploadReservations::kReserveStep / 2)
      return true;
    uint64_t end = std::min(expected, written + UploadReservations::kReserveStep);
    if (end <= reserved || !reservations->take(end - reserved)) return true;
    int rc = posix_fallocate(fd, static_cast<off_t>(reserved), static_cast<off_t>(end - reserved));
    if (rc == ENOSPC || rc == EDQUOT) {
      reservations->give(end - reserved);
      error = rc;
      return false;
    }
    if (rc != 0) {  // not supported here: carry on without reserving
      reservations->give(end - reserved);
      expected = 0;
      return true;
    }
    // Bytes reserved ahead count until written over.
    reservations->give(std::min(end, written) > reserved ? std::min(end, written) - reserved : 0);
    reserved = end;
    return true;
  }
  void wrote(uint64_t n) {
    const uint64_t before = written;
    written += n;
    // Reserved bytes now holding data no longer count as reserved ahead.
    if (reserved > before) reservations->give(std::min(reserved, written) - before);
  }
};

// Longest name of one path segment and of a whole path we try to write (NAME_MAX, PATH_MAX):
// longer ones are answered 414 before any syscall (and never logged whole).
constexpr size_t kMaxSegment = 255;
constexpr size_t kMaxPath = 4000;

bool namesFit(std::string_view path) {
  if (path.size() > kMaxPath) return false;
  size_t start = 0;
  for (size_t slash; (slash = path.find('/', start)) != std::string_view::npos; start = slash + 1)
    if (slash - start > kMaxSegment) return false;
  return path.size() - start <= kMaxSegment;
}

int statusForErrno(int error) { return (error == ENOSPC || error == EDQUOT) ? 507 : 500; }

// "/a/b/c" -> parent "/a/b/", name "c". Trailing slashes are dropped first.
bool splitPath(std::string path, std::string& parent, std::string& name) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/") return false;
  size_t slash = path.rfind('/');
  parent = path.substr(0, slash + 1);
  name = path.substr(slash + 1);
  return !name.empty();
}

bool removeTree(int parentFd, const char* name) {
  int fd = ::openat(parentFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  DIR* dir = fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return false;
  }
  bool ok = true;
  while (dirent* entry = readdir(dir)) {
    if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
    struct stat st;
    if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    ok = (S_ISDIR(st.st_mode) ? removeTree(dirfd(dir), entry->d_name)
                              : unlinkat(dirfd(dir), entry->d_name, 0) == 0) &&
         ok;
  }
  closedir(dir);
  return unlinkat(parentFd, name, AT_REMOVEDIR) == 0 && ok;
}

}  // namespace

void StaticSite::invalidate(const std::string& path) {
  files_.forget(path);
  xcache_.bumpGeneration();  // every worker drops its cached stats before the next request
}

void StaticSite::davPut(Exchange& ex) {
  const Request& req = ex.request();
  std::string parent, name;
  if (!normalizePath(req.path, path_)) return ex.sendError(400);
  if (!namesFit(path_)) return ex.sendError(414);
  if (path_.back() == '/' || !splitPath(path_, parent, name)) return ex.sendError(409);
  if (req.contentLength < 0 && !req.chunked) return ex.sendError(411);
  // RFC 9110 14.5: a PUT with Content-Range is a partial PUT, which we do not support; storing
  // the fragment as the whole file would lose the rest of it.
  if (req.find("content-range").data() != nullptr) return ex.sendError(400);  // present, even empty
  if (req.contentLength > 0 &&
      static_cast<uint64_t>(req.contentLength) > config_.limits.maxBodySize)
    return ex.sendError(413, {}, true);

  auto upload = std::make_unique<Upload>();
  upload->dirFd = files_.openBeneathRoot(parent, O_RDONLY | O_DIRECTORY);
  if (upload->dirFd < 0 && errno == ENOENT && config_.createFullPutPath) {
    // Create the missing directories one by one below the root.
    std::string partial = "/";
    size_t start = 1;
    for (size_t slash; (slash = parent.find('/', start)) != std::string::npos; start = slash + 1) {
      partial.append(parent, start, slash - start + 1);
      std::string dirParent, dirName;
      splitPath(partial, dirParent, dirName);
      int parentFd = files_.openBeneathRoot(dirParent, O_RDONLY | O_DIRECTORY);
      if (parentFd < 0) break;
      int rc = mkdirat(parentFd, dirName.c_str(), 0755);
      int saved = errno;
      ::close(parentFd);
      if (rc != 0 && saved != EEXIST) {
        errno = saved;
        break;
      }
    }
    upload->dirFd = files_.openBeneathRoot(parent, O_RDONLY | O_DIRECTORY);
  }
  if (upload->dirFd < 0) {
    int error = errno;
    if (error == ENOENT || error == ENOTDIR) return ex.sendError(409);
    if (error == EACCES || error == EXDEV || error == ELOOP) return ex.sendError(403);
    return ex.sendError(500);
  }
  struct stat st;
  if (fstatat(upload->dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) return ex.sendError(409);
    upload->existed = true;
  }
  upload->fd = ::openat(upload->dirFd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (upload->fd < 0) {
    LOG_ERROR("[%s] PUT %s: O_TMPFILE: %s", site_.title.c_str(), log::clip(path_).c_str(),
              strerror(errno));
    return ex.sendError(statusForErrno(errno));
  }
  fchmod(upload->fd, 0644);
  // Disk is reserved a step ahead of the data as it arrives (upload_reserve.hpp), never for
  // the whole announced length before the body comes.
  upload->reservations = &reservations_;
  upload->expected = req.contentLength > 0 ? static_cast<uint64_t>(req.contentLength) : 0;
  if (!upload->reserveAhead()) return ex.sendError(507, {}, true);
  upload->name = name;
  upload->path = path_;
  upload->sealedCheck = config_.sealed;
  ex.state = std::move(upload);
  ex.acceptBody();
}

void StaticSite::onBody(Exchange& ex, std::string_view data) {
  auto* upload = static_cast<Upload*>(ex.state.get());
  if (!upload || upload->error || upload->refused) return;  // keep reading: stay in sync
  if (upload->sealedCheck) {
    // Nothing reaches the file before the age header is whole and well-formed.
    upload->head.append(data);
    age::Header header;
    switch (age::parseHeader(upload->head, header)) {
      case age::ParseResult::Incomplete:
        return;
      case age::ParseResult::Invalid:
        upload->refused = true;
        upload->head.clear();
        return;
      case age::ParseResult::Ok:
        upload->sealedCheck = false;
        upload->headerLength = header.length;
        break;
    }
    std::string held;
    held.swap(upload->head);
    return onBody(ex, held);
  }
  while (!data.empty()) {
    if (!upload->reserveAhead()) return;  // disk full: error set, answered at the end
    ssize_t n = ::write(upload->fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      upload->error = errno;
      return;
    }
    upload->wrote(static_cast<uint64_t>(n));
    data.remove_prefix(n);
  }
}

void StaticSite::onBodyEnd(Exchange& ex) {
  auto* upload = static_cast<Upload*>(ex.state.get());
  if (!upload) return;
  // sealed = on: a body that is not age v1 (or stops before its header ends, or has no room for
  // the payload nonce and a last chunk) is refused and never linked.
  if (upload->refused || upload->sealedCheck ||
      (config_.sealed && upload->written < upload->headerLength + age::kMinPayload))
    return ex.sendError(415);
  if (!upload->error) {
    // The body may be shorter than the reservation only for chunked uploads: trim.
    off_t end = lseek(upload->fd, 0, SEEK_CUR);
    if (end < 0 || ftruncate(upload->fd, end) != 0) upload->error = errno;
  }
  if (upload->error) {
    LOG_ERROR("[%s] PUT %s: %s", site_.title.c_str(), log::clip(upload->path).c_str(),
              strerror(upload->error));
    return ex.sendError(statusForErrno(upload->error));
  }
  // Link the finished file under a temporary name, then rename over the target: atomic.
  static std::mt19937_64 random{std::random_device{}()};
  std::string temp = ".manifold-put-" + std::to_string(random());
  std::string procPath = "/proc/self/fd/" + std::to_string(upload->fd);
  if (linkat(AT_FDCWD, procPath.c_str(), upload->dirFd, temp.c_str(), AT_SYMLINK_FOLLOW) != 0 ||
      renameat(upload->dirFd, temp.c_str(), upload->dirFd, upload->name.c_str()) != 0) {
    int error = errno;
    unlinkat(upload->dirFd, temp.c_str(), 0);
    LOG_ERROR("[%s] PUT %s: %s", site_.title.c_str(), log::clip(upload->path).c_str(),
              strerror(error));
    return ex.sendError(statusForErrno(error));
  }
  invalidate(upload->path);
  int status = upload->existed ? 204 : 201;
  ex.beginResponse(status);
  if (status == 201) {
    ex.out().append("Location: ").append(percentEncodePath(upload->path)).append("\r\n");
    ex.out().append("Content-Length: 0\r\n");
  }
  ex.endHeaders();
  ex.finish(status, 0);
}

void StaticSite::onAbort(Exchange& ex) {
  // The unnamed temp file disappears with its descriptor: nothing to clean up on disk.
  ex.state.reset();
}

void StaticSite::davDelete(Exchange& ex) {
  std::string parent, name;
  if (!normalizePath(ex.request().path, path_)) return ex.sendError(400);
  if (!namesFit(path_)) return ex.sendError(414);
  if (!splitPath(path_, parent, name)) return ex.sendError(403);  // never the root itself
  int parentFd = files_.openBeneathRoot(parent, O_RDONLY | O_DIRECTORY);
  if (parentFd < 0) return ex.sendError(errno == ENOENT || errno == ENOTDIR ? 404 : 403);
  struct stat st;
  int status = 204;
  if (fstatat(parentFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    status = errno == ENOENT ? 404 : 403;
  } else if (S_ISDIR(st.st_mode) ? !removeTree(parentFd, name.c_str())
                                 : unlinkat(parentFd, name.c_str(), 0) != 0) {
    LOG_ERROR("[%s] DELETE %s: %s", site_.title.c_str(), log::clip(path_).c_str(), strerror(errno));
    status = errno == EACCES || errno == EPERM ? 403 : 500;
  }
  ::close(parentFd);
  if (status != 204) return ex.sendError(status);
  invalidate(path_);
  ex.beginResponse(204);
  ex.endHeaders();
  ex.finish(204, 0);
}

void StaticSite::davMkcol(Exchange& ex) {
  const Request& req = ex.request();
  if (req.contentLength > 0 || req.chunked) return ex.sendError(415);
  std::string parent, name;
  if (!normalizePath(req.path, path_)) return ex.sendError(400);
  if (!namesFit(path_)) return ex.sendError(414);
  if (!splitPath(path_, parent, name)) return ex.sendError(405, allowHeader());  // the root exists
  int parentFd = files_.openBeneathRoot(parent, O_RDONLY | O_DIRECTORY);
  if (parentFd < 0) return ex.sendError(errno == ENOENT || errno == ENOTDIR ? 409 : 403);
  int rc = mkdirat(parentFd, name.c_str(), 0755);
  int error = errno;
  ::close(parentFd);
  if (rc != 0) {
    if (error == EEXIST) return ex.sendError(405, allowHeader());
    if (error == ENOENT || error == ENOTDIR) return ex.sendError(409);
    return ex.sendError(error == EACCES ? 403 : statusForErrno(error));
  }
  invalidate(path_);
  ex.beginResponse(201);
  ex.out().append("Content-Length: 0\r\n");
  ex.endHeaders();
  ex.finish(201, 0);
}

}  // namespace manifold::http
