// An open site pack (pack_format.hpp), validated, plus its fd for sendfile. Shared: a site holds
// its current pack, and every response still sending from it holds its OpenFile, so a pack
// swapped out stays readable until its last response is done.
//
// The server reads a pack into memory when it opens it (the whole pack up to `memoryMax`, else
// the metadata only, and small bodies are then pread): a mapping would make a worker fault if
// someone truncated the file in place, and a copy answers lookups and small bodies without a
// syscall just the same. Tools map the file (Load::Map).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "protocols/static/pack_format.hpp"
#include "worker/connection.hpp"

namespace manifold::pack {

class Pack {
 public:
  enum class Load { Read, Map };
  // Opens and validates `path`; nullptr with `why` when it is unreadable or not a good pack.
  // With `verify`, the hashes of every body and gzip form are checked too when the whole pack
  // is in memory (Load::Read within memoryMax, or Load::Map).
  static std::shared_ptr<Pack> open(const std::string& path, Load load, uint64_t memoryMax,
                                    std::string& why, bool verify = false);
  ~Pack();
  Pack(const Pack&) = delete;
  Pack& operator=(const Pack&) = delete;

  const View& view() const { return view_; }
  // Every byte of the pack in memory (else only the metadata is, and bodies are read from fd).
  bool bodiesInMemory() const { return loaded_ == size_; }
  const char* bytes() const { return bytes_; }
  uint64_t size() const { return size_; }
  const std::shared_ptr<OpenFile>& file() const { return file_; }
  const std::string& path() const { return path_; }

 private:
  Pack() = default;
  std::string path_;
  std::shared_ptr<OpenFile> file_;
  const char* bytes_ = nullptr;
  std::unique_ptr<char[]> copy_;  // Load::Read
  void* map_ = nullptr;           // Load::Map
  uint64_t size_ = 0, loaded_ = 0;
  View view_;
};

}  // namespace manifold::pack
