// [dns:NAME] secondary zone keys:
//   secondary = ZONE ADDR[:PORT] [key=NAME]   repeatable; a zone transferred in from ADDR
//   secondary_dir = PATH                      where the copies live (required with secondary)
// and the TSIG keys (`key = NAME ALG SECRET`), parsed first since secondaries name them.
// Each copy that exists, is not expired and loads is added to the zones of the section; the
// others are answered SERVFAIL until a transfer brings a good copy (secondary_zone.hpp).
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "protocols/dns/config.hpp"
#include "protocols/dns/xfr_in.hpp"
#include "worker/log.hpp"

namespace manifold::dns {

void parseKeys(config::SectionReader& in, DnsConfig& cfg) {
  in.list("key", "");
  for (const config::Entry& e : in.section().entries) {
    if (e.key != "key") continue;
    TsigKey k;
    std::string why;
    if (!parseTsigKey(e.value, k, why)) in.failAt(e.line, "key", why);
    if (findTsigKey(cfg.keys, k.name)) in.failAt(e.line, "key", "key " + k.text + " given twice");
    cfg.keys.push_back(std::move(k));
  }
}

const TsigKey* keyNamed(const DnsConfig& cfg, std::string name) {
  std::string wire, why;
  if (!name.empty() && name.back() != '.') name += '.';
  return textToName(name, "", wire, why) ? findTsigKey(cfg.keys, lowerName(wire)) : nullptr;
}

void SecondaryRegion::format(void* base, bool adopted) {
  shm::formatFixedRegion(base, adopted, "MFDNSSC2", &SecondaryRegion::count, kMaxSecondaries);
}

namespace {

// Whether the copy exists, is within its SOA expire of its last confirmation, and loads.
bool usableCopy(const SecondaryZone& s, const std::string& title) {
  struct stat st;
  if (::stat(s.path.c_str(), &st) != 0) return false;
  ZoneDb scratch;
  std::string err;
  if (!scratch.load({nameToText(s.origin) + "=" + s.path}, err)) {
    LOG_ERROR("[%s] secondary %s: the copy does not load (%s); SERVFAIL until a transfer",
              title.c_str(), s.name.c_str(), err.c_str());
    return false;
  }
  // The copy starts with its SOA (zoneText); its first 4 KB hold it.
  char head[4096];
  FILE* f = fopen(s.path.c_str(), "r");
  size_t n = f ? fread(head, 1, sizeof head, f) : 0;
  if (f) fclose(f);
  uint32_t expire = soaTimers(copySoaRdata(std::string_view(head, n))).expire;
  // The same test as the transfer worker's (secondary.cpp), so both agree on the second.
  if (static_cast<double>(st.st_mtime) + expire <= static_cast<double>(::time(nullptr))) {
    LOG_WARN("[%s] secondary %s: expired (no answer from %s for %u s); SERVFAIL until a transfer",
             title.c_str(), s.name.c_str(), s.primaryText.c_str(), expire);
    return false;
  }
  return true;
}

}  // namespace

void parseSecondaries(config::SectionReader& in, DnsConfig& cfg, std::vector<std::string>& zones) {
  parseKeys(in, cfg);
  if (!in.has("secondary")) return;
  std::string title = in.section().title;
  cfg.secondaryDir = in.directory("secondary_dir", "", true);
  in.list("secondary", "");
  for (const config::Entry& e : in.section().entries) {
    if (e.key != "secondary") continue;
    std::vector<std::string> w = configWords(e.value);
    if (w.size() < 2 || w.size() > 3 || (w.size() == 3 && w[2].rfind("key=", 0) != 0))
      in.failAt(e.line, "secondary", "expected ZONE ADDR[:PORT] [key=NAME]");
    SecondaryZone s;
    std::string wire, why, zoneName = w[0];
    if (zoneName.back() != '.') zoneName += '.';
    if (!textToName(zoneName, "", wire, why)) in.failAt(e.line, "secondary", why);
    s.origin = lowerName(wire);
    s.name = nameToText(s.origin);
    s.name.pop_back();
    for (const SecondaryZone& o : cfg.secondaries)
      if (o.origin == s.origin) in.failAt(e.line, "secondary", s.name + " given twice");
    config::ListenAddress a;
    if (!config::parseRemoteAddress(w[1], 53, a, why)) in.failAt(e.line, "secondary", why);
    s.primary = a.addr;
    s.primaryLen = a.len;
    s.primaryText = a.text;
    if (w.size() == 3 && !(s.key = keyNamed(cfg, w[2].substr(4))))
      in.failAt(e.line, "secondary", "no key named '" + w[2].substr(4) + "'");
    s.path = cfg.secondaryDir + "/" + s.name + ".zone";
    for (const std::string& z : zones) {
      size_t eq = z.find('=');
      std::string o = eq == std::string::npos ? z : z.substr(0, eq);
      if (!o.empty() && o.back() != '.') o += '.';
      std::string ow;
      if (textToName(o, "", ow, why) && lowerName(ow) == s.origin)
        in.failAt(e.line, "secondary", s.name + " is also in zones (primary here)");
    }
    s.loaded = usableCopy(s, title);
    struct stat st;
    if (s.loaded && ::stat(s.path.c_str(), &st) == 0)
      s.lastContact = static_cast<double>(st.st_mtime);
    if (s.loaded) zones.push_back(nameToText(s.origin) + "=" + s.path);
    cfg.secondaries.push_back(std::move(s));
  }
  if (cfg.secondaries.size() > kMaxSecondaries)
    in.fail("secondary", "at most " + std::to_string(kMaxSecondaries) + " secondary zones");
}

}  // namespace manifold::dns
