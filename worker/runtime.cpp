#include "worker/runtime.hpp"

#include <algorithm>

#include "worker/connection.hpp"

namespace manifold {

namespace {
constexpr size_t kBufferReserve = 16 * 1024;
constexpr size_t kFreeBuffersMax = 1024;
constexpr size_t kBufferKeepMax = 256 * 1024;  // larger buffers are freed, not pooled
}  // namespace

WorkerRuntime::WorkerRuntime(struct ev_loop* loop, unsigned index, unsigned count,
                             unsigned maxConnections)
    : loop_(loop), index_(index), count_(count), maxConnections_(maxConnections) {}

std::string WorkerRuntime::takeBuffer() {
  if (freeBuffers_.empty()) {
    std::string buffer;
    buffer.reserve(kBufferReserve);
    return buffer;
  }
  std::string buffer = std::move(freeBuffers_.back());
  freeBuffers_.pop_back();
  return buffer;
}

void WorkerRuntime::giveBuffer(std::string&& buffer) {
  if (freeBuffers_.size() >= kFreeBuffersMax || buffer.capacity() > kBufferKeepMax) return;
  buffer.clear();
  freeBuffers_.push_back(std::move(buffer));
}

std::string WorkerRuntime::takeInputBuffer() {
  if (freeInputBuffers_.empty()) return std::string(kBufferReserve, '\0');
  std::string buffer = std::move(freeInputBuffers_.back());
  freeInputBuffers_.pop_back();
  return buffer;
}

void WorkerRuntime::giveInputBuffer(std::string&& buffer) {
  if (freeInputBuffers_.size() >= kFreeBuffersMax || buffer.size() != kBufferReserve) return;
  freeInputBuffers_.push_back(std::move(buffer));
}

void WorkerRuntime::connectionOpened(Connection* conn) {
  ++connections_;
  conn->liveIndex_ = live_.size();
  live_.push_back(conn);
}

void WorkerRuntime::connectionClosed(Connection* conn) {
  --connections_;
  // O(1) removal: move the last one into the hole.
  size_t i = conn->liveIndex_;
  live_[i] = live_.back();
  live_[i]->liveIndex_ = i;
  live_.pop_back();
  if (connections_ + 1 == maxConnections_ && !draining_) {
    for (auto& [resume, arg] : resumers_) resume(arg);
  }
}

void WorkerRuntime::onCapacity(void (*resume)(void*), void* arg) {
  resumers_.emplace_back(resume, arg);
}

void WorkerRuntime::startDraining() {
  draining_ = true;
  // Copy: closing edits live_.
  std::vector<Connection*> snapshot = live_;
  for (Connection* conn : snapshot) conn->closeIfIdle();
}

}  // namespace manifold
