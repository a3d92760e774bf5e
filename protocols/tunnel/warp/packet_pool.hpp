// Fixed-size packet buffers for one warp endpoint: its send buffer and its reorder buffer draw
// from here. Buffers are allocated in chunks on first need, up to a cap, and then recycled
// through a free list, so steady state allocates nothing and memory stays bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace manifold::tunnel::warp {

class PacketPool {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  PacketPool(size_t bufferSize, uint32_t maxBuffers) : size_(bufferSize), max_(maxBuffers) {}

  // A free buffer's index, or kNone when every buffer up to the cap is in use.
  uint32_t take() {
    if (free_.empty()) {
      if (allocated_ >= max_) return kNone;
      uint32_t n = std::min<uint32_t>(kChunk, max_ - allocated_);
      chunks_.push_back(std::make_unique<uint8_t[]>(size_t(n) * size_));
      free_.reserve(max_);
      for (uint32_t i = n; i-- > 0;) free_.push_back(allocated_ + i);
      allocated_ += n;
    }
    uint32_t id = free_.back();
    free_.pop_back();
    return id;
  }
  void give(uint32_t id) { free_.push_back(id); }
  uint8_t* data(uint32_t id) { return chunks_[id / kChunk].get() + size_t(id % kChunk) * size_; }
  size_t bufferSize() const { return size_; }
  size_t inUse() const { return allocated_ - free_.size(); }
  size_t memoryBytes() const {
    return size_t(allocated_) * size_ + free_.capacity() * sizeof(uint32_t);
  }

 private:
  static constexpr uint32_t kChunk = 64;
  size_t size_;
  uint32_t max_;
  uint32_t allocated_ = 0;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  std::vector<uint32_t> free_;
};

}  // namespace manifold::tunnel::warp
