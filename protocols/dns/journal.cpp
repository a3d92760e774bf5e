#include "protocols/dns/journal.hpp"

#include <unordered_map>

#include "protocols/dns/transfer.hpp"
#include "protocols/dns/zone_db.hpp"

namespace manifold::dns {

namespace {

std::vector<XfrRecord> zoneRecords(const ZoneDb& db, size_t z) {
  std::vector<XfrRecord> out;
  db.forEachRecord(
      z, [&](std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rd) {
        out.push_back(XfrRecord{std::string(owner), type, kClassIn, ttl, std::string(rd)});
      });
  return out;
}

XfrRecord soaOf(const ZoneDb& db, size_t z) {
  ZoneDb::SoaRecord s = db.zoneSoa(z);
  return XfrRecord{std::string(s.owner), kTypeSoa, kClassIn, s.ttl, std::string(s.rdata)};
}

// Identity of an RR for the difference: owner (case-insensitive), type, TTL, RDATA.
std::string keyOf(const XfrRecord& r) {
  std::string k = lowerName(r.owner);
  char t[8] = {static_cast<char>(r.type >> 8), static_cast<char>(r.type),
               static_cast<char>(r.ttl >> 24), static_cast<char>(r.ttl >> 16),
               static_cast<char>(r.ttl >> 8),  static_cast<char>(r.ttl)};
  k.append(t, 6);
  return k + r.rdata;
}

struct Previous {
  std::weak_ptr<ZoneDb> db;
  std::shared_ptr<const Journal> journal;
};

std::map<std::string, Previous>& previous() {
  static std::map<std::string, Previous> p;
  return p;
}

}  // namespace

JournalStep diffZone(const std::vector<XfrRecord>& before, const std::vector<XfrRecord>& after) {
  JournalStep s;
  std::unordered_map<std::string, int> count;
  for (const XfrRecord& r : before) ++count[keyOf(r)];
  for (const XfrRecord& r : after) {
    auto it = count.find(keyOf(r));
    if (it != count.end() && it->second > 0)
      --it->second;
    else
      s.added.push_back(r);
  }
  for (const XfrRecord& r : before) {
    auto it = count.find(keyOf(r));
    if (it->second > 0) {
      --it->second;
      s.deleted.push_back(r);
    }
  }
  for (const auto* list : {&s.deleted, &s.added})
    for (const XfrRecord& r : *list) s.bytes += r.owner.size() + r.rdata.size() + 10;
  return s;
}

void Journal::record(const ZoneDb& old, const ZoneDb& now, const JournalLimits& limits) {
  for (size_t z = 0; z < now.zoneCount(); ++z) {
    size_t o = 0;
    while (o < old.zoneCount() && old.zoneOrigin(o) != now.zoneOrigin(z)) ++o;
    if (o == old.zoneCount()) {
      zones_.erase(now.zoneOrigin(z));  // a new zone: nothing to chain from
      continue;
    }
    XfrRecord from = soaOf(old, o), to = soaOf(now, z);
    if (soaSerial(from.rdata) == soaSerial(to.rdata)) continue;
    JournalStep step = diffZone(zoneRecords(old, o), zoneRecords(now, z));
    step.fromSoa = std::move(from);
    step.toSoa = std::move(to);
    std::deque<JournalStep>& steps = zones_[now.zoneOrigin(z)];
    steps.push_back(std::move(step));
    size_t total = 0;
    for (const JournalStep& s : steps) total += s.bytes;
    while (!steps.empty() && (steps.size() > limits.steps || total > limits.bytes)) {
      total -= steps.front().bytes;
      steps.pop_front();
    }
  }
}

std::vector<const JournalStep*> Journal::chain(const std::string& origin, uint32_t from,
                                               uint32_t to) const {
  std::vector<const JournalStep*> out;
  auto it = zones_.find(origin);
  if (it == zones_.end()) return out;
  for (const JournalStep& s : it->second) {
    if (out.empty() && soaSerial(s.fromSoa.rdata) != from) continue;
    if (!out.empty() && soaSerial(s.fromSoa.rdata) != soaSerial(out.back()->toSoa.rdata))
      return {};  // a gap (a step dropped in between): not covered
    out.push_back(&s);
  }
  if (out.empty() || soaSerial(out.back()->toSoa.rdata) != to) return {};
  return out;
}

size_t Journal::bytes(const std::string& origin) const {
  auto it = zones_.find(origin);
  size_t total = 0;
  if (it != zones_.end())
    for (const JournalStep& s : it->second) total += s.bytes;
  return total;
}

size_t Journal::steps(const std::string& origin) const {
  auto it = zones_.find(origin);
  return it == zones_.end() ? 0 : it->second.size();
}

std::shared_ptr<const Journal> nextJournal(const std::string& title,
                                           const std::shared_ptr<ZoneDb>& now,
                                           const JournalLimits& limits) {
  Previous& p = previous()[title];
  auto next = std::make_shared<Journal>(p.journal ? *p.journal : Journal());
  if (std::shared_ptr<ZoneDb> old = p.db.lock()) next->record(*old, *now, limits);
  p.db = now;
  p.journal = next;
  return next;
}

std::string ixfrImage(std::string_view origin, const XfrRecord& current,
                      const std::vector<const JournalStep*>& steps) {
  TransferWriter w(origin, current.owner, current.ttl, current.rdata);
  for (const JournalStep* s : steps) {
    w.add(s->fromSoa.owner, kTypeSoa, s->fromSoa.ttl, s->fromSoa.rdata);
    for (const XfrRecord& r : s->deleted) w.add(r.owner, r.type, r.ttl, r.rdata);
    w.add(s->toSoa.owner, kTypeSoa, s->toSoa.ttl, s->toSoa.rdata);
    for (const XfrRecord& r : s->added) w.add(r.owner, r.type, r.ttl, r.rdata);
  }
  return w.finish();
}

}  // namespace manifold::dns
