// [dns:NAME] zone transfer keys:
//   (key = NAME ALG SECRET is read first, with the secondaries: config_secondary.cpp)
//   allow_transfer = CIDR ... [key=NAME]  clients that may AXFR/IXFR any zone of the section
//                               (default none: REFUSED; "none" says so explicitly); repeatable,
//                               and a line naming a key admits its networks only when the
//                               request is signed with that key
//   ixfr_steps = 20, ixfr_size = 1m      IXFR journal bounds per zone (journal.hpp; 0 = none)
//   notify = ADDR[:PORT] ... [key=NAME]   secondaries sent a NOTIFY when a zone's serial
//                               changes, signed with the key when one is named
#include "protocols/dns/config.hpp"
#include "protocols/dns/journal.hpp"

namespace manifold::dns {

namespace {

// The words of each occurrence of `key`, its `key=NAME` word taken out and resolved.
struct KeyedLine {
  std::vector<std::string> words;
  const TsigKey* key = nullptr;
  int line = 0;
};

std::vector<KeyedLine> keyedLines(config::SectionReader& in, const DnsConfig& cfg,
                                  std::string_view key) {
  in.list(key, "");  // marks every occurrence used; repeats allowed
  std::vector<KeyedLine> out;
  for (const config::Entry& e : in.section().entries) {
    if (e.key != key) continue;
    KeyedLine l;
    l.line = e.line;
    for (const std::string& w : configWords(e.value)) {
      if (w.rfind("key=", 0) != 0) {
        l.words.push_back(w);
        continue;
      }
      if (!(l.key = keyNamed(cfg, w.substr(4))))
        in.failAt(e.line, key, "no key named '" + w.substr(4) + "' (add key = NAME ALG SECRET)");
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

void parseTransfers(config::SectionReader& in, DnsConfig& cfg) {
  Transfers& t = *cfg.transfers;
  for (const KeyedLine& l : keyedLines(in, cfg, "allow_transfer")) {
    for (const std::string& w : l.words) {
      if (w == "none") continue;
      net::Cidr c;
      std::string why;
      if (!net::parseCidr(w, c, &why)) in.failAt(l.line, "allow_transfer", "'" + w + "': " + why);
      t.allow.push_back(c);
      t.allowKey.push_back(l.key ? l.key->name : std::string());
    }
  }
  for (const KeyedLine& l : keyedLines(in, cfg, "notify")) {
    for (const std::string& w : l.words) {
      NotifyTarget target;
      std::string why;
      if (!parseNotifyTarget(w, target, why)) in.failAt(l.line, "notify", why);
      target.key = l.key;
      cfg.notify.push_back(std::move(target));
    }
  }
  std::string why;
  if (!t.build(*cfg.db, !t.allow.empty(), why)) in.fail("allow_transfer", why);
  // IXFR steps from the previous generation's zones (journal.hpp); only when someone may ask.
  JournalLimits limits;
  limits.steps = static_cast<size_t>(in.integer("ixfr_steps", 20, 0, 1000));
  limits.bytes = in.size("ixfr_size", 1 << 20, 0, uint64_t{1} << 32);
  if (!t.allow.empty() && limits.steps && limits.bytes)
    t.journal = nextJournal(in.section().title, cfg.db, limits);
}

}  // namespace manifold::dns
