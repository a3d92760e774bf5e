// Storing one upstream response while it is relayed: decides at the head (planStore), keeps the
// body in memory up to cache_memory_max_object and past that (with a disk tier) in a temporary
// file, and publishes the object only when the body arrived whole. A response cut short, or
// one that grew past every limit, is dropped: never a partial object in the cache.
// Also merges a 304 into the stored object (RFC 9111 3.2 and 4.3.4).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "protocols/proxy/cache_policy.hpp"
#include "protocols/proxy/cache_store.hpp"
#include "protocols/proxy/response.hpp"

namespace manifold::proxy {

struct CacheLimits {
  CacheRules rules;
  uint64_t memoryMaxObject = 1 << 20;  // larger bodies go to the disk tier
  uint64_t diskMaxObject = 1ull << 30;
  int64_t passTtl = 10;  // seconds a not-storable answer keeps misses from waiting on each other
};

class CacheFill {
 public:
  enum class Outcome : uint8_t { Stored, NotStorable, TooLarge, DiskError };

  CacheFill(CacheStore& store, const CacheLimits& limits) : store_(store), limits_(limits) {}
  ~CacheFill() { abort(); }

  // A fill for `primary` (the request head as sent upstream, ending with its blank line, is kept
  // to read the request's Vary values and directives at the response).
  void prepare(std::string_view primary, std::string_view requestHead, time_t requestTime);
  // At the response head; false when it is not stored (reason()).
  bool begin(const ResponseHead& resp, time_t now);
  // Body bytes as they arrive; false once the object has been given up.
  bool append(std::string_view data);
  // The body ended whole: publish. False if it could not be stored.
  bool commit();
  void abort();
  bool active() const { return active_; }
  const char* reason() const { return reason_; }
  bool diskFailed() const { return diskFailed_; }
  const std::string& objectKey() const { return key_; }
  const std::string& primary() const { return primary_; }

  // A 304 to the revalidation of `key`: the stored object's fields are updated with the 304's
  // (except framing), its age and lifetime computed again. False when the object is gone.
  bool refresh(std::string_view key, const ResponseHead& notModified, time_t now);

 private:
  bool spill();  // from memory to a temp file
  void dropTemp();

  CacheStore& store_;
  const CacheLimits& limits_;
  std::string primary_, key_, requestHead_, head_, body_, tempPath_;
  ObjectMeta meta_{};
  time_t requestTime_ = 0;
  int fd_ = -1;
  uint64_t bodyBytes_ = 0;
  bool active_ = false;
  bool diskFailed_ = false;
  const char* reason_ = "";
};

// The stored form of a response head: "STATUS REASON\r\n" then its end-to-end fields without
// the ones never stored (a Date from meta.responseTime when the origin sent none), and the ETag /
// Last-Modified found on the way.
void buildStoredHead(const ResponseHead& resp, bool stripSetCookie, std::string& out,
                     ObjectMeta& meta);

}  // namespace manifold::proxy
