#include "protocols/static/pack.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace manifold::pack {

std::shared_ptr<Pack> Pack::open(const std::string& path, std::string& why) {
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
  pack->device_ = st.st_dev;
  pack->inode_ = st.st_ino;
  pack->size_ = static_cast<size_t>(st.st_size);
  if (pack->size_ < kHeaderSize) {
    why = "truncated: " + std::to_string(st.st_size) + " bytes";
    return nullptr;
  }
  void* map = mmap(nullptr, pack->size_, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    why = std::string("mmap: ") + strerror(errno);
    return nullptr;
  }
  pack->map_ = map;
  if (!pack->view_.parse(std::string_view(pack->bytes(), pack->size_), why)) return nullptr;
  return pack;
}

Pack::~Pack() {
  if (map_) munmap(map_, size_);
}

}  // namespace manifold::pack
