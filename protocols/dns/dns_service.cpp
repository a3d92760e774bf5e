// [dns:NAME]: an authoritative DNS server over UDP (batched) and TCP (RFC 7766: 2-byte length
// prefix, several queries per connection, idle timeout), with health-checked failover pools.
//
//   listen = 127.0.0.1:53 [::1]:53         UDP and TCP on each address
//   zones = example.com=etc/zones/example.com.zone other.zone   (origin=path, or path named ORIGIN.zone)
//   max_udp_payload = 1232                 cap for EDNS answers (512 without EDNS)
//   tcp_idle_timeout = 10s
//   pool_ttl = 30                          TTL of pool answers
//   rrl_rate = 0                           responses/s per client prefix per worker (0 = off)
//   rrl_slip = 2                           every Nth limited answer goes out truncated (TC)
//   view.NAME = 10.0.0.0/8 2001:db8::/32   client networks (source address, or ECS when present)
//   pool.www.example.com = 192.0.2.1 192.0.2.2*3 2001:db8::1   (*W = weight)
//   pool._www.example.com = 192.0.2.10     backup level 1 (3nsd's _name), __name = level 2, ...
//   pool.www.example.com@NAME = ...        the pool for clients in view NAME
//   fallback.www.example.com = 192.0.2.99  when every level is down
//   check.www.example.com = tcp:80 interval=2s timeout=1s rise=2 fall=2
//                         | http:8080/health status=200 ... | icmp ...
//   lrrr.www.example.com = side=left left=192.0.2.1,2001:db8::1 right=198.51.100.1 key=SECRET
//                          [prefix=lr lr_ttl=60s ttl=30 max_rtt=2s prefix4=24 prefix6=56]
//   lrrr_cache = 1m                        shm budget of the LRRR decision cache
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/health.hpp"
#include "protocols/dns/lrrr.hpp"
#include "protocols/dns/message.hpp"
#include "protocols/dns/rrl.hpp"
#include "protocols/dns/zone_db.hpp"
#include "protocols/service.hpp"
#include "shm/segment.hpp"
#include "shm/table.hpp"
#include "worker/acceptor.hpp"
#include "worker/connection.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/udp_endpoint.hpp"

namespace manifold::dns {

namespace {

// Health region layout: HealthRegionHeader, then HealthSlot[targets] (48 bytes each).
struct HealthRegionHeader {
  char magic[8];  // "MFDNSHL1"
  uint32_t targets;
  uint32_t reserved;
};

struct DnsConfig : ServiceConfig {
  std::vector<config::ListenAddress> listen;
  int line = 0;
  std::shared_ptr<ZoneDb> db = std::make_shared<ZoneDb>();
  std::vector<HealthTarget> targets;
  bool wantsIcmp = false;
  std::shared_ptr<IcmpSocket> icmp;  // opened by the master while privileged, shared by workers
  uint16_t maxUdp = 1232;
  double tcpIdle = 10;
  RrlSettings rrl;
  std::string targetsKey;  // identity of the target list, part of the region layout
  std::shared_ptr<Lrrr> lrrr;
  size_t lrrrBytes = 0;

  std::vector<ListenRequest> listeners() const override {
    return listenRequests(listen, line, true, true);
  }
  size_t regionBytes() const { return sizeof(HealthRegionHeader) + targets.size() * sizeof(HealthSlot); }
  // The raw ICMP socket needs CAP_NET_RAW, which workers lose when they drop privileges.
  void acquirePrivileged() override {
    if (wantsIcmp && !icmp) icmp = std::make_shared<IcmpSocket>();
  }
  std::vector<RegionRequest> regions() const override {
    std::vector<RegionRequest> out;
    if (lrrr && lrrrBytes) {
      // Decision cache (lrrr.hpp): an shm::Table; kept across reloads of the same size.
      RegionRequest c;
      c.name = title() + "/lrrr";
      c.layout = "dns-lrrr-v1 entry=" + std::to_string(sizeof(LrrrEntry)) + " bytes=" + std::to_string(lrrrBytes);
      c.bytes = lrrrBytes;
      c.init = [](void* base, size_t bytes, bool adopted) {
        if (adopted && shm::Table::at(base)) return;
        Lrrr::formatRegion(base, bytes);
      };
      out.push_back(std::move(c));
    }
    if (targets.empty()) return out;
    RegionRequest r;
    r.name = title() + "/health";
    // Same targets (address, check, interval) in the same order: the state is adopted on reload.
    uint64_t h = 1469598103934665603ull;
    for (char ch : targetsKey) h = (h ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
    char key[64];
    snprintf(key, sizeof key, "dns-health-v1 slot=%zu n=%zu h=%016llx", sizeof(HealthSlot), targets.size(),
             static_cast<unsigned long long>(h));
    r.layout = key;
    r.bytes = regionBytes();
    size_t n = targets.size();
    r.init = [n](void* base, size_t, bool adopted) {
      auto* h = static_cast<HealthRegionHeader*>(base);
      auto* slots = reinterpret_cast<HealthSlot*>(h + 1);
      if (adopted && std::memcmp(h->magic, "MFDNSHL1", 8) == 0 && h->targets == n) return;
      std::memcpy(h->magic, "MFDNSHL1", 8);
      h->targets = static_cast<uint32_t>(n);
      for (size_t i = 0; i < n; ++i) {
        new (&slots[i]) HealthSlot{};
        slots[i].up.store(1);
      }
    };
    out.push_back(std::move(r));
    return out;
  }
  std::vector<CounterSpec> counters() const override {
    std::vector<CounterSpec> out;
    for (const char* n : kCounterNames) out.push_back({n, CounterKind::Counter});
    for (const auto& t : targets) {
      std::string base;
      for (char c : t.text) base.push_back(isalnum(static_cast<unsigned char>(c)) ? c : '_');
      if (base.size() > 44) base.resize(44);
      out.push_back({"t_" + base + "_up", CounterKind::Gauge});
      out.push_back({"t_" + base + "_checked", CounterKind::Gauge});
    }
    return out;
  }
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

// --- the worker half -------------------------------------------------------------------------

class DnsService;

class TcpHandler : public ConnectionHandler {
 public:
  explicit TcpHandler(DnsService& s) : service_(s) {}
  void onReadable(Connection& conn) override;
  bool busy() const override { return partial_; }

 private:
  DnsService& service_;
  bool partial_ = false;
};

class DnsService : public Service, public DatagramHandler {
 public:
  DnsService(const DnsConfig& config, ServiceContext& ctx)
      : config_(config), ctx_(ctx), rrl_(config.rrl), tcpBuffer_(65535 + 2) {
    size_t region = 0;
    if (config.lrrr && config.lrrrBytes && region < ctx.regions.size() && ctx.regions[region])
      lrrrCache_ = shm::Table::at(ctx.regions[region++]);
    if (!config.targets.empty() && region < ctx.regions.size() && ctx.regions[region])
      health_ = reinterpret_cast<HealthSlot*>(static_cast<HealthRegionHeader*>(ctx.regions[region]) + 1);
  }

  void start() override {
    const auto& listeners = config_.listeners();
    for (size_t i = 0; i < listeners.size() && i < ctx_.fds.size(); ++i) {
      if (listeners[i].transport == Transport::Udp) {
        udp_.push_back(std::make_unique<UdpEndpoint>(*ctx_.runtime, ctx_.fds[i], *this, 64, 4096));
        udp_.back()->start();
      } else {
        acceptors_.push_back(std::make_unique<Acceptor>(
            *ctx_.runtime, ctx_.fds[i], [this](Connection& conn) -> std::unique_ptr<ConnectionHandler> {
              conn.setIdleTimeout(config_.tcpIdle);
              ++ctx_.counters[kTcpConnections];
              return std::make_unique<TcpHandler>(*this);
            }));
        acceptors_.back()->start();
      }
    }
    if (ctx_.workerIndex == 0 && health_) {
      if (config_.wantsIcmp && (!config_.icmp || config_.icmp->fd < 0))
        LOG_WARN("[%s] %s; ICMP checks fall back to ping sockets", config_.title().c_str(),
                 config_.icmp ? config_.icmp->error.c_str() : "no raw ICMP socket");
      prober_ = std::make_unique<Prober>(ctx_.loop, config_.title(), config_.targets, health_,
                                         ctx_.counters + kFixedCounters, ctx_.counters + kProbeOk,
                                         config_.icmp ? config_.icmp->fd : -1);
      prober_->start();
    }
  }
  void stopAccepting() override {
    for (auto& u : udp_) u->stop();
    for (auto& a : acceptors_) a->stop();
    if (prober_) prober_->stop();
  }
  size_t inFlight() const override { return 0; }

  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t, uint8_t* out,
                    size_t outCap) override {
    ++ctx_.counters[kQueriesUdp];
    return handle(in, len, peer, out, outCap, true);
  }

  // Answers one query; 0 = no reply.
  size_t handle(const uint8_t* in, size_t len, const sockaddr* peer, uint8_t* out, size_t cap, bool udp) {
    uint64_t* c = ctx_.counters;
    ++c[kQueries];
    Query q;
    QueryStatus st = parseQuery(in, len, q);
    if (st == QueryStatus::Drop) {
      ++c[kDropped];
      return 0;
    }
    if (st != QueryStatus::Ok) {
      uint8_t rcode = st == QueryStatus::NotImp ? kRcodeNotImp : kRcodeFormErr;
      ++c[rcode == kRcodeNotImp ? kRcodeNotImpCount : kRcodeFormErrCount];
      return writeErrorReply(in, len, q, rcode, out, cap);
    }
    countType(q.qtype);
    if (q.edns) ++c[kEdnsQueries];
    if (q.ecs.present) ++c[kEcsQueries];
    if (q.edns && q.ednsVersion > 0) {
      // RFC 6891 6.1.3: BADVERS, our version (0) in the OPT.
      ++c[kRcodeBadVersCount];
      PacketWriter w(out, cap);
      w.start(q.id, static_cast<uint16_t>(0x8000 | (q.flags & 0x0110)));
      w.question(q.qname, q.qnameLength, q.qtype, q.qclass);
      w.opt(config_.maxUdp, kRcodeBadVers, false, nullptr, 0);
      return w.size();
    }
    size_t limit = 65535;
    if (udp) limit = q.edns ? std::min<size_t>(std::max<size_t>(q.udpPayload, 512), config_.maxUdp) : 512;
    limit = std::min(limit, cap);
    AnswerContext actx;
    actx.health = health_;
    actx.client = peer;
    actx.rotation = &rotation_;
    AnswerInfo info;
    size_t n = 0;
    if (config_.lrrr) n = config_.lrrr->answer(q, peer, lrrrCache_, out, limit, info, c + kLrrrFirst);
    if (!n) n = config_.db->answer(q, actx, out, limit, info);
    if (udp && config_.rrl.rate && n) {
      RrlVerdict v = rrl_.check(peer, ctx_.runtime->loop() ? ev_now(ctx_.runtime->loop()) : 0);
      if (v == RrlVerdict::Drop) {
        ++c[kRrlDropped];
        return 0;
      }
      if (v == RrlVerdict::Slip) {
        // A truncated, empty answer: a real client retries over TCP.
        ++c[kRrlSlipped];
        PacketWriter w(out, cap);
        w.start(q.id, static_cast<uint16_t>(0x8000 | 0x0200 | (q.flags & 0x0110) | (get16(out + 2) & 0x040F)));
        w.question(q.qname, q.qnameLength, q.qtype, q.qclass);
        if (q.edns) w.opt(config_.maxUdp, 0, q.dnssecOk, nullptr, 0);
        return w.size();
      }
    }
    if (info.truncated) ++c[kTruncated];
    if (info.nodata) ++c[kNoData];
    switch (info.rcode) {
      case kRcodeNoError: ++c[kRcodeNoErrorCount]; break;
      case kRcodeNxDomain: ++c[kRcodeNxDomainCount]; break;
      case kRcodeRefused: ++c[kRcodeRefusedCount]; break;
      case kRcodeServFail: ++c[kRcodeServFailCount]; break;
      default: break;
    }
    return n;
  }

  uint8_t* tcpBuffer() { return tcpBuffer_.data(); }
  uint64_t* counters() { return ctx_.counters; }

 private:
  void countType(uint16_t t) {
    unsigned i;
    switch (t) {
      case kTypeA: i = kQtypeA; break;
      case kTypeAaaa: i = kQtypeAaaa; break;
      case kTypeNs: i = kQtypeNs; break;
      case kTypeCname: i = kQtypeCname; break;
      case kTypeSoa: i = kQtypeSoa; break;
      case kTypePtr: i = kQtypePtr; break;
      case kTypeMx: i = kQtypeMx; break;
      case kTypeTxt: i = kQtypeTxt; break;
      case kTypeSrv: i = kQtypeSrv; break;
      case kTypeCaa: i = kQtypeCaa; break;
      case kTypeAny: i = kQtypeAny; break;
      default: i = kQtypeOther;
    }
    ++ctx_.counters[i];
  }

  const DnsConfig& config_;
  ServiceContext ctx_;
  HealthSlot* health_ = nullptr;
  shm::Table* lrrrCache_ = nullptr;
  uint64_t rotation_ = 0;
  Rrl rrl_;
  std::vector<uint8_t> tcpBuffer_;
  std::vector<std::unique_ptr<UdpEndpoint>> udp_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unique_ptr<Prober> prober_;
};

void TcpHandler::onReadable(Connection& conn) {
  // RFC 1035 4.2.2 / RFC 7766: each message is preceded by its 2-byte length.
  for (;;) {
    std::string_view in = conn.pendingInput();
    if (in.size() < 2) {
      partial_ = !in.empty();
      return;
    }
    size_t len = get16(reinterpret_cast<const uint8_t*>(in.data()));
    if (len == 0) {
      conn.closeAfterFlush();
      return;
    }
    if (in.size() < 2 + len) {
      partial_ = true;
      return;
    }
    partial_ = false;
    uint8_t* buf = service_.tcpBuffer();
    ++service_.counters()[kQueriesTcp];
    size_t n = service_.handle(reinterpret_cast<const uint8_t*>(in.data()) + 2, len,
                               reinterpret_cast<const sockaddr*>(&conn.peer()), buf + 2, 65535, false);
    conn.consume(2 + len);
    if (n) {
      put16(buf, static_cast<uint16_t>(n));
      conn.output().append(reinterpret_cast<const char*>(buf), n + 2);
    } else {
      conn.closeAfterFlush();  // a message we do not answer: nothing sensible follows
      return;
    }
  }
}

std::unique_ptr<Service> DnsConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<DnsService>(*this, ctx);
}

// --- config parsing ------------------------------------------------------------------------------

bool parseAddress(const std::string& text, PoolAddress& out) {
  std::string addr = text;
  size_t star = text.rfind('*');
  if (star != std::string::npos) {
    addr = text.substr(0, star);
    int w = atoi(text.c_str() + star + 1);
    if (w <= 0 || w > 1000) return false;
    out.weight = static_cast<uint32_t>(w);
  }
  if (inet_pton(AF_INET, addr.c_str(), out.bytes) == 1) {
    out.type = kTypeA;
    return true;
  }
  if (inet_pton(AF_INET6, addr.c_str(), out.bytes) == 1) {
    out.type = kTypeAaaa;
    return true;
  }
  return false;
}

bool parseCidr(const std::string& text, Cidr& out) {
  size_t slash = text.find('/');
  std::string addr = text.substr(0, slash);
  if (inet_pton(AF_INET, addr.c_str(), out.bytes) == 1) out.family = AF_INET;
  else if (inet_pton(AF_INET6, addr.c_str(), out.bytes) == 1) out.family = AF_INET6;
  else return false;
  int max = out.family == AF_INET ? 32 : 128;
  int prefix = max;
  if (slash != std::string::npos) {
    std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos) return false;
    prefix = atoi(p.c_str());
  }
  if (prefix < 0 || prefix > max) return false;
  out.prefix = static_cast<uint8_t>(prefix);
  return true;
}

std::vector<std::string> words(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

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
  auto w = words(value);
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
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos || port < 1 || port > 65535) {
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
      if (k == "rise") c.rise = static_cast<unsigned>(n);
      else if (k == "fall") c.fall = static_cast<unsigned>(n);
      else c.status = static_cast<int>(n);
    } else {
      why = "unknown check option '" + k + "'";
      return false;
    }
  }
  if (c.timeout > c.interval) c.timeout = c.interval;
  c.text = head;
  return true;
}

static_assert(kLrrrEnd - kLrrrFirst == kLrrrCounterCount);

// lrrr.NAME = side=left|right left=ADDR[,ADDR] right=ADDR[,ADDR] key=SECRET [prefix=lr
//             lr_ttl=60s ttl=30 max_rtt=2s prefix4=24 prefix6=56]   (see lrrr.hpp, README.md)
void parseLrrr(config::SectionReader& in, DnsConfig& cfg) {
  std::vector<LrrrName> names;
  for (const auto& e : in.section().entries) {
    if (e.key.rfind("lrrr.", 0) != 0) continue;
    e.used = true;
    LrrrName n;
    std::string text = e.key.substr(5);
    if (text.empty()) in.fail(e.key, "missing name");
    if (text.back() != '.') text += '.';
    std::string wire, why;
    if (!textToName(text, "", wire, why)) in.fail(e.key, why);
    n.name = lowerName(wire);
    if (!cfg.db->inZone(n.name)) in.fail(e.key, nameToText(n.name) + " is not inside any loaded zone");
    if (cfg.db->hasPool(n.name)) in.fail(e.key, nameToText(n.name) + " also has a pool: use one or the other");
    std::string prefix = "lr", side, key, last;
    for (const auto& w : words(e.value)) {
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
        if (v.empty() || v.size() > 20 || v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
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
        if (!config::parseInteger(v, num, dwhy) || num < 0 || num > max) in.fail(e.key, "bad " + k + " '" + v + "'");
        (k == "ttl" ? n.ttl : k == "prefix4" ? n.prefix4 : n.prefix6) = static_cast<uint32_t>(num);
      } else {
        in.fail(e.key, "unknown option '" + w + "' (side, left, right, key, prefix, lr_ttl, ttl, max_rtt, prefix4, prefix6)");
      }
    }
    if (side.empty()) in.fail(e.key, "side=left|right is required (which site this instance is)");
    n.side = side == "right" ? 1 : 0;
    if (key.size() < 16) in.fail(e.key, "key=SECRET of at least 16 characters is required (the same on both sites)");
    crypto_generichash(n.key, sizeof n.key, reinterpret_cast<const uint8_t*>(key.data()), key.size(), nullptr, 0);
    for (int s = 0; s < 2; ++s)
      if (n.addrs[s][0].empty() && n.addrs[s][1].empty())
        in.fail(e.key, std::string(s ? "right" : "left") + "=ADDR... is required");
    for (int s = 0; s < 2; ++s) {
      std::string label = prefix + (s ? "r" : "l");
      n.measure[s] = std::string(1, static_cast<char>(label.size())) + label + n.name;
      if (1 + kLrrrTokenChars + n.measure[s].size() > kMaxName) in.fail(e.key, "name too long for measurement names");
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

std::unique_ptr<ServiceConfig> parseDnsSection(config::SectionReader& in) {
  auto cfg = std::make_unique<DnsConfig>();
  cfg->listen = in.listen("listen");
  cfg->line = in.lineOf("listen");
  cfg->maxUdp = static_cast<uint16_t>(in.integer("max_udp_payload", 1232, 512, 4096));
  cfg->tcpIdle = std::chrono::duration<double>(
                     in.duration("tcp_idle_timeout", config::Millis(10000), config::Millis(100), config::Millis(3600000)))
                     .count();
  uint32_t poolTtl = static_cast<uint32_t>(in.integer("pool_ttl", 30, 0, 86400));
  cfg->rrl.rate = static_cast<unsigned>(in.integer("rrl_rate", 0, 0, 1000000));
  cfg->rrl.slip = static_cast<unsigned>(in.integer("rrl_slip", 2, 0, 10));
  cfg->rrl.ipv4Prefix = static_cast<unsigned>(in.integer("rrl_ipv4_prefix", 24, 8, 32));
  cfg->rrl.ipv6Prefix = static_cast<unsigned>(in.integer("rrl_ipv6_prefix", 56, 16, 128));
  std::vector<std::string> zones = in.list("zones", "");
  if (zones.empty()) in.fail("zones", "at least one zone file is required");
  char cwd[4096];
  std::string base = getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" : "";
  for (auto& z : zones) {
    size_t eq = z.find('=');
    size_t p = eq == std::string::npos ? 0 : eq + 1;
    if (z.size() > p && z[p] != '/') z.insert(p, base);
  }
  std::string error;
  if (!cfg->db->load(zones, error)) in.fail("zones", error);

  // Dynamic keys: view.V, pool.[_]NAME[@V], fallback.NAME[@V], check.NAME.
  std::vector<View> views;
  std::map<std::string, int> viewIndex;
  const auto& entries = in.section().entries;
  for (const auto& e : entries) {
    if (e.key.rfind("view.", 0) != 0) continue;
    e.used = true;
    View v;
    v.name = e.key.substr(5);
    for (const auto& w : words(e.value)) {
      Cidr c;
      if (!parseCidr(w, c)) in.fail(e.key, "bad network '" + w + "'");
      v.networks.push_back(c);
    }
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
  for (const auto& e : entries) {
    bool isPool = e.key.rfind("pool.", 0) == 0, isFallback = e.key.rfind("fallback.", 0) == 0;
    if (!isPool && !isFallback) continue;
    e.used = true;
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
    for (const auto& w : words(e.value)) {
      PoolAddress a;
      if (!parseAddress(w, a)) in.fail(e.key, "bad address '" + w + "' (IPv4 or IPv6, optional *WEIGHT)");
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
  for (const auto& e : entries) {
    if (e.key.rfind("check.", 0) != 0) continue;
    e.used = true;
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
              if (c.kind == CheckKind::Icmp) in.fail("check." + nameToText(name), "icmp checks are IPv4 only");
              auto* s = reinterpret_cast<sockaddr_in6*>(&t.addr);
              s->sin6_family = AF_INET6;
              s->sin6_port = htons(c.port);
              std::memcpy(&s->sin6_addr, a.bytes, 16);
              t.addrLen = sizeof(sockaddr_in6);
            }
            icmp = icmp || c.kind == CheckKind::Icmp;
            ti = targetIndex.emplace(text, static_cast<int>(cfg->targets.size())).first;
            cfg->targetsKey += text + "|" + std::to_string(c.interval) + ";";
            cfg->targets.push_back(std::move(t));
          }
          a.target = ti->second;
        }
    }
    out.push_back(std::move(pend.pool));
  }
  if (!cfg->db->addPools(std::move(out), std::move(views), error)) in.fail("zones", error);
  cfg->db->finish();
  parseLrrr(in, *cfg);
  // The raw socket must exist before workers drop privileges (see health.hpp).
  cfg->wantsIcmp = icmp;
  LOG_INFO("[dns:%s] %zu zone(s), %zu records, %zu precomputed answers, %zu health target(s)",
           in.section().name.c_str(), cfg->db->zoneCount(), cfg->db->recordCount(),
           cfg->db->precomputedCount(), cfg->targets.size());
  return cfg;
}

}  // namespace

MANIFOLD_PROTOCOL("dns", parseDnsSection);

}  // namespace manifold::dns
