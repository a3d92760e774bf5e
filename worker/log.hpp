// Error log shared by master and workers: levels, one write() per line (atomic with O_APPEND),
// reopened on USR1. Format: "2026/11/22 01:52:36 [warn] 1234#worker 0: message".
#pragma once

#include <string>
#include <string_view>

namespace manifold::log {

enum class Level { Debug, Info, Notice, Warn, Error, Crit };

bool parseLevel(std::string_view text, Level& out);
void setLevel(Level level);
bool enabled(Level level);
void setTag(std::string tag);  // "master", "worker 3"
// "" or "stderr" logs to standard error; otherwise appends to the file. False + errno on failure.
bool open(const std::string& target);
bool reopen();
int fd();
void write(Level level, const char* format, ...) __attribute__((format(printf, 2, 3)));
// A client-supplied string made safe to log: at most `max` bytes of it, non-printable bytes as
// \xNN, and "..." plus the full length when cut, so a hostile request cannot flood the log or
// forge log lines.
std::string clip(std::string_view text, size_t max = 200);

}  // namespace manifold::log

#define MLOG(level, ...)                                                             \
  do {                                                                               \
    if (::manifold::log::enabled(level)) ::manifold::log::write(level, __VA_ARGS__); \
  } while (0)
#define LOG_DEBUG(...) MLOG(::manifold::log::Level::Debug, __VA_ARGS__)
#define LOG_INFO(...) MLOG(::manifold::log::Level::Info, __VA_ARGS__)
#define LOG_NOTICE(...) MLOG(::manifold::log::Level::Notice, __VA_ARGS__)
#define LOG_WARN(...) MLOG(::manifold::log::Level::Warn, __VA_ARGS__)
#define LOG_ERROR(...) MLOG(::manifold::log::Level::Error, __VA_ARGS__)
#define LOG_CRIT(...) MLOG(::manifold::log::Level::Crit, __VA_ARGS__)
