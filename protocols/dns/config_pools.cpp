// [dns:NAME] failover keys: view.V (client networks), pool.[_]NAME[@V] (addresses by backup
// level and view), fallback.NAME[@V], check.NAME (the health check of a pool's addresses, one
// health target per distinct address and check).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <map>

#include "protocols/dns/config.hpp"

namespace manifold::dns {

namespace {

struct CheckSpec {
  CheckKind kind;
  uint16_t port = 0;
  std::string path = "/";
  int status = 200;
  double interval = 2, timeout = 1;
  unsigned rise = 2, fall = 2;
  std::string text;
};

bool parseCheck(const std::string& value, CheckSpec& c, std::string& why) {
  auto w = configWords(value);
  if (w.empty()) {
    why = "empty check";
    return false;
  }
  const std::string& head = w[0];
  if (head == "icmp") {
    c.kind = CheckKind::Icmp;
  } else if (head.rfind("tcp:", 0) == 0 || head.rfind("http:", 0) == 0) {
    bool http = head[0] == 'h';
    c.kind = http ? CheckKind::Http : CheckKind::Tcp;
    std::string rest = head.substr(http ? 5 : 4);
    size_t slash = rest.find('/');
    if (slash != std::string::npos) {
      if (!http) {
        why = "a path only makes sense for http checks";
        return false;
      }
      c.path = rest.substr(slash);
      rest = rest.substr(0, slash);
    }
    int port = atoi(rest.c_str());
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos || port < 1 ||
        port > 65535) {
      why = "bad port in '" + head + "'";
      return false;
    }
    c.port = static_cast<uint16_t>(port);
  } else {
    why = "check must start with tcp:PORT, http:PORT[/path] or icmp";
    return false;
  }
  for (size_t i = 1; i < w.size(); ++i) {
    size_t eq = w[i].find('=');
    if (eq == std::string::npos) {
      why = "expected key=value, got '" + w[i] + "'";
      return false;
    }
    std::string k = w[i].substr(0, eq), v = w[i].substr(eq + 1);
    config::Millis ms;
    std::string dwhy;
    int64_t n = 0;
    if (k == "interval" || k == "timeout") {
      if (!config::parseDuration(v, ms, dwhy) || ms.count() < 10) {
        why = k + ": " + (dwhy.empty() ? "at least 10ms" : dwhy);
        return false;
      }
      (k == "interval" ? c.interval : c.timeout) = static_cast<double>(ms.count()) / 1000.0;
    } else if (k == "rise" || k == "fall" || k == "status") {
      if (!config::parseInteger(v, n, dwhy) || n < 1 || n > (k == "status" ? 599 : 100)) {
        why = "bad " + k + " '" + v + "'";
        return false;
      }
      if (k == "rise")
        c.rise = static_cast<unsigned>(n);
      else if (k == "fall")
        c.fall = static_cast<unsigned>(n);
      else
        c.status = static_cast<int>(n);
    } else {
      why = "unknown check option '" + k + "'";
      return false;
    }
  }
  if (c.timeout > c.interval) c.timeout = c.interval;
  c.text = head;
  return true;
}

}  // namespace

void parsePools(config::SectionReader& in, DnsConfig& cfg, uint32_t poolTtl) {
  std::string error;
  // Dynamic keys: view.V, pool.[_]NAME[@V], fallback.NAME[@V], check.NAME.
  std::vector<View> views;
  std::map<std::string, int> viewIndex;
  for (const config::Entry& e : in.prefixed({"view."})) {
    View v;
    v.name = e.key.substr(5);
    v.networks = in.networks(e.key, "");
    if (v.networks.empty()) in.fail(e.key, "no networks");
    viewIndex[v.name] = static_cast<int>(views.size());
    views.push_back(std::move(v));
  }
  struct Pending {
    Pool pool;
    std::string key;
  };
  std::map<std::string, Pending> pools;  // by lowercase wire name
  std::map<std::string, CheckSpec> checks;
  auto nameOf = [&](const std::string& key, const std::string& text, unsigned& level, int& view) {
    std::string t = text;
    view = -1;
    size_t at = t.find('@');
    if (at != std::string::npos) {
      auto it = viewIndex.find(t.substr(at + 1));
      if (it == viewIndex.end()) in.fail(key, "unknown view '" + t.substr(at + 1) + "'");
      view = it->second;
      t.resize(at);
    }
    level = 0;
    while (level < t.size() && t[level] == '_') ++level;
    t = t.substr(level);
    if (t.empty()) in.fail(key, "missing name");
    if (t.back() != '.') t += '.';
    std::string wire, why;
    if (!textToName(t, "", wire, why)) in.fail(key, why);
    return lowerName(wire);
  };
  for (const config::Entry& e : in.prefixed({"pool.", "fallback."})) {
    bool isPool = e.key.rfind("pool.", 0) == 0, isFallback = !isPool;
    unsigned level;
    int view;
    std::string name = nameOf(e.key, e.key.substr(isPool ? 5 : 9), level, view);
    if (isFallback && level) in.fail(e.key, "fallback names take no '_' level");
    auto& pend = pools[name];
    pend.pool.name = name;
    pend.pool.ttl = poolTtl;
    if (pend.key.empty()) pend.key = e.key;
    PoolVariant* var = nullptr;
    for (auto& v : pend.pool.variants)
      if (v.view == view) var = &v;
    if (!var) {
      pend.pool.variants.push_back(PoolVariant{view, {}, {}});
      var = &pend.pool.variants.back();
    }
    std::vector<PoolAddress> addrs;
    for (const auto& w : configWords(e.value)) {
      PoolAddress a;
      if (!parseAddress(w, a))
        in.fail(e.key, "bad address '" + w + "' (IPv4 or IPv6, optional *WEIGHT)");
      addrs.push_back(a);
    }
    if (addrs.empty()) in.fail(e.key, "no addresses");
    if (isFallback) {
      var->fallback = addrs;
    } else {
      if (var->levels.size() <= level) var->levels.resize(level + 1);
      var->levels[level] = addrs;
    }
  }
  for (const config::Entry& e : in.prefixed({"check."})) {
    unsigned level;
    int view;
    std::string name = nameOf(e.key, e.key.substr(6), level, view);
    if (level || view >= 0) in.fail(e.key, "a check applies to the whole pool: use check.NAME");
    if (!pools.count(name)) in.fail(e.key, "no pool." + nameToText(name) + " to check");
    CheckSpec c;
    std::string why;
    if (!parseCheck(e.value, c, why)) in.fail(e.key, why);
    checks[name] = c;
  }
  // Targets: one per (address, check), shared by every pool level and view that lists it.
  std::map<std::string, int> targetIndex;
  bool icmp = false;
  std::vector<Pool> out;
  for (auto& [name, pend] : pools) {
    for (auto& v : pend.pool.variants) {
      if (v.levels.empty() || v.levels[0].empty())
        in.fail(pend.key, "pool." + nameToText(name) + " has no level-0 addresses" +
                              (v.view >= 0 ? " for view " + views[v.view].name : ""));
      auto it = checks.find(name);
      if (it == checks.end()) continue;
      const CheckSpec& c = it->second;
      for (auto& level : v.levels)
        for (auto& a : level) {
          char buf[INET6_ADDRSTRLEN];
          inet_ntop(a.type == kTypeA ? AF_INET : AF_INET6, a.bytes, buf, sizeof buf);
          std::string text = std::string(buf) + " " + c.text;
          auto ti = targetIndex.find(text);
          if (ti == targetIndex.end()) {
            HealthTarget t;
            t.text = text;
            t.kind = c.kind;
            t.port = c.port;
            t.path = c.path;
            t.expectStatus = c.status;
            t.interval = c.interval;
            t.timeout = c.timeout;
            t.rise = c.rise;
            t.fall = c.fall;
            if (a.type == kTypeA) {
              auto* s = reinterpret_cast<sockaddr_in*>(&t.addr);
              s->sin_family = AF_INET;
              s->sin_port = htons(c.port);
              std::memcpy(&s->sin_addr, a.bytes, 4);
              t.addrLen = sizeof(sockaddr_in);
            } else {
              if (c.kind == CheckKind::Icmp)
                in.fail("check." + nameToText(name), "icmp checks are IPv4 only");
              auto* s = reinterpret_cast<sockaddr_in6*>(&t.addr);
              s->sin6_family = AF_INET6;
              s->sin6_port = htons(c.port);
              std::memcpy(&s->sin6_addr, a.bytes, 16);
              t.addrLen = sizeof(sockaddr_in6);
            }
            icmp = icmp || c.kind == CheckKind::Icmp;
            ti = targetIndex.emplace(text, static_cast<int>(cfg.targets.size())).first;
            cfg.targetsKey += text + "|" + std::to_string(c.interval) + ";";
            cfg.targets.push_back(std::move(t));
          }
          a.target = ti->second;
        }
    }
    out.push_back(std::move(pend.pool));
  }
  if (!cfg.db->addPools(std::move(out), std::move(views), error)) in.fail("zones", error);
  // The raw socket must exist before workers drop privileges (see health.hpp).
  cfg.wantsIcmp = icmp;
}

}  // namespace manifold::dns
