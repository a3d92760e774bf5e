#include "protocols/tftp/mapped_files.hpp"

#include <sys/mman.h>

namespace manifold::tftp {

MappedFiles::~MappedFiles() {
  for (auto& [base, m] : byBase_) {
    munmap(const_cast<uint8_t*>(base), m->length);
    delete m;
  }
}

uint64_t MappedFiles::keyOf(const struct stat& st) {
  uint64_t h = 1469598103934665603ull;
  for (uint64_t v : {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_mtim.tv_sec),
                     static_cast<uint64_t>(st.st_mtim.tv_nsec)}) {
    h ^= v;
    h *= 1099511628211ull;
    h ^= h >> 31;
  }
  return h;
}

const uint8_t* MappedFiles::acquire(int fd, const struct stat& st) {
  if (st.st_size <= 0) return nullptr;
  uint64_t key = keyOf(st);
  auto it = index_.find(key);
  if (it != index_.end() && it->second->length == static_cast<size_t>(st.st_size)) {
    ++it->second->refs;
    return it->second->base;
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return nullptr;
  madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
  auto* m =
      new Mapping{static_cast<const uint8_t*>(p), static_cast<size_t>(st.st_size), key, 1, true};
  if (it != index_.end()) it->second->indexed = false;  // a hash clash: the newcomer wins
  index_[key] = m;
  byBase_[m->base] = m;
  return m->base;
}

void MappedFiles::release(const uint8_t* base) {
  auto it = byBase_.find(base);
  if (it == byBase_.end()) return;
  Mapping* m = it->second;
  if (--m->refs) return;
  if (m->indexed) index_.erase(m->key);
  munmap(const_cast<uint8_t*>(m->base), m->length);
  byBase_.erase(it);
  delete m;
}

}  // namespace manifold::tftp
