// Tier: unit — where a zone database lives (protocols/dns/zone_memory.*): containers built in its
// scope allocate from its own mappings, the default resource comes back after, and a worker's
// release unmaps exactly the databases nobody claimed.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <memory_resource>
#include <string>
#include <vector>

#include "protocols/dns/zone_memory.hpp"

namespace manifold::dns {
namespace {

// Whether the page holding p is mapped (msync fails with ENOMEM on an unmapped range).
bool mapped(const void* p) {
  auto page = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{4095};
  return msync(reinterpret_cast<void*>(page), 4096, MS_ASYNC) == 0 || errno != ENOMEM;
}

// Strings big enough to leave the small-string buffer, built while `m` is the default.
std::pmr::vector<std::pmr::string>* fill(ZoneMemory& m, size_t n) {
  auto scope = m.scope();
  auto* v = new std::pmr::vector<std::pmr::string>();
  for (size_t i = 0; i < n; ++i) v->emplace_back(std::string(64, static_cast<char>('a' + i % 26)));
  return v;
}

TEST(DnsZoneMemory, ContainersBuiltInScopeUseItsMappings) {
  std::pmr::memory_resource* before = std::pmr::get_default_resource();
  ZoneMemory m;
  EXPECT_LT(m.mappedBytes(), 65536u);  // the pool's own bookkeeping
  auto* v = fill(m, 10000);
  EXPECT_EQ(std::pmr::get_default_resource(), before);  // restored when the scope ends
  EXPECT_GE(m.mappedBytes(), 10000u * 64);
  EXPECT_EQ(v->get_allocator().resource(), m.resource());
  EXPECT_EQ((*v)[0].get_allocator().resource(), m.resource());
  EXPECT_EQ(std::string_view((*v)[9999]), std::string(64, static_cast<char>('a' + 9999 % 26)));
  delete v;  // back to the pool: the mappings stay for reuse until the database goes
}

TEST(DnsZoneMemory, ReleaseUnmapsOnlyWhatNoServiceClaimed) {
  // An older generation's database as a worker inherits it: never destroyed once released.
  auto* stale = new ZoneMemory;
  auto* old = fill(*stale, 5000);
  ZoneMemory used;
  auto* live = fill(used, 5000);
  used.claim();
  const size_t staleBytes = stale->mappedBytes();
  ASSERT_GT(staleBytes, 0u);
  // Where its data is (the vector itself lives there too: not readable after the release).
  const void* first = (*old)[0].data();
  const void* last = (*old)[4999].data();
  const void* array = old->data();
  ASSERT_TRUE(mapped(first) && mapped(last) && mapped(array));
  EXPECT_EQ(ZoneMemory::releaseUnclaimed(), staleBytes);
  EXPECT_EQ(stale->mappedBytes(), 0u);
  EXPECT_FALSE(mapped(first));
  EXPECT_FALSE(mapped(last));
  EXPECT_FALSE(mapped(array));
  // The claimed one is untouched and a second release finds nothing more.
  EXPECT_TRUE(mapped((*live)[0].data()));
  EXPECT_EQ(std::string_view((*live)[4999]), std::string(64, static_cast<char>('a' + 4999 % 26)));
  EXPECT_EQ(ZoneMemory::releaseUnclaimed(), 0u);
  delete live;
}

}  // namespace
}  // namespace manifold::dns
