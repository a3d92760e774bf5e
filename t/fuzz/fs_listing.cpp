// libFuzzer target: a node's PROPFIND listing as the repairer reads it, and the stage parser
// on every href. Whatever the body holds: no crash, entries are views inside the body that start
// with '/' and hold no space or control byte, and a plan built from them only names store paths
// of its one configured stage.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/fs/multistatus.hpp"
#include "protocols/fs/repair_plan.hpp"
#include "t/fuzz/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace manifold::fs;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<ListingEntry> entries;
  Inventory inv;
  inv.listed.assign(3, true);
  if (parseListing(body, entries)) {
    for (const ListingEntry& e : entries) {
      check(!e.path.empty() && e.path[0] == '/');
      for (char c : e.path) check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
      check(e.path.data() >= body.data() && e.path.data() + e.path.size() <= body.data() + size);
      unsigned stage = stageOf(e.path);
      check(stage <= 999999999u);
      inv.add(static_cast<int>(e.path.size() % 3), e.path, e.size, e.mtime);
    }
  }
  stageOf(body);
  std::vector<manifold::proxy::BackendConfig> nodes(3);
  for (int i = 0; i < 3; ++i) nodes[i].address.text = "10.0.0." + std::to_string(i) + ":80";
  Stage s;
  s.number = 1;
  s.nodes = {0, 1, 2};
  RepairPlan plan;
  planRepair(inv, {s}, nodes, 2, {}, plan);
  for (const RepairAction& a : plan.actions) check(stageOf(a.path) == 1);
  return 0;
}
