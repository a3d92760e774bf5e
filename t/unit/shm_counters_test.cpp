// Counters declared once: a protocol's X-macro table -> CounterSpec -> stats region -> readers
// (names, kinds, help), the CounterSlot helper writing the right slot, the region header
// helper, and the status service's Prometheus text built from the region alone.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "master/config.hpp"
#include "protocols/dns/counters.hpp"
#include "protocols/service.hpp"
#include "protocols/status/metrics.hpp"
#include "protocols/tftp/config.hpp"
#include "shm/counters.hpp"
#include "shm/region_header.hpp"
#include "shm/segment.hpp"
#include "shm/stats.hpp"

namespace {

using namespace manifold;

#define TEST_COUNTERS(X)                                 \
  X(kHits, "hits", Counter, "lookups answered")          \
  X(kOpen, "open", Gauge, "sessions open now")           \
  X(kBytes, "bytes", Counter, "bytes sent, with \\ and") \
  X(kQuiet, "quiet", Counter, "")
enum TestCounter : unsigned { TEST_COUNTERS(MANIFOLD_COUNTER_ENUM) kTestCounterCount };
constexpr shm::CounterDef kTestDefs[] = {TEST_COUNTERS(MANIFOLD_COUNTER_DEF)};

static_assert(kHits == 0 && kQuiet == 3 && kTestCounterCount == std::size(kTestDefs));

// The master's conversion (master.cpp): CounterSpec -> StatsServiceSpec.
shm::StatsServiceSpec statsSpec(std::string title, std::string protocol,
                                const std::vector<CounterSpec>& counters) {
  shm::StatsServiceSpec spec{std::move(title), std::move(protocol), {}};
  for (const auto& c : counters)
    spec.counters.push_back({c.name, static_cast<uint8_t>(c.kind), c.help});
  return spec;
}

struct Buffer {
  explicit Buffer(size_t n) : bytes(n), data(std::aligned_alloc(4096, (n + 4095) / 4096 * 4096)) {
    std::memset(data, 0xa5, (n + 4095) / 4096 * 4096);
  }
  ~Buffer() { std::free(data); }
  size_t bytes;
  void* data;
};

std::vector<shm::StatsServiceSpec> specs() {
  return {statsSpec("tftp:boot", "tftp", counterSpecs(tftp::kCounterDefs)),
          statsSpec("test:one", "test", counterSpecs(kTestDefs))};
}

}  // namespace

TEST(ShmCounters, TableGivesSpecsInEnumOrder) {
  auto specs = counterSpecs(kTestDefs);
  ASSERT_EQ(kTestCounterCount, specs.size());
  EXPECT_EQ("open", specs[kOpen].name);
  EXPECT_EQ(CounterKind::Gauge, specs[kOpen].kind);
  EXPECT_EQ("sessions open now", specs[kOpen].help);
  EXPECT_EQ(CounterKind::Counter, specs[kHits].kind);
  appendCounters(specs, kTestDefs);
  EXPECT_EQ(2 * kTestCounterCount, specs.size());
  EXPECT_EQ("hits", specs[kTestCounterCount].name);
}

TEST(ShmCounters, DnsTableKeepsItsNamesAndLrrrBlock) {
  EXPECT_EQ("queries", dns::kCounterDefs[dns::kQueries].name);
  EXPECT_EQ("notify_failed", dns::kCounterDefs[dns::kNotifyFailed].name);
  EXPECT_EQ("lrrr_cache_hits", dns::kLrrrCounterDefs[dns::kLrrrHits].name);
  EXPECT_EQ(unsigned{dns::kLrrrFirst} + unsigned{dns::kLrrrCounterCount},
            unsigned{dns::kFixedCounters});
}

TEST(ShmCounters, NamesKindsAndHelpRoundTripThroughTheRegion) {
  const auto s = specs();
  Buffer buf(shm::StatsRegion::bytesFor(2, s));
  const shm::StatsRegion* r = shm::StatsRegion::format(buf.data, buf.bytes, 2, s);
  ASSERT_NE(nullptr, shm::StatsRegion::at(static_cast<const void*>(buf.data)));
  ASSERT_EQ(kTestCounterCount, r->counterCount(1));
  for (unsigned c = 0; c < kTestCounterCount; ++c) {
    EXPECT_EQ(kTestDefs[c].name, r->counterName(1, c));
    EXPECT_EQ(static_cast<uint8_t>(kTestDefs[c].kind), r->counterKind(1, c));
    EXPECT_EQ(kTestDefs[c].help, r->counterHelp(1, c));
  }
  EXPECT_EQ("transfers_active", r->counterName(0, tftp::kTransfersActive));
  EXPECT_EQ(shm::kGauge, r->counterKind(0, tftp::kTransfersActive));
  EXPECT_FALSE(r->counterHelp(0, tftp::kSessionsRefused).empty());
  EXPECT_EQ("", r->counterHelp(1, 99));  // out of range
}

TEST(ShmCounters, HelpChangesTheLayoutKeyAndLongHelpIsCut) {
  auto s = specs();
  const std::string key = shm::StatsRegion::layoutKey(2, s);
  s[1].counters[kHits].help = "something else";
  EXPECT_NE(key, shm::StatsRegion::layoutKey(2, s));
  s[1].counters[kHits].help = std::string(500, 'h');
  Buffer buf(shm::StatsRegion::bytesFor(2, s));
  const shm::StatsRegion* r = shm::StatsRegion::format(buf.data, buf.bytes, 2, s);
  EXPECT_EQ(shm::kStatsCounterHelpMax, r->counterHelp(1, kHits).size());
}

TEST(ShmCounters, CounterSlotUpdatesTheRightSlot) {
  const auto s = specs();
  Buffer buf(shm::StatsRegion::bytesFor(2, s));
  shm::StatsRegion* r = shm::StatsRegion::format(buf.data, buf.bytes, 2, s);
  shm::CounterSlot slot = r->counters(1, 1);  // worker slot 1, service "test:one"
  ASSERT_TRUE(slot);
  slot.inc(kHits);
  slot.inc(kHits);
  slot.add(kBytes, 1000);
  slot.set(kOpen, 7);
  slot.dec(kOpen);
  slot.sub(kBytes, 1);
  EXPECT_EQ(2u, r->read(1, 1, kHits));
  EXPECT_EQ(6u, r->read(1, 1, kOpen));
  EXPECT_EQ(999u, r->read(1, 1, kBytes));
  EXPECT_EQ(0u, r->read(1, 1, kQuiet));
  EXPECT_EQ(999u, slot.get(kBytes));
  // Nothing leaked into the other worker's slot or the other service.
  for (unsigned c = 0; c < kTestCounterCount; ++c) EXPECT_EQ(0u, r->read(0, 1, c));
  for (unsigned c = 0; c < r->counterCount(0); ++c) EXPECT_EQ(0u, r->read(1, 0, c));
  // A sub-range view indexes from its first counter.
  slot.from(kOpen).inc(kBytes - kOpen);
  EXPECT_EQ(1000u, r->read(1, 1, kBytes));
  EXPECT_FALSE(shm::CounterSlot());
}

TEST(ShmRegionHeader, StampsAndMatchesMagicAndVersion) {
  shm::RegionHeader h{};
  EXPECT_FALSE(h.matches("MFTEST01", 3));
  h.stamp("MFTEST01", 3);
  EXPECT_TRUE(h.matches("MFTEST01", 3));
  EXPECT_FALSE(h.matches("MFTEST01", 4));
  EXPECT_FALSE(h.matches("MFTEST02", 3));
  EXPECT_TRUE(shm::startsWithMagic(&h, "MFTEST01"));
  EXPECT_EQ(0, std::memcmp(&h, "MFTEST01", 8));  // the bytes readers see
  shm::RegionMagic m{};
  EXPECT_FALSE(m.is("MFDNSRL1"));
  m.stamp("MFDNSRL1");
  EXPECT_TRUE(m.is("MFDNSRL1"));
}

TEST(ShmRegionHeader, StatsRegionRefusesAnotherVersion) {
  const auto s = specs();
  Buffer buf(shm::StatsRegion::bytesFor(2, s));
  shm::StatsRegion::format(buf.data, buf.bytes, 2, s);
  EXPECT_TRUE(shm::startsWithMagic(buf.data, shm::StatsRegion::kMagic));
  auto* header = static_cast<shm::RegionHeader*>(buf.data);
  ASSERT_NE(nullptr, shm::StatsRegion::at(buf.data));
  header->version = 1;  // the layout before help texts
  EXPECT_EQ(nullptr, shm::StatsRegion::at(buf.data));
}

TEST(StatusMetrics, PrometheusPrintsHelpAndTypeFromTheRegion) {
  const std::string name = "test-counters-" + std::to_string(getpid());
  auto seg = shm::Segment::create(name, 4 << 20);
  const auto s = specs();
  auto view = seg->ensureRegion("stats", shm::StatsRegion::layoutKey(2, s),
                                shm::StatsRegion::bytesFor(2, s));
  shm::StatsRegion* r = shm::StatsRegion::format(view.base, view.bytes, 2, s);
  shm::CounterSlot(r->counters(0, 1)).add(kHits, 5);
  shm::CounterSlot(r->counters(1, 1)).add(kHits, 2);
  std::string out;
  status::appendPrometheus(*r, seg->header(), out);
  shm_unlink(("/manifold." + name).c_str());
  EXPECT_NE(std::string::npos, out.find("# HELP manifold_test_hits_total lookups answered\n"
                                        "# TYPE manifold_test_hits_total counter\n"
                                        "manifold_test_hits_total{service=\"test:one\"} 7\n"));
  EXPECT_NE(std::string::npos, out.find("# HELP manifold_test_open sessions open now\n"
                                        "# TYPE manifold_test_open gauge\n"));
  EXPECT_NE(std::string::npos,
            out.find("# HELP manifold_test_bytes_total bytes sent, with \\\\ and\n"));
  // No help text: no HELP line, TYPE still there.
  EXPECT_EQ(std::string::npos, out.find("# HELP manifold_test_quiet_total"));
  EXPECT_NE(std::string::npos, out.find("# TYPE manifold_test_quiet_total counter\n"));
  EXPECT_NE(std::string::npos, out.find("# TYPE manifold_tftp_transfers_active gauge\n"));
}
