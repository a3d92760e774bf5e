// Helpers shared by the shm tests (they fork processes that share a mapping).
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <stdexcept>
#include <string>
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
  // A child that dies holding something (a lock, a half-written structure): fn(hold) runs in a
  // child and calls hold() at the point to die in, where the child waits to be killed. Returns
  // the child once it is there (-1 if it never got there).
  pid_t spawnHolding(const std::function<void(const std::function<void()>& hold)>& fn) {
    int ready[2];
    if (pipe(ready) != 0) return -1;
    const pid_t pid = spawn([&] {
      fn([&] {
        const char c = 'L';
        if (write(ready[1], &c, 1) != 1) _exit(2);
        pause();
      });
      return 3;
    });
    char c = 0;
    const bool there = pid > 0 && read(ready[0], &c, 1) == 1;
    close(ready[0]);
    close(ready[1]);
    return there ? pid : -1;
  }
  // SIGKILL and reap: 128 + SIGKILL when it was still running.
  int killNow(pid_t pid) {
    kill(pid, SIGKILL);
    return wait(pid);
  }
};

// A segment name no other test process uses: PREFIX-PID-N.
inline std::string uniqueName(const std::string& prefix) {
  static int counter = 0;
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

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
