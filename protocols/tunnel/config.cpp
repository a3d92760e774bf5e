#include "protocols/tunnel/config.hpp"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>

#include "master/shm_budget.hpp"
#include "shm/info_board.hpp"
#include "shm/table.hpp"
#include "worker/log.hpp"

namespace manifold::tunnel {

namespace {

constexpr uint32_t kRelayStripes = 16;

// "KEY word=value ..." with comma-separated lists inside values.
struct Line {
  std::string key;
  std::vector<std::pair<std::string, std::string>> options;
};
Line splitLine(const config::SectionReader& in, const config::Entry& e) {
  Line out;
  size_t i = 0;
  const std::string& v = e.value;
  auto word = [&] {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    size_t start = i;
    while (i < v.size() && v[i] != ' ' && v[i] != '\t') ++i;
    return v.substr(start, i - start);
  };
  out.key = word();
  for (std::string w = word(); !w.empty(); w = word()) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      in.failAt(e.line, e.key, "expected name=value, got \"" + w + "\"");
    out.options.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

Key keyFrom(const config::SectionReader& in, const config::Entry& e, const std::string& text) {
  Key key;
  if (!decodeKey(text, key))
    in.failAt(e.line, e.key, "\"" + text + "\" is not a base64 32-byte public key");
  return key;
}

std::vector<std::string> commaList(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    if (comma > start) out.push_back(v.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

config::ListenAddress endpointFrom(const config::SectionReader& in, const config::Entry& e,
                                   const std::string& text) {
  config::ListenAddress a;
  std::string why;
  if (!config::parseRemoteAddress(text, 51900, a, why)) in.failAt(e.line, e.key, why);
  a.line = e.line;
  return a;
}

PeerConfig parsePeer(const config::SectionReader& in, const config::Entry& e,
                     const TunnelConfig& cfg) {
  Line line = splitLine(in, e);
  PeerConfig p;
  p.line = e.line;
  Key pub = keyFrom(in, e, line.key);
  p.name = line.key.substr(0, 8);
  Key psk{};
  for (auto& [k, v] : line.options) {
    if (k == "name") {
      p.name = v;
    } else if (k == "endpoint") {
      for (auto& one : commaList(v)) p.endpoints.push_back(endpointFrom(in, e, one));
    } else if (k == "allowed") {
      for (auto& one : commaList(v)) {
        net::Cidr c;
        std::string why;
        if (!net::parseCidr(one, c, &why)) in.failAt(e.line, e.key, "allowed: " + why);
        p.allowed.push_back(c);
      }
    } else if (k == "psk") {
      std::string why;
      if (!readKeyFile(config::absolutePath(v), psk, why)) in.failAt(e.line, e.key, "psk: " + why);
    } else if (k == "keepalive") {
      config::Millis d;
      std::string why;
      if (!config::parseDuration(v, d, why)) in.failAt(e.line, e.key, "keepalive: " + why);
      p.keepalive = d.count() / 1000.0;
    } else {
      in.failAt(e.line, e.key,
                "unknown peer option \"" + k +
                    "\" (name, endpoint, allowed, psk, "
                    "keepalive)");
    }
  }
  if (pub == cfg.identity.publicKey) in.failAt(e.line, e.key, "a peer cannot be this instance");
  if (!p.keys.set(cfg.identity, pub, psk)) in.failAt(e.line, e.key, "unusable public key");
  return p;
}

RelayTarget parseRelay(const config::SectionReader& in, const config::Entry& e) {
  Line line = splitLine(in, e);
  RelayTarget r;
  r.line = e.line;
  r.publicKey = keyFrom(in, e, line.key);
  r.mac1Key = mac1KeyOf(r.publicKey);
  r.name = line.key.substr(0, 8);
  bool hasEndpoint = false;
  for (auto& [k, v] : line.options) {
    if (k == "name") {
      r.name = v;
    } else if (k == "endpoint") {
      r.endpoint = endpointFrom(in, e, v);
      hasEndpoint = true;
    } else {
      in.failAt(e.line, e.key, "unknown relay option \"" + k + "\" (name, endpoint)");
    }
  }
  if (!hasEndpoint) in.failAt(e.line, e.key, "a relayed site needs endpoint=ADDR:PORT");
  return r;
}

}  // namespace

unsigned TunnelConfig::workers() const {
  return std::max(1u, workerSlots / config::kStatsSlotsPerWorker);
}

unsigned TunnelConfig::pathRows() const {
  unsigned paths = 0;
  for (auto& p : peers)
    if (p.endpoints.size() > 1) paths += static_cast<unsigned>(p.endpoints.size());
  return std::max(1u, paths * std::max(1u, workerSlots));
}

TunnelConfig::~TunnelConfig() {
  for (int fd : queues) TunDevice::closeQueue(fd);
}

std::vector<ListenRequest> TunnelConfig::listeners() const {
  return listenRequests(listen, listenLine, true, false);
}

std::vector<RegionRequest> TunnelConfig::regions() const {
  std::vector<RegionRequest> out;
  auto board = [&](const char* suffix, const char* family, unsigned rows, auto& names) {
    std::vector<shm::InfoBoard::Value> values;
    for (const char* n : names)
      values.push_back(
          {n, std::string_view(n) == "last_handshake" || std::string_view(n) == "rtt_us" ||
                  std::string_view(n) == "loss_permille" || std::string_view(n) == "chosen"});
    out.push_back({title() + suffix, "infoboard-v1", shm::InfoBoard::bytesFor(rows),
                   [family, values](void* base, size_t bytes, bool adopted) {
                     shm::InfoBoard::format(base, bytes, adopted, family, values);
                   },
                   ""});
  };
  unsigned slots = std::max(1u, workerSlots);
  board("/peers", "tunnel_peer", std::max(1u, static_cast<unsigned>(peers.size()) * slots),
        kPeerValues);
  board("/paths", "tunnel_path", pathRows(), kPathValues);
  if (!relays.empty()) {
    size_t bytes = settings.relayTableBytes;
    uint32_t buckets = static_cast<uint32_t>(std::max<size_t>(64, bytes / 128));
    out.push_back({title() + "/relay", "tunnel-relay-v1 buckets=" + std::to_string(buckets),
                   shm::Table::bytesFor(bytes, buckets, kRelayStripes),
                   [buckets](void* base, size_t bytes, bool adopted) {
                     if (!adopted || !shm::Table::at(base))
                       shm::Table::format(base, bytes, buckets, kRelayStripes);
                   },
                   "relay_table_size"});
  }
  return out;
}

std::vector<CounterSpec> TunnelConfig::counters() const { return counterSpecs(kCounterDefs); }

void TunnelConfig::acquirePrivileged() {
  if (!hasDevice) return;
  std::string error;
  device = TunDevice::acquire(tun, error);
  if (device) queues = device->openQueues(workers(), error);
  if (!device || queues.empty())
    LOG_ERROR("[%s]: tunnel device %s: %s", title().c_str(), tun.name.c_str(), error.c_str());
}

std::unique_ptr<ServiceConfig> parseTunnelSection(config::SectionReader& in) {
  if (sodium_init() < 0) in.fail("listen", "libsodium failed to initialise");
  auto cfg = std::make_unique<TunnelConfig>();
  cfg->listen = in.listen("listen");
  cfg->listenLine = in.lineOf("listen");
  TunnelSettings& s = cfg->settings;

  std::string keyPath = in.path("private_key", "");
  if (!keyPath.empty()) {
    Key priv;
    std::string why;
    if (!readKeyFile(keyPath, priv, why)) in.fail("private_key", why);
    cfg->identity.set(priv);
    cfg->hasIdentity = true;
  }
  for (const config::Entry& e : in.each("peer")) {
    if (!cfg->hasIdentity) in.failAt(e.line, "private_key", "required with peers");
    cfg->peers.push_back(parsePeer(in, e, *cfg));
    for (size_t i = 0; i + 1 < cfg->peers.size(); ++i)
      if (cfg->peers[i].keys.publicKey == cfg->peers.back().keys.publicKey)
        in.failAt(e.line, e.key,
                  "the same key again (first at line " + std::to_string(cfg->peers[i].line) + ")");
  }
  for (const config::Entry& e : in.each("relay")) cfg->relays.push_back(parseRelay(in, e));
  if (cfg->peers.empty() && cfg->relays.empty())
    in.fail("peer", "a tunnel needs at least one peer (or relay)");

  TunSettings& t = cfg->tun;
  t.name = in.text("device", "");
  if (!cfg->peers.empty() && t.name.empty()) in.fail("device", "required with peers");
  if (!t.name.empty()) {
    cfg->hasDevice = true;
    if (t.name.size() >= 16) in.fail("device", "at most 15 characters");
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
      in.fail("device", "/dev/net/tun is missing or not accessible (tun module, permissions)");
  }
  for (auto& c : in.networks("address", "none")) (void)c;
  // ip(8) takes the CIDR text as written; networks() above has validated each word.
  t.addresses = in.has("address") ? in.list("address", "") : std::vector<std::string>{};
  t.mtu = static_cast<unsigned>(in.integer("mtu", 1420, 576, 65535));
  t.txqueuelen = static_cast<unsigned>(in.integer("txqueuelen", 1000, 0, 1 << 20));
  for (auto& c : in.networks("route", "none")) (void)c;
  t.routes = in.has("route") ? in.list("route", "") : std::vector<std::string>{};
  t.upHook = in.text("up", "");
  t.downHook = in.text("down", "");

  std::string mode = in.choice("mode", "datagram", {"datagram", "warp"});
  s.mode = mode == "warp" ? Mode::Warp : Mode::Datagram;
  std::string fec = in.text("warp_fec", "0");
  s.warpFecAuto = fec == "auto";
  if (s.warpFecAuto)
    s.warpFec = 16;
  else if (fec.empty() || fec.size() > 2 || fec.find_first_not_of("0123456789") != fec.npos ||
           std::stoi(fec) == 1 || std::stoi(fec) > 32)
    in.fail("warp_fec", "0 (off), 2..32 (packets per parity packet) or auto");
  else
    s.warpFec = static_cast<unsigned>(std::stoi(fec));
  s.warpWindow = static_cast<unsigned>(in.integer("warp_window", 4096, 64, 65536));
  std::string compress = in.choice("compress", "off", {"off", "lzo", "zlib"});
  // The warp transport compresses (protocols/tunnel/warp/compress.hpp); datagram mode does not.
  if (compress != "off" && s.mode != Mode::Warp)
    in.fail("compress", "compression needs mode = warp");
  s.compress = compress == "lzo"    ? Compress::Lzo
               : compress == "zlib" ? Compress::Zlib
                                    : Compress::Off;
  using config::Millis;
  s.rekeyAfterTime = in.seconds("rekey_after_time", Millis(120000), Millis(1000), Millis(86400000));
  s.rejectAfterTime = s.rekeyAfterTime + 60;
  s.rekeyAfterMessages = in.size("rekey_after_messages", 1ull << 60, 8, 1ull << 60);
  s.rekeyTimeout = in.seconds("rekey_timeout", Millis(5000), Millis(100), Millis(60000));
  s.keepaliveTimeout = in.seconds("keepalive_timeout", Millis(10000), Millis(100), Millis(600000));
  s.handshakesPerSecond =
      static_cast<unsigned>(in.integer("handshakes_per_second", 500, 1, 1 << 20));
  s.probeInterval = in.seconds("probe_interval", Millis(1000), Millis(50), Millis(60000));
  s.switchMargin = static_cast<double>(in.integer("switch_margin", 20, 0, 99)) / 100.0;
  s.switchAfter = static_cast<unsigned>(in.integer("switch_after", 3, 1, 1000));
  s.relayTableBytes = in.size("relay_table_size", 1 << 20, 64 << 10, 1ull << 32);
  return cfg;
}

MANIFOLD_PROTOCOL("tunnel", parseTunnelSection);

}  // namespace manifold::tunnel
