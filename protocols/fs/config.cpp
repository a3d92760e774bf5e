#include "protocols/fs/config.hpp"

#include <algorithm>

#include "protocols/fs/deleted.hpp"
#include "protocols/proxy/counters.hpp"
#include "protocols/proxy/health.hpp"

namespace manifold::fs {

namespace {

bool isOption(std::string_view w) {
  return w == "backup" || w == "down" || w == "tls" || w.find('=') != std::string_view::npos;
}

// "NUMBER ADDR [options] ADDR [options] ...": the stage's nodes, added to the backends once
// each (a node may serve several stages; its options then must agree).
Stage parseStage(config::SectionReader& in, const config::Entry& e, FsConfig& c) {
  std::vector<std::string_view> words = config::splitWords(e.value);
  int64_t number = 0;
  std::string why;
  if (words.size() < 2 || !config::parseInteger(words[0], number, why) || number < 1 ||
      number > 999999)
    in.failAt(e.line, "stage", "expects NUMBER (1-999999) and one or more ADDR:PORT [weight=N]");
  Stage stage;
  stage.number = static_cast<unsigned>(number);
  for (size_t i = 1; i < words.size();) {
    size_t j = i + 1;
    while (j < words.size() && isOption(words[j])) ++j;
    proxy::BackendConfig b = proxy::backendFromWords(
        in, e.line, "stage", std::span<const std::string_view>(words.data() + i, j - i));
    if (b.backup) in.failAt(e.line, "stage", "backup has no meaning for a store node");
    auto same = std::find_if(c.backends.begin(), c.backends.end(),
                             [&](const auto& o) { return o.address.text == b.address.text; });
    int index = static_cast<int>(same - c.backends.begin());
    if (same == c.backends.end()) {
      c.backends.push_back(b);
    } else if (same->weight != b.weight || same->down != b.down || same->tls != b.tls) {
      in.failAt(e.line, "stage", b.address.text + ": options differ from its other stage");
    }
    if (std::find(stage.nodes.begin(), stage.nodes.end(), index) != stage.nodes.end())
      in.failAt(e.line, "stage",
                b.address.text + " listed twice in stage " + std::string(words[0]));
    stage.nodes.push_back(index);
    i = j;
  }
  for (const Stage& other : c.stages)
    if (other.number == stage.number)
      in.failAt(e.line, "stage", "stage " + std::string(words[0]) + " is defined twice");
  return stage;
}

std::unique_ptr<ServiceConfig> parseFsSection(config::SectionReader& in) {
  auto c = std::make_unique<FsConfig>();
  c->VirtualServerKeys::read(in);
  in.list("stage", "");
  for (const config::Entry& e : in.section().entries)
    if (e.key == "stage") c->stages.push_back(parseStage(in, e, *c));
  if (c->stages.empty()) in.fail("stage", "at least one stage is required");
  if (c->backends.size() > proxy::kMaxBackends)
    in.fail("stage", "at most " + std::to_string(proxy::kMaxBackends) + " nodes in all");
  std::sort(c->stages.begin(), c->stages.end(),
            [](const Stage& a, const Stage& b) { return a.number < b.number; });
  c->writeStage =
      static_cast<unsigned>(in.integer("write_stage", c->stages.back().number, 1, 999999));
  if (!c->stage(c->writeStage)) in.fail("write_stage", "no stage " + std::to_string(c->writeStage));
  c->replicas = static_cast<unsigned>(in.integer("replicas", 2, 1, 16));
  for (const Stage& s : c->stages)
    if (s.nodes.size() < c->replicas)
      in.fail("replicas", std::to_string(c->replicas) + " copies, but stage " +
                              std::to_string(s.number) + " has " + std::to_string(s.nodes.size()) +
                              " node(s)");
  c->writeQuorum =
      static_cast<unsigned>(in.integer("write_quorum", c->replicas / 2 + 1, 1, c->replicas));
  c->repair = in.flag("repair", true);
  c->repairInterval = in.seconds("repair_interval", config::Millis(60000), config::Millis(100),
                                 config::Millis(86400000));
  c->repairRate = in.size("repair_rate", 16u << 20, 0, uint64_t{1} << 40);
  c->repairParallel = static_cast<unsigned>(in.integer("repair_parallel", 2, 1, 64));
  c->tombstoneMemory = in.size("tombstone_memory", 1u << 20, 0, uint64_t{1} << 30);
  if (c->tombstoneMemory != 0 && c->tombstoneMemory < 65536)
    in.fail("tombstone_memory", "0 (none) or at least 64k");
  c->tombstoneTtl = in.seconds("tombstone_ttl", config::Millis(7 * 86400000LL),
                               config::Millis(1000), config::Millis(3650 * 86400000LL));
  c->balance = proxy::Balance::Hash;
  c->hashPathOnly = true;
  c->retryNotFound = true;
  proxy::readUpstreamKeys(in, *c);
  size_t widest = 0;
  for (const Stage& s : c->stages) widest = std::max(widest, s.nodes.size());
  bool retriesGiven = std::any_of(in.section().entries.begin(), in.section().entries.end(),
                                  [](const config::Entry& e) { return e.key == "retries"; });
  if (!retriesGiven) c->retries = static_cast<unsigned>(widest - 1);  // every node of the stage
  return c;
}

}  // namespace

MANIFOLD_PROTOCOL("fs", parseFsSection);

const Stage* FsConfig::stage(unsigned number) const {
  for (const Stage& s : stages)
    if (s.number == number) return &s;
  return nullptr;
}

std::vector<CounterSpec> FsConfig::counters() const {
  std::vector<CounterSpec> out = proxy::ProxyConfig::counters();
  appendCounters(out, kFsCounterDefs);
  return out;
}

std::vector<RegionRequest> FsConfig::regions() const {
  std::vector<RegionRequest> out = proxy::ProxyConfig::regions();
  if (tombstoneMemory)  // last: the proxy's own regions keep their places
    out.push_back({title() + "/deleted", DeletedPaths::layout(), tombstoneMemory,
                   [](void* base, size_t bytes, bool adopted) {
                     if (!adopted) DeletedPaths::format(base, bytes);
                   },
                   "tombstone_memory"});
  return out;
}

unsigned FsConfig::fsCounterBase() const {
  return proxy::kCacheCounterEnd +
         static_cast<unsigned>(backends.size()) * proxy::kBackendCounterCount;
}

}  // namespace manifold::fs
