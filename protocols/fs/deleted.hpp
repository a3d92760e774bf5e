// Paths this router saw deleted, in shm (every worker reads them): a read of such a path is
// answered 404 without asking the nodes, so a copy on a node that missed the DELETE (it was
// down) is not served before the repairer deletes it. A PUT through the router takes its path
// out; the repairer takes out paths it finds written again after their DELETE (through another
// router, for instance). Best effort: the table has a byte budget (tombstone_memory) and forgets
// the least recently used paths; the tombstones on the nodes remain the authority.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "shm/table.hpp"

namespace manifold::fs {

class DeletedPaths {
 public:
  static std::string layout();
  static void format(void* base, size_t bytes);
  explicit DeletedPaths(void* base) : table_(shm::Table::at(base)) {}

  bool contains(std::string_view path);
  void deleted(std::string_view path, time_t when);
  void written(std::string_view path);
  // Written again at `mtime`: forgotten if its DELETE was not later.
  void writtenAt(std::string_view path, time_t mtime);

 private:
  shm::Table* table_;
};

}  // namespace manifold::fs
