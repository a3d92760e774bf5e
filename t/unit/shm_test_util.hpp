// Helpers shared by the shm tests (they fork processes that share a mapping).
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace manifold::shm::testing {

// Kills and reaps whatever a failed assertion left running; wait() returns the exit code,
// or 128 + signal.
struct Reaper {
  std::vector<pid_t> pids;
  ~Reaper() {
    for (pid_t pid : pids) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  int wait(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    std::erase(pids, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // Runs fn() in a child that exits with its return value (100 if it throws).
  template <class Fn>
  pid_t spawn(Fn&& fn) {
    const pid_t pid = fork();
    if (pid == 0) {
      int rc = 100;
      try {
        rc = fn();
      } catch (...) {
      }
      _exit(rc);
    }
    if (pid > 0) pids.push_back(pid);
    return pid;
  }
};

// An anonymous shared mapping: survives fork, shared with the children.
struct SharedMemory {
  explicit SharedMemory(size_t n) : bytes(n) {
    base = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::runtime_error("mmap");
  }
  ~SharedMemory() { munmap(base, bytes); }
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  size_t bytes;
  void* base;
};

}  // namespace manifold::shm::testing
