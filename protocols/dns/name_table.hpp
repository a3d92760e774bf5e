// An open-addressing hash map from lowercase wire names to small integers, built once at load
// and read without allocation: lookups take a string_view into the query buffer.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::dns {

class NameTable {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  explicit NameTable(std::pmr::memory_resource* memory = std::pmr::new_delete_resource())
      : slots_(memory), keys_(memory) {}

  // Keys must be unique; `value` is returned by find().
  void build(const std::vector<std::pair<std::string, uint32_t>>& entries) {
    size_t cap = 16;
    while (cap < entries.size() * 2 + 1) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{});
    keys_.clear();
    keys_.reserve(entries.size());
    for (const auto& [key, value] : entries) {
      keys_.emplace_back(key);
      size_t h = hash(key) & mask_;
      while (slots_[h].value != kNone) h = (h + 1) & mask_;
      slots_[h] = {static_cast<uint32_t>(keys_.size() - 1), value,
                   static_cast<uint32_t>(hash(key))};
    }
  }

  uint32_t find(std::string_view key) const {
    if (slots_.empty()) return kNone;
    uint64_t full = hash(key);
    size_t h = full & mask_;
    while (slots_[h].value != kNone) {
      if (slots_[h].hash == static_cast<uint32_t>(full) && keys_[slots_[h].key] == key)
        return slots_[h].value;
      h = (h + 1) & mask_;
    }
    return kNone;
  }

  static uint64_t hash(std::string_view s) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    return h ^ (h >> 29);
  }

 private:
  struct Slot {
    uint32_t key = 0;
    uint32_t value = kNone;
    uint32_t hash = 0;
  };
  std::pmr::vector<Slot> slots_;
  std::pmr::vector<std::pmr::string> keys_;
  size_t mask_ = 0;
};

}  // namespace manifold::dns
