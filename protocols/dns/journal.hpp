// IXFR out (RFC 1995) from a journal of zone differences. When a [dns:NAME] section is parsed
// again (SIGHUP), each zone whose serial changed is compared with the previous generation's copy
// (still held by the master) and the difference kept as one step {from serial, to serial,
// deleted RRs, added RRs}. Steps are bounded per zone (`ixfr_steps`, `ixfr_size`: the oldest go
// first). An IXFR whose serial starts a chain of steps ending at the current serial is answered
// incrementally; any other older serial gets the whole zone (AXFR-style).
//
// The journal lives in the master's memory and is inherited by the workers at fork (copy on
// write: a new generation gets a new Journal, the running one keeps its own), so it is lost on
// restart (IXFR then falls back to the whole zone until the next change).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocols/dns/xfr_in.hpp"

namespace manifold::dns {

class ZoneDb;

struct JournalStep {
  XfrRecord fromSoa, toSoa;
  std::vector<XfrRecord> deleted, added;
  size_t bytes = 0;
};

struct JournalLimits {
  size_t steps = 20;       // per zone
  size_t bytes = 1 << 20;  // per zone: owners and RDATA of the steps' records
};

class Journal {
 public:
  // Adds the differences between `old` and `now` for each zone present in both whose serial
  // changed (pure).
  void record(const ZoneDb& old, const ZoneDb& now, const JournalLimits& limits);
  // The steps leading from `from` to `to` for a zone; empty when the journal does not cover it.
  std::vector<const JournalStep*> chain(const std::string& origin, uint32_t from,
                                        uint32_t to) const;
  size_t bytes(const std::string& origin) const;
  size_t steps(const std::string& origin) const;

 private:
  std::map<std::string, std::deque<JournalStep>> zones_;
};

// The difference between two versions of a zone's records (SOAs excluded), as one step.
JournalStep diffZone(const std::vector<XfrRecord>& before, const std::vector<XfrRecord>& after);

// The section's journal for a new generation: the previous one (if the section was parsed
// before in this process) extended with the changes from its zones to `now`'s. Remembers `now`
// for the next parse. Master only.
std::shared_ptr<const Journal> nextJournal(const std::string& title,
                                           const std::shared_ptr<ZoneDb>& now,
                                           const JournalLimits& limits);

// The messages of an incremental IXFR answer (each with its 2-byte length, ID 0, the first with
// the question for `origin`): SOA(current), each step's SOA(from) deletions SOA(to) additions,
// SOA(current).
std::string ixfrImage(std::string_view origin, const XfrRecord& current,
                      const std::vector<const JournalStep*>& steps);

}  // namespace manifold::dns
