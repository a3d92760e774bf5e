#include "protocols/proxy/cache_cleaner.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <unordered_map>
#include <vector>

#include "worker/log.hpp"

namespace manifold::proxy {

namespace {

struct DiskFile {
  std::string path;
  uint64_t bytes;
  int64_t used;
};

template <class Fn>
void forEachFile(const std::string& dir, Fn&& fn) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = dir + "/" + e->d_name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) fn(path, e->d_name, st);
  }
  ::closedir(d);
}

}  // namespace

CleanResult cleanDiskTier(CacheStore& store, uint64_t maxBytes, int64_t now) {
  // Last use of the indexed objects, by file path.
  std::unordered_map<std::string, int64_t> used;
  store.table()->forEach([&](std::string_view key, std::span<const uint8_t> value) {
    if (value.size() < sizeof(ObjectMeta) || key.empty() || key[0] == '\x01') return;
    const auto* m = reinterpret_cast<const ObjectMeta*>(value.data());
    if (m->kind == EntryKind::Object && (m->flags & ObjectMeta::kOnDisk))
      used.emplace(store.filePath(key), m->lastUsed);
  });
  std::vector<DiskFile> files;
  CleanResult r;
  forEachFile(store.dir(), [&](const std::string& path, const char* name, const struct stat& st) {
    if (!S_ISDIR(st.st_mode)) return;
    if (std::string_view(name) == "tmp") {
      forEachFile(path, [&](const std::string& p, const char*, const struct stat& t) {
        if (S_ISREG(t.st_mode) && now - t.st_mtime > CacheCleaner::kTempAge) ::unlink(p.c_str());
      });
      return;
    }
    forEachFile(path, [&](const std::string& p, const char*, const struct stat& f) {
      if (!S_ISREG(f.st_mode)) return;
      auto it = used.find(p);
      int64_t last = it != used.end() ? std::max<int64_t>(it->second, f.st_mtime) : f.st_mtime;
      files.push_back({p, static_cast<uint64_t>(f.st_size), last});
      r.bytes += static_cast<uint64_t>(f.st_size);
    });
  });
  if (r.bytes > maxBytes) {
    const auto target =
        static_cast<uint64_t>(static_cast<double>(maxBytes) * CacheCleaner::kLowWater);
    std::sort(files.begin(), files.end(),
              [](const DiskFile& a, const DiskFile& b) { return a.used < b.used; });
    for (const DiskFile& f : files) {
      if (r.bytes <= target) break;
      if (::unlink(f.path.c_str()) == 0) {
        r.bytes -= f.bytes;
        ++r.removed;
      }
    }
  }
  store.diskBytes().store(r.bytes, std::memory_order_relaxed);
  return r;
}

CacheCleaner::CacheCleaner(struct ev_loop* loop, CacheStore& store, uint64_t maxBytes,
                           std::string title)
    : store_(store),
      maxBytes_(maxBytes),
      title_(std::move(title)),
      pool_(loop, 1, 1),
      timer_(loop, [this] { pass(); }) {
  timer_.keepsLoopAlive(false);
}

void CacheCleaner::start() { timer_.repeat(kInterval, 0.5); }

void CacheCleaner::pass() {
  auto result = std::make_shared<CleanResult>();
  pool_.submit(
      [this, result](const std::atomic<bool>&) {
        *result = cleanDiskTier(store_, maxBytes_, static_cast<int64_t>(time(nullptr)));
      },
      [this, result] {
        if (result->removed)
          LOG_INFO("[%s] disk tier over cache_max_size: %llu files removed, %llu bytes left",
                   title_.c_str(), static_cast<unsigned long long>(result->removed),
                   static_cast<unsigned long long>(result->bytes));
      });
}

}  // namespace manifold::proxy
