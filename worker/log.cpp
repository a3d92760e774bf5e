#include "worker/log.hpp"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
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
  int n = std::snprintf(line, sizeof line,
                        "%04d/%02d/%02d %02d:%02d:%02d [%s] %d#%s: ", parts.tm_year + 1900,
                        parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                        kNames[static_cast<int>(level)], getpid(), gTag.c_str());
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

std::string clip(std::string_view text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max) + 16);
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out.append("\\x").push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (text.size() > max) out.append("...(").append(std::to_string(text.size())).append(" bytes)");
  return out;
}

}  // namespace manifold::log
