// Where a zone database lives: its own anonymous mappings, not the malloc heap. Two reasons:
// a worker forked after a reload inherits the previous generation's database from the master
// and would keep those pages for its whole life (they are shared with nobody once the master
// frees them, so a reload would double the resident memory); with the database in mappings of
// its own, the worker unmaps every database its services do not use (releaseUnclaimed). And
// the zone's millions of small strings and vectors sit in pools without malloc's per-block
// header, apart from the parser's garbage, so nothing is left fragmented after a load.
//
// ZoneDb sets `scope()` as the default polymorphic resource while it builds (load, addPools,
// finish): every std::pmr container created then allocates here.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <utility>
#include <vector>

namespace manifold::dns {

class ZoneMemory {
 public:
  ZoneMemory();
  ~ZoneMemory();
  ZoneMemory(const ZoneMemory&) = delete;
  ZoneMemory& operator=(const ZoneMemory&) = delete;

  std::pmr::memory_resource* resource() { return &pool_; }
  // Makes this the default resource until the returned guard goes out of scope.
  class Scope {
   public:
    explicit Scope(ZoneMemory& m) : previous_(std::pmr::set_default_resource(m.resource())) {}
    ~Scope() { std::pmr::set_default_resource(previous_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::pmr::memory_resource* previous_;
  };
  Scope scope() { return Scope(*this); }

  // In a worker: marks this database as used by one of its services.
  void claim() { claimed_ = true; }
  // In a worker, once every service exists: unmaps every database no service claimed (older
  // generations' copies inherited through fork). Their objects must never be touched again.
  static size_t releaseUnclaimed();
  size_t mappedBytes() const { return upstream_.bytes; }

 private:
  // Whole mappings: one per pool chunk or large block, unmapped on deallocate.
  struct Mapped : std::pmr::memory_resource {
    std::vector<std::pair<void*, size_t>> maps;
    size_t bytes = 0;
    void* do_allocate(size_t bytes, size_t align) override;
    void do_deallocate(void* p, size_t bytes, size_t align) override;
    bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
      return this == &o;
    }
    void unmapAll();
  };
  Mapped upstream_;
  std::pmr::unsynchronized_pool_resource pool_;
  bool claimed_ = false;
  bool released_ = false;
};

}  // namespace manifold::dns
