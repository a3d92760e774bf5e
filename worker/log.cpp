#include "worker/log.hpp"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace manifold::log {
namespace {
Level gLevel = Level::Info;
int gFd = 2;
std::string gTarget;
std::string gTag = "master";
constexpr const char* kNames[] = {"debug", "info", "notice", "warn", "error", "crit"};
}  // namespace

bool parseLevel(std::string_view text, Level& out) {
  for (int i = 0; i < 6; ++i) {
    if (text == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

void setLevel(Level level) { gLevel = level; }
bool enabled(Level level) { return level >= gLevel; }
void setTag(std::string tag) { gTag = std::move(tag); }
int fd() { return gFd; }

bool open(const std::string& target) {
  if (target.empty() || target == "stderr") {
    if (gFd > 2) ::close(gFd);
    gFd = 2;
    gTarget.clear();
    return true;
  }
  int fd = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  if (gFd > 2) ::close(gFd);
  gFd = fd;
  gTarget = target;
  return true;
}

bool reopen() { return gTarget.empty() || open(gTarget); }

void write(Level level, const char* format, ...) {
  char line[2048];
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm parts;
  localtime_r(&tv.tv_sec, &parts);
  int n = std::snprintf(line, sizeof line, "%04d/%02d/%02d %02d:%02d:%02d [%s] %d#%s: ",
                        parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                        parts.tm_min, parts.tm_sec, kNames[static_cast<int>(level)], getpid(),
                        gTag.c_str());
  va_list args;
  va_start(args, format);
  int m = std::vsnprintf(line + n, sizeof line - n - 1, format, args);
  va_end(args);
  size_t len = n + (m < 0 ? 0 : std::min<size_t>(m, sizeof line - n - 2));
  line[len++] = '\n';
  int saved = errno;
  (void)!::write(gFd, line, len);
  errno = saved;
}

}  // namespace manifold::log
