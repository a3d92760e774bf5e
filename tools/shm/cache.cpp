#include "tools/shm/cache.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <vector>

#include "protocols/proxy/cache_store.hpp"

namespace manifold::shmtool {

namespace {

struct Object {
  std::string uri;  // host and path, "(variant)" for one of several
  uint64_t bytes;   // body
  uint64_t hits;
  int64_t age;
  bool disk;
  bool fresh;
};

std::string uriOf(std::string_view key) {
  size_t nl = key.find('\n');
  std::string uri = std::string(key.substr(0, nl));
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : key.substr(nl + 1);
  size_t variant = rest.find('\x02');
  uri.append(rest.substr(0, variant));
  if (variant != std::string_view::npos) uri.append(" (variant)");
  for (char& c : uri)
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') c = '?';
  return uri;
}

void appendList(std::string& out, const std::vector<Object>& objects, bool json) {
  for (size_t i = 0; i < objects.size(); ++i) {
    const Object& o = objects[i];
    if (json) {
      out += std::string(i ? "," : "") + "{\"uri\":\"" + o.uri +
             "\",\"bytes\":" + std::to_string(o.bytes) + ",\"hits\":" + std::to_string(o.hits) +
             ",\"age\":" + std::to_string(o.age) + ",\"tier\":\"" + (o.disk ? "disk" : "memory") +
             "\",\"fresh\":" + (o.fresh ? "true" : "false") + "}";
    } else {
      char line[96];
      std::snprintf(line, sizeof line, "  %12llu B %9llu hits %7llds %-6s %-5s ",
                    static_cast<unsigned long long>(o.bytes),
                    static_cast<unsigned long long>(o.hits), static_cast<long long>(o.age),
                    o.disk ? "disk" : "memory", o.fresh ? "fresh" : "stale");
      out += line + o.uri + "\n";
    }
  }
}

}  // namespace

std::string renderCache(const shm::Segment& segment, bool json, size_t top) {
  const int64_t now = time(nullptr);
  std::string out = json ? "{\"caches\":[" : "";
  bool any = false;
  for (const shm::RegionInfo& r : segment.regions()) {
    const std::string suffix = "/cache";
    if (r.state != shm::RegionState::Live || r.name.size() <= suffix.size() ||
        r.name.compare(0, 6, "proxy:") != 0 ||
        r.name.compare(r.name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const shm::Table* table =
        proxy::CacheStore::tableAt(static_cast<const char*>(segment.base()) + r.offset);
    if (!table) continue;
    std::vector<Object> objects;
    uint64_t memoryBytes = 0, diskBytes = 0, locks = 0;
    table->peekEach([&](std::string_view key, std::span<const uint8_t> value) {
      if (value.size() < sizeof(proxy::ObjectMeta)) return;
      proxy::ObjectMeta m;
      std::memcpy(&m, value.data(), sizeof m);
      if (m.kind == proxy::EntryKind::Lock) ++locks;
      if (m.kind != proxy::EntryKind::Object) return;
      bool disk = m.flags & proxy::ObjectMeta::kOnDisk;
      (disk ? diskBytes : memoryBytes) += m.bodyLength;
      objects.push_back({uriOf(key), m.bodyLength, m.hits, m.currentAge(now), disk, m.fresh(now)});
    });
    const std::string name = r.name.substr(0, r.name.size() - suffix.size());
    std::vector<Object> biggest = objects, hottest = objects;
    auto cut = [top](std::vector<Object>& v, auto less) {
      std::sort(v.begin(), v.end(), less);
      if (v.size() > top) v.resize(top);
    };
    cut(biggest, [](const Object& a, const Object& b) { return a.bytes > b.bytes; });
    cut(hottest, [](const Object& a, const Object& b) { return a.hits > b.hits; });
    if (json) {
      out += std::string(any ? "," : "") + "{\"cache\":\"" + name +
             "\",\"objects\":" + std::to_string(objects.size()) +
             ",\"memory_body_bytes\":" + std::to_string(memoryBytes) +
             ",\"disk_body_bytes\":" + std::to_string(diskBytes) +
             ",\"shm_bytes_used\":" + std::to_string(table->bytesUsed()) +
             ",\"shm_capacity\":" + std::to_string(table->capacity()) +
             ",\"fills_in_progress\":" + std::to_string(locks) + ",\"biggest\":[";
      appendList(out, biggest, true);
      out += "],\"hottest\":[";
      appendList(out, hottest, true);
      out += "]}";
    } else {
      out += name + ": " + std::to_string(objects.size()) + " objects, " +
             std::to_string(memoryBytes) + " body bytes in memory, " + std::to_string(diskBytes) +
             " on disk; shm " + std::to_string(table->bytesUsed()) + " of " +
             std::to_string(table->capacity()) + " bytes; " + std::to_string(locks) +
             " fills in progress\n biggest:\n";
      appendList(out, biggest, false);
      out += " hottest:\n";
      appendList(out, hottest, false);
    }
    any = true;
  }
  if (!any) throw std::runtime_error("cache: this instance runs no proxy cache");
  if (json) out += "]}\n";
  return out;
}

}  // namespace manifold::shmtool
