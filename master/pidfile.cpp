#include "master/pidfile.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "worker/log.hpp"

namespace manifold {

pid_t readPidfile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

bool writePidfile(const std::string& path) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  std::string text = std::to_string(getpid()) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    return false;
  }
  return true;
}

void removePidfile(const std::string& path) {
  if (readPidfile(path) == getpid()) ::unlink(path.c_str());
}

bool daemonize(bool keepStderr) {
  pid_t pid = fork();
  if (pid < 0) {
    LOG_CRIT("fork: %s", strerror(errno));
    return false;
  }
  if (pid > 0) _exit(0);
  if (setsid() < 0) {
    LOG_CRIT("setsid: %s", strerror(errno));
    return false;
  }
  int null = ::open("/dev/null", O_RDWR);
  if (null < 0) {
    LOG_CRIT("open /dev/null: %s", strerror(errno));
    return false;
  }
  dup2(null, STDIN_FILENO);
  dup2(null, STDOUT_FILENO);
  if (!keepStderr) dup2(null, STDERR_FILENO);
  if (null > STDERR_FILENO) ::close(null);
  return true;
}

}  // namespace manifold
