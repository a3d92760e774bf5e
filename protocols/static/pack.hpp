// An open site pack (pack_format.hpp): the file mapped read-only and validated, plus its fd for
// sendfile. Shared: a site holds the current pack, and every response still sending from it
// holds its OpenFile, so a pack swapped out stays readable until its last response is done.
// Packs are replaced by rename, never rewritten in place: the mapping of a file truncated under
// a running server would fault.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "protocols/static/pack_format.hpp"
#include "worker/connection.hpp"

namespace manifold::pack {

class Pack {
 public:
  // Opens, maps and validates `path`; nullptr with `why` when it is unreadable or not a good
  // pack.
  static std::shared_ptr<Pack> open(const std::string& path, std::string& why);
  ~Pack();
  Pack(const Pack&) = delete;
  Pack& operator=(const Pack&) = delete;

  const View& view() const { return view_; }
  const char* bytes() const { return static_cast<const char*>(map_); }
  const std::shared_ptr<OpenFile>& file() const { return file_; }
  const std::string& path() const { return path_; }
  dev_t device() const { return device_; }
  ino_t inode() const { return inode_; }

 private:
  Pack() = default;
  std::string path_;
  std::shared_ptr<OpenFile> file_;
  void* map_ = nullptr;
  size_t size_ = 0;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  View view_;
};

}  // namespace manifold::pack
