// The proxy cache's shared index and memory tier: one shm::Table per [proxy:NAME] (shared by
// every worker, kept across reloads), plus the disk tier's files under cache_dir.
//
// Region layout: CacheHeader (64 bytes) then a shm::Table (see shm/table.hpp).
//
// Keys (byte strings):
//   primary   HOST '\n' PATH ['?' QUERY]                  (host lowercased, without port)
//   variant   primary '\x02' EPOCH(16 hex) '\x02' values  (values: appendVaryValues)
//   fill lock '\x01' 'L' key                              (coalescing: one origin fetch per key)
//   pass mark '\x01' 'P' key                              (recently not storable: no coalescing)
// Values: ObjectMeta (96 bytes), then by kind:
//   Object  the stored head ("200 OK\r\n" then field lines, each with CRLF; no Age, no framing),
//           then the body when it is in memory (flags & kOnDisk: the body is in the file)
//   Vary    the response's Vary names (varyNames()); `epoch` names the current variant set, so a
//           purge or a change of Vary makes every older variant unreachable at once
//   Lock    `until` = monotonic ms when the fill is presumed dead (another may take it)
//   Pass    `until` = unix seconds until which misses go upstream without waiting
//
// Disk tier file (cache_dir/XX/HASH, HASH = 32 hex of BLAKE2b-128 of the key), written to
// cache_dir/tmp and renamed into place when complete (a reader never sees half a file):
//   "MFCACHE1" | uint32 keyLength | uint32 headLength | ObjectMeta | key | head | zero pad
//   to bodyOffset (a multiple of 512) | body
// A file whose key does not match the one looked up (a hash collision) is ignored.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/http/request.hpp"
#include "shm/region_header.hpp"
#include "shm/table.hpp"

namespace manifold::proxy {

enum class EntryKind : uint8_t { Object = 1, Vary = 2, Lock = 3, Pass = 4 };

struct ObjectMeta {
  EntryKind kind;
  uint8_t flags;
  uint16_t status;
  uint32_t headLength;
  uint64_t bodyLength;
  int64_t responseTime;  // unix seconds the response arrived
  int64_t initialAge;    // corrected_initial_age
  int64_t lifetime;      // freshness lifetime, seconds
  uint32_t staleWhileRevalidate, staleIfError;
  int64_t lastModified;             // Last-Modified as unix seconds, -1 none
  uint32_t etagOffset, etagLength;  // the ETag value within the head (length 0: none)
  uint64_t hits;
  int64_t lastUsed;     // unix seconds of the last hit
  uint64_t until;       // Vary: the epoch; Lock: monotonic ms; Pass: unix seconds
  uint64_t bodyOffset;  // kOnDisk: where the body starts in the file

  static constexpr uint8_t kMustRevalidate = 1, kNoCache = 2, kAuthorized = 4, kOnDisk = 8;

  int64_t currentAge(int64_t now) const {
    return initialAge + (now > responseTime ? now - responseTime : 0);
  }
  bool fresh(int64_t now) const { return !(flags & kNoCache) && currentAge(now) < lifetime; }
  // Stale by at most `window` seconds, and allowed to be served stale at all.
  bool staleWithin(int64_t now, int64_t window) const {
    return !(flags & (kMustRevalidate | kNoCache)) && currentAge(now) < lifetime + window;
  }
};
static_assert(sizeof(ObjectMeta) == 96);

// A stored head ("200 OK\r\n" then field lines): its field lines, and one field's value (OWS
// trimmed; "" when absent).
std::string_view storedFields(std::string_view head);
std::string_view storedField(std::string_view head, std::string_view name);

class CacheStore {
 public:
  static std::string layout();
  static void format(void* base, size_t bytes);
  // base: the region; dir: the disk tier ("" = none).
  CacheStore(void* base, std::string dir);

  static void primaryKey(std::string_view host, std::string_view path, std::string_view query,
                         std::string& out);

  // The object answering this request: the primary key's object, or (when a Vary marker is
  // stored there) the variant the request's field values select; `key` receives the object's
  // key either way. fn(ObjectMeta&, std::string_view head, std::string_view body) runs under
  // the stripe lock (body empty when on disk); the use is counted when `hit`. An absent key is
  // looked for in the disk tier and indexed again (after a restart, or when the memory tier
  // evicted it). False when there is no object.
  template <class Fn>
  bool lookup(std::string_view primary, const http::Request& req, std::string& key, bool hit,
              int64_t now, Fn&& fn);
  // The same for a known object key (no Vary resolution).
  template <class Fn>
  bool withObject(std::string_view key, bool hit, int64_t now, bool probeDisk, Fn&& fn);

  // Stores a complete object (body in memory, or bodyLength/bodyOffset of its disk file).
  bool put(std::string_view key, const ObjectMeta& meta, std::string_view head,
           std::string_view body);
  // The Vary marker for `primary`: keeps its epoch when the names are unchanged. Returns it.
  uint64_t putVary(std::string_view primary, std::string_view names);
  static void variantKey(std::string_view primary, uint64_t epoch, const http::Request& req,
                         std::string_view names, std::string& out);

  // Coalescing: true when this caller now owns the fill of `key` (none did, or the owner's time
  // ran out). unlock() ends it.
  bool tryLock(std::string_view key, uint64_t nowMs, uint64_t holdMs);
  bool locked(std::string_view key, uint64_t nowMs);
  void unlock(std::string_view key);
  void markPass(std::string_view key, int64_t until);
  bool passMarked(std::string_view key, int64_t now);

  // Drops the object (memory and disk) of `primary`, or its Vary marker: the variants are then
  // unreachable (the next marker gets a new epoch) and age out.
  bool purge(std::string_view primary);
  void erase(std::string_view key);

  // Disk tier.
  bool hasDisk() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  std::string filePath(std::string_view key) const;
  static uint64_t bodyOffsetFor(size_t keyLength, size_t headLength);
  // The file's header block (everything before the body).
  static void appendFileHeader(std::string& out, std::string_view key, const ObjectMeta& meta,
                               std::string_view head);
  std::atomic<uint64_t>& diskBytes() { return header_->diskBytes; }
  // Publishes a complete temporary file as the disk copy of `key` (making its XX/ directory on
  // first use); the temporary file is removed when that fails.
  bool publish(const std::string& tempPath, std::string_view key) const;

  // The table of a region on a read-only mapping (bin/manifold-shm), nullptr if not one.
  static const shm::Table* tableAt(const void* base);
  shm::Table* table() { return table_; }
  const shm::Table* table() const { return table_; }

 private:
  struct CacheHeader {
    shm::RegionMagic magic;
    std::atomic<uint64_t> epoch;      // last Vary epoch handed out
    std::atomic<uint64_t> diskBytes;  // bytes of the disk tier, as last counted plus stores
    char pad[40];
  };
  static_assert(sizeof(CacheHeader) == 64);
  bool loadFromDisk(std::string_view key);
  template <class Fn>
  static bool visit(std::span<uint8_t> value, bool hit, int64_t now, Fn&& fn);

  CacheHeader* header_ = nullptr;
  shm::Table* table_ = nullptr;
  std::string dir_;
  std::string scratch_, names_;
};

template <class Fn>
bool CacheStore::visit(std::span<uint8_t> v, bool hit, int64_t now, Fn&& fn) {
  if (v.size() < sizeof(ObjectMeta)) return false;
  auto* m = reinterpret_cast<ObjectMeta*>(v.data());
  if (m->kind != EntryKind::Object || sizeof(ObjectMeta) + m->headLength > v.size()) return false;
  if (hit) {
    ++m->hits;
    m->lastUsed = now;
  }
  const char* head = reinterpret_cast<const char*>(v.data()) + sizeof(ObjectMeta);
  size_t bodyBytes = v.size() - sizeof(ObjectMeta) - m->headLength;
  fn(*m, std::string_view(head, m->headLength), std::string_view(head + m->headLength, bodyBytes));
  return true;
}

template <class Fn>
bool CacheStore::withObject(std::string_view key, bool hit, int64_t now, bool probeDisk, Fn&& fn) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool found = false;
    table_->update(key, [&](std::span<uint8_t> v) { found = visit(v, hit, now, fn); });
    if (found) return true;
    if (attempt > 0 || !probeDisk || !loadFromDisk(key)) return false;
  }
  return false;
}

template <class Fn>
bool CacheStore::lookup(std::string_view primary, const http::Request& req, std::string& key,
                        bool hit, int64_t now, Fn&& fn) {
  key.assign(primary);
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool present = false, object = false;
    uint64_t epoch = 0;
    // One lock for the common case: the primary key holds the object itself.
    table_->update(primary, [&](std::span<uint8_t> v) {
      if (v.size() < sizeof(ObjectMeta)) return;
      present = true;
      const auto* m = reinterpret_cast<const ObjectMeta*>(v.data());
      if (m->kind == EntryKind::Vary) {
        epoch = m->until;
        names_.assign(reinterpret_cast<const char*>(v.data()) + sizeof(ObjectMeta),
                      v.size() - sizeof(ObjectMeta));
        return;
      }
      object = visit(v, hit, now, fn);
    });
    if (epoch) {
      variantKey(primary, epoch, req, names_, key);
      return withObject(key, hit, now, true, fn);
    }
    if (present) return object;
    if (attempt > 0 || !loadFromDisk(primary)) return false;
  }
  return false;
}

}  // namespace manifold::proxy
