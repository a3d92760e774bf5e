#include "protocols/static/xcache.hpp"

#include <cstring>
#include <span>

#include "shm/table.hpp"

namespace manifold::http {

namespace {
constexpr shm::MagicText kMagic = "XCACHE01";
constexpr shm::MagicText kMagicHeaderOnly = "XCACHE0H";
constexpr size_t kBytesPerBucket = 4096;  // about one bucket per small file
constexpr uint32_t kStripes = 64;
}  // namespace

std::string Xcache::layout() {
  return "xcache1/hdr" + std::to_string(sizeof(Header)) + "/entry" +
         std::to_string(sizeof(XcacheEntry));
}

void Xcache::format(void* base, size_t bytes) {
  auto* header = new (base) Header{};
  header->magic.stamp(kMagic);
  header->generation.store(1);
  size_t tableBytes = bytes - sizeof(Header);
  uint32_t buckets = std::max<size_t>(1024, tableBytes / kBytesPerBucket);
  shm::Table::format(static_cast<char*>(base) + sizeof(Header), tableBytes, buckets, kStripes);
}

std::string Xcache::headerOnlyLayout() {
  return "xcache1-header/hdr" + std::to_string(sizeof(Header));
}

void Xcache::formatHeaderOnly(void* base) {
  static_assert(sizeof(Header) <= kHeaderOnlyBytes);
  auto* header = new (base) Header{};
  header->magic.stamp(kMagicHeaderOnly);
  header->generation.store(1);
}

Xcache::Xcache(void* base) {
  if (!base) return;
  header_ = static_cast<Header*>(base);
  if (header_->magic.is(kMagic)) table_ = shm::Table::at(static_cast<char*>(base) + sizeof(Header));
}

uint64_t Xcache::generation() const {
  return header_ ? header_->generation.load(std::memory_order_acquire) : 0;
}

void Xcache::bumpGeneration() {
  if (header_) header_->generation.fetch_add(1, std::memory_order_acq_rel);
}

template <class Fn>
bool Xcache::withFreshEntry(std::string_view key, const FileValidators& validators, Fn&& use) {
  if (!table_) return false;
  bool fresh = false;
  table_->find(key, [&](std::span<const uint8_t> value) {
    if (value.size() < sizeof(XcacheEntry)) return;
    XcacheEntry entry;
    std::memcpy(&entry, value.data(), sizeof entry);
    if (!(entry.validators == validators)) return;  // stale: the caller rebuilds it
    use(entry, reinterpret_cast<const char*>(value.data()) + sizeof entry);
    fresh = true;
  });
  return fresh;
}

bool Xcache::appendResponse(std::string_view key, const FileValidators& validators,
                            std::string_view date, int versionMinor, std::string_view endOfHead,
                            bool headOnly, std::string& out) {
  return withFreshEntry(key, validators, [&](const XcacheEntry& entry, const char* head) {
    size_t start = out.size();
    out.append(head, entry.headLength);
    std::memcpy(out.data() + start + entry.dateOffset, date.data(), 29);
    if (versionMinor == 0) out[start + 7] = '0';
    out.append(endOfHead);
    if (!headOnly) out.append(head + entry.headLength, entry.bodyLength);
  });
}

bool Xcache::copyBody(std::string_view key, const FileValidators& validators, std::string& body) {
  return withFreshEntry(key, validators, [&](const XcacheEntry& entry, const char* head) {
    body.assign(head + entry.headLength, entry.bodyLength);
  });
}

void Xcache::put(std::string_view key, const FileValidators& validators, std::string_view head,
                 uint32_t dateOffset, std::string_view body) {
  if (!table_) return;
  XcacheEntry entry{validators, static_cast<uint32_t>(head.size()), dateOffset, body.size()};
  scratch_.clear();
  scratch_.append(reinterpret_cast<const char*>(&entry), sizeof entry);
  scratch_.append(head);
  scratch_.append(body);
  table_->put(key, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(scratch_.data()),
                                            scratch_.size()));
}

void Xcache::erase(std::string_view key) {
  if (table_) table_->erase(key);
}

}  // namespace manifold::http
