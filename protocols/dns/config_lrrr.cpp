// [dns:NAME] keys lrrr.NAME and lrrr_cache: latency-steered names (lrrr.hpp, README.md "LRRR").
#include <sodium.h>

#include <array>
#include <cstring>

#include "protocols/dns/config.hpp"
#include "protocols/dns/counters.hpp"

namespace manifold::dns {

static_assert(kLrrrEnd - kLrrrFirst == kLrrrCounterCount);

// lrrr.NAME = side=left|right left=ADDR[,ADDR] right=ADDR[,ADDR] key=SECRET [prefix=lr
//             lr_ttl=60s ttl=30 max_rtt=2s prefix4=24 prefix6=56]   (see lrrr.hpp, README.md)
void parseLrrr(config::SectionReader& in, DnsConfig& cfg) {
  std::vector<LrrrName> names;
  for (const config::Entry& e : in.prefixed({"lrrr."})) {
    LrrrName n;
    std::string text = e.key.substr(5);
    if (text.empty()) in.fail(e.key, "missing name");
    if (text.back() != '.') text += '.';
    std::string wire, why;
    if (!textToName(text, "", wire, why)) in.fail(e.key, why);
    n.name = lowerName(wire);
    if (!cfg.db->inZone(n.name))
      in.fail(e.key, nameToText(n.name) + " is not inside any loaded zone");
    if (cfg.db->hasPool(n.name))
      in.fail(e.key, nameToText(n.name) + " also has a pool: use one or the other");
    std::string prefix = "lr", side, key, last;
    for (const auto& w : configWords(e.value)) {
      size_t eq = w.find('=');
      std::string k = eq == std::string::npos ? last : w.substr(0, eq);
      std::string v = eq == std::string::npos ? w : w.substr(eq + 1);
      last = k;
      config::Millis ms;
      int64_t num = 0;
      std::string dwhy;
      if (k == "left" || k == "right") {
        int s = k == "left" ? 0 : 1;
        PoolAddress a;
        if (!parseAddress(v, a) || a.weight != 1) in.fail(e.key, "bad address '" + v + "'");
        std::array<uint8_t, 16> bytes{};
        std::memcpy(bytes.data(), a.bytes, 16);
        n.addrs[s][a.type == kTypeAaaa ? 1 : 0].push_back(bytes);
      } else if (k == "side") {
        if (v != "left" && v != "right") in.fail(e.key, "side must be left or right");
        side = v;
      } else if (k == "key") {
        key = v;
      } else if (k == "prefix") {
        if (v.empty() || v.size() > 20 ||
            v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
          in.fail(e.key, "prefix must be 1-20 of [a-z0-9-]");
        prefix = v;
      } else if (k == "lr_ttl" || k == "max_rtt") {
        if (!config::parseDuration(v, ms, dwhy)) in.fail(e.key, k + ": " + dwhy);
        if (k == "lr_ttl") {
          if (ms.count() < 1000 || ms.count() > 86400000) in.fail(e.key, "lr_ttl must be 1s..1d");
          n.lrTtl = static_cast<uint32_t>(ms.count() / 1000);
        } else {
          if (ms.count() < 10 || ms.count() > 30000) in.fail(e.key, "max_rtt must be 10ms..30s");
          n.maxRtt = static_cast<uint32_t>(ms.count());
        }
      } else if (k == "ttl" || k == "prefix4" || k == "prefix6") {
        int64_t max = k == "ttl" ? 86400 : k == "prefix4" ? 32 : 128;
        if (!config::parseInteger(v, num, dwhy) || num < 0 || num > max)
          in.fail(e.key, "bad " + k + " '" + v + "'");
        (k == "ttl" ? n.ttl : k == "prefix4" ? n.prefix4 : n.prefix6) = static_cast<uint32_t>(num);
      } else {
        in.fail(e.key,
                "unknown option '" + w +
                    "' (side, left, right, key, prefix, lr_ttl, ttl, max_rtt, prefix4, prefix6)");
      }
    }
    if (side.empty()) in.fail(e.key, "side=left|right is required (which site this instance is)");
    n.side = side == "right" ? 1 : 0;
    if (key.size() < 16)
      in.fail(e.key, "key=SECRET of at least 16 characters is required (the same on both sites)");
    crypto_generichash(n.key, sizeof n.key, reinterpret_cast<const uint8_t*>(key.data()),
                       key.size(), nullptr, 0);
    for (int s = 0; s < 2; ++s)
      if (n.addrs[s][0].empty() && n.addrs[s][1].empty())
        in.fail(e.key, std::string(s ? "right" : "left") + "=ADDR... is required");
    for (int s = 0; s < 2; ++s) {
      std::string label = prefix + (s ? "r" : "l");
      n.measure[s] = std::string(1, static_cast<char>(label.size())) + label + n.name;
      if (1 + kLrrrTokenChars + n.measure[s].size() > kMaxName)
        in.fail(e.key, "name too long for measurement names");
    }
    for (const auto& o : names)
      if (o.name == n.name) in.fail(e.key, "defined twice");
    names.push_back(std::move(n));
  }
  if (names.empty()) {
    (void)in.size("lrrr_cache", 1 << 20, 64 << 10, 1ull << 30);
    return;
  }
  if (names.size() > 65535) in.fail("lrrr_cache", "too many lrrr names");
  size_t bytes = in.size("lrrr_cache", 1 << 20, 64 << 10, 1ull << 30);
  cfg.lrrrBytes = Lrrr::regionBytes(std::max<size_t>(64, bytes / 96));
  cfg.lrrr = std::make_shared<Lrrr>(std::move(names));
}

}  // namespace manifold::dns
