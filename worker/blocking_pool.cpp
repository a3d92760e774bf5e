#include "worker/blocking_pool.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <system_error>
#include <utility>

namespace manifold {

namespace {
constexpr int kNice = 5;
}  // namespace

BlockingPool::BlockingPool(struct ev_loop* loop, unsigned threads, unsigned maxJobs)
    : threadCount_(threads ? threads : 1),
      maxJobs_(maxJobs ? maxJobs : 1),
      wake_(loop, [this](int) { onWake(); }) {}

BlockingPool::~BlockingPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    queued_.clear();
  }
  ready_.notify_all();
  for (auto& thread : threads_) thread.join();
  wake_.stop();
  if (wakeFd_ >= 0) ::close(wakeFd_);
}

bool BlockingPool::startThreads() {
  if (!threads_.empty()) return true;
  if (wakeFd_ < 0) wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakeFd_ < 0) return false;
  try {
    for (unsigned i = 0; i < threadCount_; ++i) threads_.emplace_back([this] { run(); });
  } catch (const std::system_error&) {
    if (threads_.empty()) return false;  // fewer threads than asked still work
  }
  return true;
}

bool BlockingPool::submit(Work work, Done done) {
  if (inFlight_ >= maxJobs_ || !startThreads()) return false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queued_.push_back({std::move(work), std::move(done)});
  }
  if (inFlight_++ == 0) wake_.start(wakeFd_, IoWatcher::kRead);
  ready_.notify_one();
  return true;
}

void BlockingPool::run() {
  // Background work yields to the loop thread when they share a busy core.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), getpriority(PRIO_PROCESS, 0) + kNice);
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ready_.wait(lock, [this] { return cancelled_ || !queued_.empty(); });
    if (cancelled_) return;
    Job job = std::move(queued_.front());
    queued_.pop_front();
    lock.unlock();
    job.work(cancelled_);
    job.work = nullptr;  // its captures go now, on this thread, not with `done`
    lock.lock();
    finished_.push_back(std::move(job));
    uint64_t one = 1;
    // A full counter (never, at 2^64 - 1) or a closed fd only delays the wake-up.
    [[maybe_unused]] ssize_t n = ::write(wakeFd_, &one, sizeof one);
  }
}

void BlockingPool::onWake() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(wakeFd_, &count, sizeof count);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finishing_.swap(finished_);
  }
  // inFlight_ drops before `done` runs, so `done` may submit a follow-up.
  inFlight_ -= static_cast<unsigned>(finishing_.size());
  if (inFlight_ == 0) wake_.stop();
  for (Job& job : finishing_) job.done();
  finishing_.clear();
}

}  // namespace manifold
