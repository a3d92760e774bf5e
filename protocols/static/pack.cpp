#include "protocols/static/pack.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace manifold::pack {

namespace {

bool readAt(int fd, char* out, uint64_t length, uint64_t offset) {
  while (length > 0) {
    ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    offset += n;
    length -= n;
  }
  return true;
}

uint64_t dataOffsetOf(const char* header) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(header[64 + i]);
  return v;
}

}  // namespace

std::shared_ptr<Pack> Pack::open(const std::string& path, Load load, uint64_t memoryMax,
                                 std::string& why, bool verify) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = strerror(errno);
    return nullptr;
  }
  std::shared_ptr<Pack> pack(new Pack());
  pack->path_ = path;
  pack->file_ = std::make_shared<OpenFile>(fd);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return nullptr;
  }
  pack->size_ = static_cast<uint64_t>(st.st_size);
  char header[kHeaderSize];
  size_t headerBytes = std::min<uint64_t>(pack->size_, kHeaderSize);
  if (!readAt(fd, header, headerBytes, 0)) {
    why = std::string("read: ") + strerror(errno);
    return nullptr;
  }
  if (std::string_view(header, std::min(headerBytes, kMagic.size())) !=
      kMagic.substr(0, std::min(headerBytes, kMagic.size()))) {
    why = "not a site pack (no MFLDPACK magic)";
    return nullptr;
  }
  if (pack->size_ < kHeaderSize) {
    why = "truncated: " + std::to_string(st.st_size) + " bytes";
    return nullptr;
  }
  if (load == Load::Map) {
    void* map = mmap(nullptr, pack->size_, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      why = std::string("mmap: ") + strerror(errno);
      return nullptr;
    }
    pack->map_ = map;
    pack->bytes_ = static_cast<const char*>(map);
    pack->loaded_ = pack->size_;
  } else {
    uint64_t want = pack->size_ <= memoryMax ? pack->size_ : dataOffsetOf(header);
    if (want < kHeaderSize || want > pack->size_)
      want = pack->size_ <= memoryMax ? pack->size_ : kHeaderSize;
    pack->copy_.reset(new char[want]);
    if (!readAt(fd, pack->copy_.get(), want, 0)) {
      why = "truncated while reading";
      return nullptr;
    }
    pack->bytes_ = pack->copy_.get();
    pack->loaded_ = want;
  }
  if (!pack->view_.parse(std::string_view(pack->bytes_, pack->loaded_), pack->size_, why))
    return nullptr;
  if (verify && pack->bodiesInMemory() && !pack->view_.verifyBodies(why)) {
    why = "corrupt body (" + why + ")";
    return nullptr;
  }
  return pack;
}

Pack::~Pack() {
  if (map_) munmap(map_, size_);
}

}  // namespace manifold::pack
