#include "protocols/fs/deleted.hpp"

#include <algorithm>
#include <cstring>

namespace manifold::fs {

namespace {
constexpr uint32_t kStripes = 16;
}

std::string DeletedPaths::layout() { return "fs-deleted-v1"; }

void DeletedPaths::format(void* base, size_t bytes) {
  uint32_t buckets = static_cast<uint32_t>(std::max<size_t>(64, bytes / 128));
  shm::Table::format(base, bytes, buckets, kStripes);
}

bool DeletedPaths::contains(std::string_view path) {
  return table_ && table_->find(path, [](std::span<const uint8_t>) {});
}

void DeletedPaths::deleted(std::string_view path, time_t when) {
  if (!table_) return;
  int64_t t = when;
  table_->put(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&t), sizeof t));
}

void DeletedPaths::written(std::string_view path) {
  if (table_) table_->erase(path);
}

void DeletedPaths::writtenAt(std::string_view path, time_t mtime) {
  if (!table_) return;
  int64_t when = 0;
  if (!table_->find(path, [&](std::span<const uint8_t> v) {
        if (v.size() == sizeof when) std::memcpy(&when, v.data(), sizeof when);
      }))
    return;
  if (when <= mtime) table_->erase(path);
}

}  // namespace manifold::fs
