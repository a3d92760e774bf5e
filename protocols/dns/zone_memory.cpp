#include "protocols/dns/zone_memory.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace manifold::dns {

namespace {

constexpr size_t kPage = 4096;

// Every database of this process (control plane only: created and destroyed by the config).
std::vector<ZoneMemory*>& all() {
  static std::vector<ZoneMemory*> list;
  return list;
}

std::pmr::pool_options poolOptions() {
  std::pmr::pool_options o;
  // Anything up to a DNS message's size comes from the pools; only the big arrays (nodes, the
  // name index, the NSEC3 chain) get mappings of their own, so the count of mappings stays far
  // below vm.max_map_count whatever the zone holds.
  o.largest_required_pool_block = 65536;
  return o;
}

}  // namespace

void* ZoneMemory::Mapped::do_allocate(size_t n, size_t) {
  size_t len = (n + kPage - 1) & ~(kPage - 1);
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  maps.emplace_back(p, len);
  bytes += len;
  return p;
}

void ZoneMemory::Mapped::do_deallocate(void* p, size_t n, size_t) {
  size_t len = (n + kPage - 1) & ~(kPage - 1);
  auto it = std::find_if(maps.rbegin(), maps.rend(), [p](auto& m) { return m.first == p; });
  if (it != maps.rend()) {
    *it = maps.back();
    maps.pop_back();
    bytes -= len;
  }
  munmap(p, len);
}

void ZoneMemory::Mapped::unmapAll() {
  for (auto& [p, len] : maps) munmap(p, len);
  maps.clear();
  bytes = 0;
}

ZoneMemory::ZoneMemory() : pool_(poolOptions(), &upstream_) { all().push_back(this); }

ZoneMemory::~ZoneMemory() {
  auto& list = all();
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
}

size_t ZoneMemory::releaseUnclaimed() {
  size_t freed = 0;
  for (ZoneMemory* m : all())
    if (!m->claimed_ && !m->released_) {
      freed += m->upstream_.bytes;
      m->upstream_.unmapAll();
      m->released_ = true;
    }
  return freed;
}

}  // namespace manifold::dns
