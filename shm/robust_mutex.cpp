#include "shm/robust_mutex.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace manifold::shm {

namespace {

// A failure other than EOWNERDEAD means shared memory is corrupt or the mutex is misused;
// carrying on would risk silent data corruption in every process, so stop loudly.
[[noreturn]] void fatal(const char* what, int rc) {
  std::fprintf(stderr, "manifold: robust mutex %s failed: %s\n", what, std::strerror(rc));
  std::abort();
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

}  // namespace

void RobustMutex::init() {
  pthread_mutexattr_t attr;
  check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
  int rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  if (rc == 0) rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  if (rc == 0) rc = pthread_mutex_init(&mutex_, &attr);
  pthread_mutexattr_destroy(&attr);
  check(rc, "robust mutex init");
}

bool RobustMutex::lock() {
  const int rc = pthread_mutex_lock(&mutex_);
  if (rc == 0) return false;
  if (rc == EOWNERDEAD) {
    // Consistent first: if we die while repairing, the next locker gets EOWNERDEAD again
    // and repeats the (idempotent) repair.
    const int crc = pthread_mutex_consistent(&mutex_);
    if (crc != 0) fatal("consistent", crc);
    return true;
  }
  fatal("lock", rc);
}

bool RobustMutex::tryLock(bool& recovered) {
  recovered = false;
  const int rc = pthread_mutex_trylock(&mutex_);
  if (rc == 0) return true;
  if (rc == EBUSY) return false;
  if (rc == EOWNERDEAD) {
    const int crc = pthread_mutex_consistent(&mutex_);
    if (crc != 0) fatal("consistent", crc);
    recovered = true;
    return true;
  }
  fatal("trylock", rc);
}

void RobustMutex::unlock() {
  const int rc = pthread_mutex_unlock(&mutex_);
  if (rc != 0) fatal("unlock", rc);
}

}  // namespace manifold::shm
