// The packed webroot ("site pack", built by bin/manifold-pack, served by `sites = DIR`): one file
// holding a whole site, so a request costs no open() or stat() and a site is replaced by
// renaming one file. All integers little-endian. Layout:
//
//   header   128 bytes at 0
//     0  magic "MFLDPACK"            8
//     8  u32 version (1)            12  u32 flags (bit 0: bodies sealed with age)
//    16  i64 build time (unix s)    24  u32 entry count      28  u32 bucket count (power of 2)
//    32  u64 entries offset (128)   40  u64 buckets offset   48  u64 strings offset
//    56  u64 strings length         64  u64 data offset      72  u64 file size (whole pack)
//    80  u32 file count (regular files, without index aliases)   84..95 zero
//    96  BLAKE2b-256 of bytes [0, data offset) with these 32 bytes zeroed (the metadata hash)
//   entries  entry count x 128 bytes, sorted by path:
//     0  u64 FNV-1a 64 of the path   8  u32 path offset (in strings)  12 u16 path length
//    14  u8 kind (1 file, 2 redirect to path + "/", 3 directory without index: 403)
//    15  u8 flags (bit 0: gzip form present)
//    16  u64 body offset  24 u64 body length  32 u64 gzip offset  40 u64 gzip length
//    48  i64 mtime (unix s)  56 u32 type offset  60 u16 type length  62 u16 zero
//    64  BLAKE2b-256 of the body (the strong ETag is its first 16 bytes in hex)
//    96  BLAKE2b-256 of the gzip form (zero when none)
//   buckets  bucket count x u32: entry index, 0xffffffff empty. The path index is a hash table
//            with linear probing over FNV-1a 64 of the path; at least twice as many buckets as
//            entries, so a miss ends at an empty bucket after a few probes. Lookups read the
//            mapping only: no syscall.
//   strings  paths ("/a/b.html", "/dir/" for a directory's index, "/dir" for its redirect) and
//            content types, types stored once
//   data     from a 64-byte boundary: bodies, then their gzip forms, each aligned to 64 bytes
//            (4096 from 64 KiB up, so sendfile of large bodies reads whole pages); padding zero
// A directory with an index file has an entry "/dir/" that repeats the index file's record
// (same body offsets). Output is deterministic: entries sorted by path, no timestamps but the
// build time, which is SOURCE_DATE_EPOCH when set, else the newest mtime in the tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::pack {

inline constexpr std::string_view kMagic = "MFLDPACK";
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSize = 128;
inline constexpr size_t kEntrySize = 128;
inline constexpr uint32_t kEmptyBucket = 0xffffffff;
inline constexpr uint32_t kFlagSealed = 1;
inline constexpr uint8_t kEntryGzip = 1;
inline constexpr size_t kHashSize = 32;

enum class Kind : uint8_t { File = 1, Redirect = 2, Directory = 3 };

// One entry, decoded from its record.
struct Entry {
  std::string_view path;
  Kind kind = Kind::File;
  bool hasGzip = false;
  uint64_t bodyOffset = 0, bodyLength = 0;
  uint64_t gzipOffset = 0, gzipLength = 0;
  int64_t mtime = 0;
  std::string_view type;
  const uint8_t* bodyHash = nullptr;  // kHashSize bytes inside the pack
  const uint8_t* gzipHash = nullptr;
};

// A validated pack in memory (views into the bytes given to parse()).
class View {
 public:
  // `bytes`: the start of a pack of `size` bytes, at least its metadata (up to the data
  // offset), or all of it. Checks everything but the bodies' hashes (verifyBodies does those):
  // magic, version, size (a truncated pack fails here), bounds of every offset, the metadata
  // hash. False with `why`.
  bool parse(std::string_view bytes, uint64_t size, std::string& why);
  // The entry for a normalised path, or false. No allocation, no syscall.
  bool find(std::string_view path, Entry& out) const;
  Entry entry(uint32_t index) const;
  uint32_t entryCount() const { return entryCount_; }
  uint32_t fileCount() const { return fileCount_; }
  int64_t buildTime() const { return buildTime_; }
  uint64_t dataOffset() const { return dataOffset_; }
  bool sealed() const { return flags_ & kFlagSealed; }
  // Hashes every body and gzip form (parse() was given all of the pack); false with the first
  // bad path in `why`.
  bool verifyBodies(std::string& why) const;

 private:
  std::string_view bytes_;
  bool hasBodies_ = false;
  uint32_t flags_ = 0, entryCount_ = 0, bucketCount_ = 0, fileCount_ = 0;
  int64_t buildTime_ = 0;
  uint64_t entriesOffset_ = 0, bucketsOffset_ = 0, stringsOffset_ = 0, stringsLength_ = 0;
  uint64_t dataOffset_ = 0;
};

uint64_t pathHash(std::string_view path);  // FNV-1a 64
// The strong ETag of a body: '"' + hex of the first 16 bytes of its hash + '"' (34 chars).
void formatEtag(const uint8_t* hash, char out[34]);
void hashBytes(std::string_view bytes, uint8_t out[kHashSize]);

// ---- building (bin/manifold-pack) ----

struct BuildEntry {
  std::string path;
  Kind kind = Kind::File;
  std::string type;
  int64_t mtime = 0;
  uint64_t bodyLength = 0, gzipLength = 0;
  uint8_t bodyHash[kHashSize] = {};
  uint8_t gzipHash[kHashSize] = {};
  bool hasGzip = false;
  int aliasOf = -1;  // an index entry: repeats the bodies of entries[aliasOf]
  // Set by layout():
  uint64_t bodyOffset = 0, gzipOffset = 0;
};

// Aligned start for a body of `length` bytes at or after `at`.
uint64_t alignBody(uint64_t at, uint64_t length);

// Places the bodies (in entry order, each body then its gzip form; aliases share) and returns
// the metadata: header, entries, buckets, strings, padded to the data offset. `entries` must be
// sorted by path with unique paths. fileSize receives the whole pack's size.
std::string layout(std::vector<BuildEntry>& entries, int64_t buildTime, uint32_t flags,
                   uint64_t& fileSize);

}  // namespace manifold::pack
