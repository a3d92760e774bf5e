// The xcache: small files and their prebuilt response heads in shared memory, shared by every
// worker, with a byte budget (the shm table evicts least-recently-used entries to stay under).
//
// Region layout: XcacheHeader (64 bytes) then a shm::Table.
// Entry key: the normalised path, a NUL, and the variant ('i' identity, 'g' gzip).
// Entry value: XcacheEntry, then the response head (status line through the last header line,
// without the Connection header and blank line), then the body.
// An entry carries the file's validators (inode, mtime, size): a worker whose stat shows other
// values never serves it, and replaces it. Writes through WebDAV bump the header's generation so
// every worker drops its cached stats at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "shm/region_header.hpp"

namespace manifold::shm {
class Table;
}

namespace manifold::http {

struct FileValidators {
  uint64_t ino = 0;
  uint64_t mtimeNs = 0;
  uint64_t size = 0;
  bool operator==(const FileValidators&) const = default;
};

struct XcacheEntry {
  FileValidators validators;
  uint32_t headLength;
  uint32_t dateOffset;  // where the 29-byte Date value sits in the head
  uint64_t bodyLength;
};

class Xcache {
 public:
  static std::string layout();
  static void format(void* base, size_t bytes);
  // With xcache_size = 0 the region is only the header: no cache, but the write generation
  // that tells every worker to drop its cached stats after a WebDAV write is still shared.
  static std::string headerOnlyLayout();
  static constexpr size_t kHeaderOnlyBytes = 64;
  static void formatHeaderOnly(void* base);
  explicit Xcache(void* base);  // nullptr: disabled

  bool enabled() const { return table_ != nullptr; }
  uint64_t generation() const;
  void bumpGeneration();

  // Appends the head (with `date` patched in, and an HTTP/1.0 status line if versionMinor is 0),
  // then `endOfHead` (Connection header if any, and the blank line), then unless headOnly the
  // body: one copy under the stripe lock. False when absent or stale.
  bool appendResponse(std::string_view key, const FileValidators& validators, std::string_view date,
                      int versionMinor, std::string_view endOfHead, bool headOnly,
                      std::string& out);
  // Copies only the body into `body`. False when absent or stale.
  bool copyBody(std::string_view key, const FileValidators& validators, std::string& body);
  void put(std::string_view key, const FileValidators& validators, std::string_view head,
           uint32_t dateOffset, std::string_view body);
  void erase(std::string_view key);

 private:
  // Calls use(entry, head) under the stripe lock when the entry matches `validators`.
  template <class Fn>
  bool withFreshEntry(std::string_view key, const FileValidators& validators, Fn&& use);
  struct Header {
    shm::RegionMagic magic;
    std::atomic<uint64_t> generation;
    char pad[48];
  };
  Header* header_ = nullptr;
  shm::Table* table_ = nullptr;
  std::string scratch_;  // reused entry buffer for put()
};

}  // namespace manifold::http
