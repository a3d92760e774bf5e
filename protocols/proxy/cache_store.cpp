#include "protocols/proxy/cache_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "protocols/ascii.hpp"
#include "protocols/proxy/cache_policy.hpp"

namespace manifold::proxy {

namespace {

constexpr shm::MagicText kMagic = "MFPCACH1";
constexpr char kFileMagic[8] = {'M', 'F', 'C', 'A', 'C', 'H', 'E', '1'};
constexpr size_t kBytesPerBucket = 2048;
constexpr uint32_t kStripes = 64;
constexpr size_t kFileFixed = 8 + 4 + 4 + sizeof(ObjectMeta);

std::string specialKey(char kind, std::string_view key) {
  std::string k;
  k.reserve(key.size() + 2);
  k.push_back('\x01');
  k.push_back(kind);
  k.append(key);
  return k;
}

std::span<const uint8_t> bytes(const void* p, size_t n) {
  return {static_cast<const uint8_t*>(p), n};
}

}  // namespace

std::string_view storedFields(std::string_view head) {
  size_t eol = head.find("\r\n");
  return eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
}

std::string_view storedField(std::string_view head, std::string_view name) {
  std::string_view fields = storedFields(head);
  while (!fields.empty()) {
    size_t eol = fields.find("\r\n");
    std::string_view line = fields.substr(0, eol);
    fields.remove_prefix(eol == std::string_view::npos ? fields.size() : eol + 2);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && http::equalsIgnoreCase(line.substr(0, colon), name))
      return ascii::trimOws(line.substr(colon + 1));
  }
  return {};
}

std::string CacheStore::layout() {
  return "proxycache1/hdr" + std::to_string(sizeof(CacheHeader)) + "/meta" +
         std::to_string(sizeof(ObjectMeta));
}

void CacheStore::format(void* base, size_t bytes) {
  auto* header = new (base) CacheHeader{};
  header->magic.stamp(kMagic);
  size_t tableBytes = bytes - sizeof(CacheHeader);
  uint32_t buckets = static_cast<uint32_t>(std::max<size_t>(1024, tableBytes / kBytesPerBucket));
  shm::Table::format(static_cast<char*>(base) + sizeof(CacheHeader), tableBytes, buckets, kStripes);
}

CacheStore::CacheStore(void* base, std::string dir) : dir_(std::move(dir)) {
  header_ = static_cast<CacheHeader*>(base);
  table_ = shm::Table::at(static_cast<char*>(base) + sizeof(CacheHeader));
}

const shm::Table* CacheStore::tableAt(const void* base) {
  const auto* header = static_cast<const CacheHeader*>(base);
  if (!header->magic.is(kMagic)) return nullptr;
  return shm::Table::at(static_cast<const char*>(base) + sizeof(CacheHeader));
}

void CacheStore::primaryKey(std::string_view host, std::string_view path, std::string_view query,
                            std::string& out) {
  out.clear();
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    host = host.substr(0, colon);  // the port is the listener's, not part of the resource
  for (char c : host) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  out.push_back('\n');
  out.append(path);
  if (!query.empty()) out.append("?").append(query);
}

void CacheStore::variantKey(std::string_view primary, uint64_t epoch, const http::Request& req,
                            std::string_view names, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.assign(primary);
  out.push_back('\x02');
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(epoch >> shift) & 15]);
  out.push_back('\x02');
  appendVaryValues(req, names, out);
}

bool CacheStore::put(std::string_view key, const ObjectMeta& meta, std::string_view head,
                     std::string_view body) {
  scratch_.assign(reinterpret_cast<const char*>(&meta), sizeof meta);
  scratch_.append(head).append(body);
  return table_->put(key, bytes(scratch_.data(), scratch_.size())) != shm::Table::PutResult::Full;
}

uint64_t CacheStore::putVary(std::string_view primary, std::string_view names) {
  uint64_t epoch = 0;
  table_->find(primary, [&](std::span<const uint8_t> v) {
    if (v.size() < sizeof(ObjectMeta)) return;
    const auto* m = reinterpret_cast<const ObjectMeta*>(v.data());
    std::string_view stored(reinterpret_cast<const char*>(v.data()) + sizeof(ObjectMeta),
                            v.size() - sizeof(ObjectMeta));
    if (m->kind == EntryKind::Vary && stored == names) epoch = m->until;
  });
  if (epoch) return epoch;
  // Unpredictable and never reused: the counter orders, the time and pid keep restarts apart.
  epoch = (header_->epoch.fetch_add(1) + 1) ^ (static_cast<uint64_t>(time(nullptr)) << 24) ^
          (static_cast<uint64_t>(getpid()) << 48);
  if (epoch == 0) epoch = 1;
  ObjectMeta m{};
  m.kind = EntryKind::Vary;
  m.until = epoch;
  m.headLength = static_cast<uint32_t>(names.size());
  m.lastModified = -1;
  put(primary, m, names, {});
  if (hasDisk()) {  // a marker lost at restart would hide every variant file
    std::string file;
    appendFileHeader(file, primary, m, names);
    std::string tmp = dir_ + "/tmp/v" + std::to_string(getpid()) + "-" + std::to_string(epoch);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      bool ok = ::write(fd, file.data(), file.size()) == static_cast<ssize_t>(file.size());
      ::close(fd);
      if (!ok) ::unlink(tmp.c_str());
      if (ok) publish(tmp, primary);  // best effort: without it the variants are fetched again
    }
  }
  return epoch;
}

bool CacheStore::tryLock(std::string_view key, uint64_t nowMs, uint64_t holdMs) {
  std::string k = specialKey('L', key);
  ObjectMeta m{};
  m.kind = EntryKind::Lock;
  m.until = nowMs + holdMs;
  auto r = table_->insert(k, bytes(&m, sizeof m));
  if (r == shm::Table::PutResult::Inserted) return true;
  if (r == shm::Table::PutResult::Full) return true;  // no room to coordinate: fetch anyway
  bool taken = false;  // an owner that ran out of time (died, or hung) loses the fill
  table_->update(k, [&](std::span<uint8_t> v) {
    if (v.size() < sizeof(ObjectMeta)) return;
    auto* cur = reinterpret_cast<ObjectMeta*>(v.data());
    if (cur->until <= nowMs) {
      cur->until = nowMs + holdMs;
      taken = true;
    }
  });
  return taken;
}

bool CacheStore::locked(std::string_view key, uint64_t nowMs) {
  bool held = false;
  table_->find(specialKey('L', key), [&](std::span<const uint8_t> v) {
    if (v.size() >= sizeof(ObjectMeta))
      held = reinterpret_cast<const ObjectMeta*>(v.data())->until > nowMs;
  });
  return held;
}

void CacheStore::unlock(std::string_view key) { table_->erase(specialKey('L', key)); }

void CacheStore::markPass(std::string_view key, int64_t until) {
  ObjectMeta m{};
  m.kind = EntryKind::Pass;
  m.until = static_cast<uint64_t>(until);
  table_->put(specialKey('P', key), bytes(&m, sizeof m));
}

bool CacheStore::passMarked(std::string_view key, int64_t now) {
  bool marked = false;
  table_->find(specialKey('P', key), [&](std::span<const uint8_t> v) {
    if (v.size() >= sizeof(ObjectMeta))
      marked = static_cast<int64_t>(reinterpret_cast<const ObjectMeta*>(v.data())->until) > now;
  });
  return marked;
}

void CacheStore::erase(std::string_view key) {
  table_->erase(key);
  if (hasDisk()) ::unlink(filePath(key).c_str());
}

bool CacheStore::purge(std::string_view primary) {
  bool found = table_->erase(primary);
  if (hasDisk()) found = ::unlink(filePath(primary).c_str()) == 0 || found;
  table_->erase(specialKey('P', primary));
  return found;
}

bool CacheStore::publish(const std::string& tempPath, std::string_view key) const {
  std::string path = filePath(key);
  bool ok = ::rename(tempPath.c_str(), path.c_str()) == 0;
  if (!ok && errno == ENOENT) {
    ::mkdir(path.substr(0, path.rfind('/')).c_str(), 0755);
    ok = ::rename(tempPath.c_str(), path.c_str()) == 0;
  }
  if (!ok) ::unlink(tempPath.c_str());
  return ok;
}

std::string CacheStore::filePath(std::string_view key) const {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string path = dir_;
  path.push_back('/');
  path.push_back(kHex[hash[0] >> 4]);
  path.push_back(kHex[hash[0] & 15]);
  path.push_back('/');
  for (unsigned char b : hash) {
    path.push_back(kHex[b >> 4]);
    path.push_back(kHex[b & 15]);
  }
  return path;
}

uint64_t CacheStore::bodyOffsetFor(size_t keyLength, size_t headLength) {
  return (kFileFixed + keyLength + headLength + 511) & ~uint64_t{511};
}

void CacheStore::appendFileHeader(std::string& out, std::string_view key, const ObjectMeta& meta,
                                  std::string_view head) {
  size_t start = out.size();
  out.append(kFileMagic, 8);
  uint32_t lengths[2] = {static_cast<uint32_t>(key.size()), static_cast<uint32_t>(head.size())};
  out.append(reinterpret_cast<const char*>(lengths), sizeof lengths);
  out.append(reinterpret_cast<const char*>(&meta), sizeof meta);
  out.append(key).append(head);
  if (meta.kind == EntryKind::Object)
    out.resize(start + bodyOffsetFor(key.size(), head.size()), '\0');
}

bool CacheStore::loadFromDisk(std::string_view key) {
  if (!hasDisk()) return false;
  int fd = ::open(filePath(key).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[16384];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  struct stat st {};
  bool statOk = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (n < static_cast<ssize_t>(kFileFixed) || !statOk || std::memcmp(buf, kFileMagic, 8) != 0)
    return false;
  uint32_t lengths[2];
  std::memcpy(lengths, buf + 8, sizeof lengths);
  ObjectMeta meta;
  std::memcpy(&meta, buf + 16, sizeof meta);
  if (kFileFixed + uint64_t{lengths[0]} + lengths[1] > static_cast<uint64_t>(n) ||
      std::string_view(buf + kFileFixed, lengths[0]) != key || meta.headLength != lengths[1])
    return false;
  std::string_view head(buf + kFileFixed + lengths[0], lengths[1]);
  if (meta.kind == EntryKind::Vary) {
    put(key, meta, head, {});
    return true;
  }
  if (meta.kind != EntryKind::Object || !(meta.flags & ObjectMeta::kOnDisk) ||
      meta.bodyOffset != bodyOffsetFor(lengths[0], lengths[1]) ||
      static_cast<uint64_t>(st.st_size) != meta.bodyOffset + meta.bodyLength)
    return false;
  return put(key, meta, head, {});
}

}  // namespace manifold::proxy
