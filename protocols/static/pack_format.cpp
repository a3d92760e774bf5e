#include "protocols/static/pack_format.hpp"

#include <sodium.h>

#include <cstring>

namespace manifold::pack {

namespace {

constexpr size_t kMetaHashAt = 96;

uint64_t get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint32_t get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint16_t get16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | static_cast<uint8_t>(p[1]) << 8);
}

void put(std::string& out, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<char>(v >> (8 * i));
}

// The metadata hash: BLAKE2b-256 of [0, dataOffset) with its own field read as zero.
void metaHash(std::string_view meta, uint8_t out[kHashSize]) {
  static const uint8_t kZero[kHashSize] = {};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kHashSize);
  auto feed = [&](const void* p, size_t n) {
    crypto_generichash_update(&state, static_cast<const unsigned char*>(p), n);
  };
  feed(meta.data(), kMetaHashAt);
  feed(kZero, kHashSize);
  feed(meta.data() + kMetaHashAt + kHashSize, meta.size() - kMetaHashAt - kHashSize);
  crypto_generichash_final(&state, out, kHashSize);
}

bool within(uint64_t offset, uint64_t length, uint64_t begin, uint64_t end) {
  return offset >= begin && offset <= end && length <= end - offset;
}

}  // namespace

uint64_t pathHash(std::string_view path) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : path) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

void formatEtag(const uint8_t* hash, char out[34]) {
  static constexpr char kHex[] = "0123456789abcdef";
  out[0] = '"';
  for (int i = 0; i < 16; ++i) {
    out[1 + 2 * i] = kHex[hash[i] >> 4];
    out[2 + 2 * i] = kHex[hash[i] & 15];
  }
  out[33] = '"';
}

void hashBytes(std::string_view bytes, uint8_t out[kHashSize]) {
  crypto_generichash(out, kHashSize, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
}

bool View::parse(std::string_view b, uint64_t size, std::string& why) {
  bytes_ = {};
  hasBodies_ = b.size() == size;
  if (b.size() < kHeaderSize || b.substr(0, kMagic.size()) != kMagic) {
    why = "not a site pack (no MFLDPACK magic)";
    return false;
  }
  const char* h = b.data();
  if (get32(h + 8) != kVersion) {
    why = "pack version " + std::to_string(get32(h + 8)) + " (this server reads 1)";
    return false;
  }
  flags_ = get32(h + 12);
  buildTime_ = static_cast<int64_t>(get64(h + 16));
  entryCount_ = get32(h + 24);
  bucketCount_ = get32(h + 28);
  entriesOffset_ = get64(h + 32);
  bucketsOffset_ = get64(h + 40);
  stringsOffset_ = get64(h + 48);
  stringsLength_ = get64(h + 56);
  dataOffset_ = get64(h + 64);
  uint64_t fileSize = get64(h + 72);
  fileCount_ = get32(h + 80);
  if (fileSize != size || b.size() > size) {
    why = "truncated or extended: " + std::to_string(size) + " bytes, header says " +
          std::to_string(fileSize);
    return false;
  }
  bool shapeOk = bucketCount_ != 0 && (bucketCount_ & (bucketCount_ - 1)) == 0 &&
                 bucketCount_ / 2 >= entryCount_ && entriesOffset_ == kHeaderSize &&
                 bucketsOffset_ == entriesOffset_ + uint64_t{entryCount_} * kEntrySize &&
                 stringsOffset_ == bucketsOffset_ + uint64_t{bucketCount_} * 4 &&
                 within(stringsOffset_, stringsLength_, 0, size) &&
                 dataOffset_ >= stringsOffset_ + stringsLength_ && dataOffset_ <= b.size() &&
                 fileCount_ <= entryCount_ && (flags_ & ~kFlagSealed) == 0;
  if (!shapeOk) {
    why = "corrupt header";
    return false;
  }
  uint8_t hash[kHashSize];
  metaHash(b.substr(0, dataOffset_), hash);
  if (memcmp(hash, h + kMetaHashAt, kHashSize) != 0) {
    why = "corrupt index (metadata hash mismatch)";
    return false;
  }
  // The hash covers the metadata; bounds are still checked, so a pack built wrong (or a
  // colliding forgery) cannot make a lookup read outside the file.
  bytes_ = b;
  for (uint32_t i = 0; i < entryCount_; ++i) {
    const char* e = b.data() + entriesOffset_ + uint64_t{i} * kEntrySize;
    uint8_t kind = static_cast<uint8_t>(e[14]);
    bool ok = kind >= 1 && kind <= 3 && within(get32(e + 8), get16(e + 12), 0, stringsLength_) &&
              within(get32(e + 56), get16(e + 60), 0, stringsLength_) &&
              within(get64(e + 16), get64(e + 24), dataOffset_, size) &&
              within(get64(e + 32), get64(e + 40), dataOffset_, size);
    if (!ok) {
      bytes_ = {};
      why = "corrupt entry " + std::to_string(i);
      return false;
    }
  }
  for (uint32_t i = 0; i < bucketCount_; ++i) {
    uint32_t v = get32(b.data() + bucketsOffset_ + uint64_t{i} * 4);
    if (v != kEmptyBucket && v >= entryCount_) {
      bytes_ = {};
      why = "corrupt bucket " + std::to_string(i);
      return false;
    }
  }
  return true;
}

Entry View::entry(uint32_t index) const {
  const char* e = bytes_.data() + entriesOffset_ + uint64_t{index} * kEntrySize;
  const char* strings = bytes_.data() + stringsOffset_;
  Entry out;
  out.path = std::string_view(strings + get32(e + 8), get16(e + 12));
  out.kind = static_cast<Kind>(e[14]);
  out.hasGzip = e[15] & kEntryGzip;
  out.bodyOffset = get64(e + 16);
  out.bodyLength = get64(e + 24);
  out.gzipOffset = get64(e + 32);
  out.gzipLength = get64(e + 40);
  out.mtime = static_cast<int64_t>(get64(e + 48));
  out.type = std::string_view(strings + get32(e + 56), get16(e + 60));
  out.bodyHash = reinterpret_cast<const uint8_t*>(e + 64);
  out.gzipHash = reinterpret_cast<const uint8_t*>(e + 96);
  return out;
}

bool View::find(std::string_view path, Entry& out) const {
  if (bytes_.empty()) return false;
  uint64_t hash = pathHash(path);
  uint32_t mask = bucketCount_ - 1;
  const char* buckets = bytes_.data() + bucketsOffset_;
  // Bounded even if a forged pack had no empty bucket.
  for (uint32_t probe = 0, slot = hash & mask; probe < bucketCount_;
       ++probe, slot = (slot + 1) & mask) {
    uint32_t index = get32(buckets + uint64_t{slot} * 4);
    if (index == kEmptyBucket) return false;
    const char* e = bytes_.data() + entriesOffset_ + uint64_t{index} * kEntrySize;
    if (get64(e) != hash) continue;
    out = entry(index);
    if (out.path == path) return true;
  }
  return false;
}

bool View::verifyBodies(std::string& why) const {
  if (!hasBodies_) {
    why = "bodies not loaded";
    return false;
  }
  uint8_t hash[kHashSize];
  for (uint32_t i = 0; i < entryCount_; ++i) {
    Entry e = entry(i);
    if (e.kind != Kind::File) continue;
    hashBytes(bytes_.substr(e.bodyOffset, e.bodyLength), hash);
    if (memcmp(hash, e.bodyHash, kHashSize) != 0) {
      why = std::string(e.path) + ": body hash mismatch";
      return false;
    }
    if (e.hasGzip) {
      hashBytes(bytes_.substr(e.gzipOffset, e.gzipLength), hash);
      if (memcmp(hash, e.gzipHash, kHashSize) != 0) {
        why = std::string(e.path) + ": gzip form hash mismatch";
        return false;
      }
    }
  }
  return true;
}

uint64_t alignBody(uint64_t at, uint64_t length) {
  uint64_t align = length >= 64 * 1024 ? 4096 : 64;
  return (at + align - 1) & ~(align - 1);
}

std::string layout(std::vector<BuildEntry>& entries, int64_t buildTime, uint32_t flags,
                   uint64_t& fileSize) {
  uint32_t count = static_cast<uint32_t>(entries.size());
  for (BuildEntry& e : entries) {
    if (e.aliasOf < 0) continue;
    const BuildEntry& target = entries[e.aliasOf];
    e.bodyLength = target.bodyLength;
    e.gzipLength = target.gzipLength;
    e.hasGzip = target.hasGzip;
    memcpy(e.bodyHash, target.bodyHash, kHashSize);
    memcpy(e.gzipHash, target.gzipHash, kHashSize);
    e.mtime = target.mtime;
    e.type = target.type;
  }
  uint32_t buckets = 16;
  while (buckets / 2 < count) buckets *= 2;
  // Strings: every path, then each distinct type once.
  std::string strings;
  std::vector<std::pair<uint32_t, uint32_t>> typeAt(count);
  std::vector<uint32_t> pathAt(count);
  for (uint32_t i = 0; i < count; ++i) {
    pathAt[i] = strings.size();
    strings.append(entries[i].path);
  }
  for (uint32_t i = 0; i < count; ++i) {
    size_t found = strings.find(entries[i].type);
    if (entries[i].type.empty()) found = 0;
    if (found == std::string::npos) {
      found = strings.size();
      strings.append(entries[i].type);
    }
    typeAt[i] = {static_cast<uint32_t>(found), static_cast<uint32_t>(entries[i].type.size())};
  }
  uint64_t entriesOffset = kHeaderSize;
  uint64_t bucketsOffset = entriesOffset + uint64_t{count} * kEntrySize;
  uint64_t stringsOffset = bucketsOffset + uint64_t{buckets} * 4;
  uint64_t dataOffset = (stringsOffset + strings.size() + 63) & ~uint64_t{63};
  uint64_t at = dataOffset;
  uint32_t files = 0;
  for (BuildEntry& e : entries) {
    if (e.kind != Kind::File || e.aliasOf >= 0) continue;
    ++files;
    e.bodyOffset = alignBody(at, e.bodyLength);
    at = e.bodyOffset + e.bodyLength;
    if (e.hasGzip) {
      e.gzipOffset = alignBody(at, e.gzipLength);
      at = e.gzipOffset + e.gzipLength;
    } else {
      e.gzipOffset = at;
    }
  }
  fileSize = at;
  for (BuildEntry& e : entries) {
    if (e.aliasOf < 0) continue;
    e.bodyOffset = entries[e.aliasOf].bodyOffset;
    e.gzipOffset = entries[e.aliasOf].gzipOffset;
  }
  for (BuildEntry& e : entries)
    if (e.kind != Kind::File) e.bodyOffset = e.gzipOffset = dataOffset;

  std::string meta(dataOffset, '\0');
  meta.replace(0, kMagic.size(), kMagic);
  put(meta, 8, kVersion, 4);
  put(meta, 12, flags, 4);
  put(meta, 16, static_cast<uint64_t>(buildTime), 8);
  put(meta, 24, count, 4);
  put(meta, 28, buckets, 4);
  put(meta, 32, entriesOffset, 8);
  put(meta, 40, bucketsOffset, 8);
  put(meta, 48, stringsOffset, 8);
  put(meta, 56, strings.size(), 8);
  put(meta, 64, dataOffset, 8);
  put(meta, 72, fileSize, 8);
  put(meta, 80, files, 4);
  for (uint32_t i = 0; i < count; ++i) {
    const BuildEntry& e = entries[i];
    size_t r = entriesOffset + uint64_t{i} * kEntrySize;
    put(meta, r, pathHash(e.path), 8);
    put(meta, r + 8, pathAt[i], 4);
    put(meta, r + 12, e.path.size(), 2);
    meta[r + 14] = static_cast<char>(e.kind);
    meta[r + 15] = static_cast<char>(e.hasGzip ? kEntryGzip : 0);
    put(meta, r + 16, e.bodyOffset, 8);
    put(meta, r + 24, e.bodyLength, 8);
    put(meta, r + 32, e.gzipOffset, 8);
    put(meta, r + 40, e.gzipLength, 8);
    put(meta, r + 48, static_cast<uint64_t>(e.mtime), 8);
    put(meta, r + 56, typeAt[i].first, 4);
    put(meta, r + 60, typeAt[i].second, 2);
    memcpy(meta.data() + r + 64, e.bodyHash, kHashSize);
    memcpy(meta.data() + r + 96, e.gzipHash, kHashSize);
  }
  for (uint32_t b = 0; b < buckets; ++b)
    put(meta, bucketsOffset + uint64_t{b} * 4, kEmptyBucket, 4);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t slot = pathHash(entries[i].path) & (buckets - 1);
    while (get32(meta.data() + bucketsOffset + uint64_t{slot} * 4) != kEmptyBucket)
      slot = (slot + 1) & (buckets - 1);
    put(meta, bucketsOffset + uint64_t{slot} * 4, i, 4);
  }
  meta.replace(stringsOffset, strings.size(), strings);
  uint8_t hash[kHashSize];
  metaHash(meta, hash);
  memcpy(meta.data() + kMetaHashAt, hash, kHashSize);
  return meta;
}

}  // namespace manifold::pack
