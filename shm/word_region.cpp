#include "shm/word_region.hpp"

#include <cstring>
#include <new>

namespace manifold::shm {

void formatWordRegion(void* base, size_t bytes, bool adopted, const MagicText& magic,
                      uint32_t words) {
  auto* h = static_cast<WordRegionHeader*>(base);
  if (adopted && h->magic.is(magic) && h->words == words) return;
  std::memset(base, 0, bytes);
  std::atomic<uint64_t>* w = regionWords(base);
  for (uint32_t i = 0; i < words; ++i) new (&w[i]) std::atomic<uint64_t>(0);
  h->words = words;
  h->magic.stamp(magic);
}

}  // namespace manifold::shm
