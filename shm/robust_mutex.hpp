// A pthread mutex that lives in shared memory and survives the death of its owner.
//
// Workers are separate processes; any of them may be killed (SIGKILL, OOM, crash) while
// holding a lock. With PTHREAD_MUTEX_ROBUST the kernel releases the lock of a dead owner
// and the next locker gets EOWNERDEAD: lock() marks the mutex consistent again and
// returns true so the caller can repair whatever the dead owner was half-way through.
#pragma once

#include <pthread.h>

namespace manifold::shm {

// Layout: one pthread_mutex_t (40 bytes on x86-64 glibc), nothing else. Placed inside a
// shared-memory region and initialised once with init() by whoever formats the region.
// Not copyable or movable: its address is its identity.
class RobustMutex {
 public:
  RobustMutex() = default;
  RobustMutex(const RobustMutex&) = delete;
  RobustMutex& operator=(const RobustMutex&) = delete;

  // PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST. Call once, before any process locks it.
  // Throws std::system_error if the attributes are refused (control plane only).
  void init();

  // Blocks until locked. Returns true if the previous owner died holding the lock: the
  // mutex is consistent again, but the data it protects may be half-modified.
  // Any other failure (ENOTRECOVERABLE, EDEADLK...) is a bug and aborts with a message.
  bool lock();

  // Non-blocking: false if another owner holds it. Sets recovered as lock() would.
  bool tryLock(bool& recovered);

  void unlock();

 private:
  pthread_mutex_t mutex_;
};

// RAII lock; recovered() tells the caller it must repair the protected data.
class RobustLockGuard {
 public:
  explicit RobustLockGuard(RobustMutex& mutex) : mutex_(mutex), recovered_(mutex.lock()) {}
  ~RobustLockGuard() { mutex_.unlock(); }
  RobustLockGuard(const RobustLockGuard&) = delete;
  RobustLockGuard& operator=(const RobustLockGuard&) = delete;

  bool recovered() const { return recovered_; }

 private:
  RobustMutex& mutex_;
  bool recovered_;
};

}  // namespace manifold::shm
