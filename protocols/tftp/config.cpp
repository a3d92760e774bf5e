#include "protocols/tftp/config.hpp"

#include <algorithm>

#include "protocols/tftp/packet.hpp"
#include "protocols/tftp/rate_limit.hpp"
#include "protocols/tftp/session_caps.hpp"

namespace manifold::tftp {

uint32_t TftpSettings::blksizeCap(int family) const {
  uint32_t cap = blksizeMax;
  if (pathMtu) {
    uint32_t overhead = (family == AF_INET6 ? 40 : 20) + 8 + kHeaderSize;
    cap = std::min(cap, pathMtu > overhead + kMinBlockSize ? pathMtu - overhead
                                                           : static_cast<uint32_t>(kMinBlockSize));
  }
  return cap;
}

std::vector<ListenRequest> TftpConfig::listeners() const {
  return listenRequests(listen, listenLine, true, false);
}

std::vector<RegionRequest> TftpConfig::regions() const {
  std::vector<RegionRequest> out;
  // Both are kept across reloads: an old generation drains with its sessions still counted.
  RegionRequest caps;
  caps.name = title() + "/sessions";
  caps.layout = "tftp-sessions-v1 slots=" + std::to_string(SessionCaps::kSlots) +
                " buckets=" + std::to_string(SessionCaps::kBuckets);
  caps.bytes = SessionCaps::regionBytes();
  caps.init = [](void* base, size_t bytes, bool adopted) {
    SessionCaps::formatRegion(base, bytes, adopted);
  };
  RegionRequest unverified = caps;  // the same counting, for sessions not yet answered
  unverified.name = title() + "/unverified";
  out.push_back(std::move(caps));
  out.push_back(std::move(unverified));
  if (settings.newSessionRate > 0) {
    RegionRequest rate;
    rate.name = title() + "/rate";
    rate.layout = "tftp-rate-v1 buckets=" + std::to_string(SourceRateLimiter::kBuckets);
    rate.bytes = SourceRateLimiter::regionBytes();
    rate.init = [](void* base, size_t bytes, bool adopted) {
      SourceRateLimiter::formatRegion(base, bytes, adopted);
    };
    out.push_back(std::move(rate));
  }
  return out;
}

std::vector<CounterSpec> TftpConfig::counters() const { return counterSpecs(kCounterDefs); }

std::unique_ptr<ServiceConfig> parseTftpSection(config::SectionReader& in) {
  using config::Millis;
  auto cfg = std::make_unique<TftpConfig>();
  cfg->listen = in.listen("listen");
  cfg->listenLine = in.lineOf("listen");
  TftpSettings& s = cfg->settings;
  s.root = in.directory("root", "", true);
  s.allowWrite = in.flag("allow_write", false);
  s.allowCreate = in.flag("allow_create", false);
  s.overwrite = in.flag("overwrite", true);
  s.allowAbsolute = in.choice("absolute_paths", "refuse", {"refuse", "root"}) == "root";
  s.blksizeMax = static_cast<uint32_t>(in.integer("blksize_max", 65464, 8, 65464));
  s.pathMtu = static_cast<uint32_t>(in.integer("path_mtu", 0, 0, 65535));
  if (s.pathMtu && s.pathMtu < 68) in.fail("path_mtu", "must be 0 (off) or at least 68");
  s.windowsizeMax = static_cast<uint32_t>(in.integer("windowsize_max", 64, 1, 65535));
  s.timeout = in.seconds("timeout", Millis(1000), Millis(10), Millis(255000));
  // RFC 2349 timeouts are whole seconds (1..255).
  s.timeoutMax = static_cast<unsigned>(
      in.duration("timeout_max", Millis(5000), Millis(1000), Millis(255000)).count() / 1000);
  s.retries = static_cast<unsigned>(in.integer("retries", 5, 1, 100));
  s.unverifiedRetries = static_cast<unsigned>(in.integer("unverified_retries", 1, 0, 100));
  s.maxFileSize = in.size("max_file_size", 1ull << 30, 0, 1ull << 50);
  s.maxSessions = static_cast<unsigned>(in.integer("max_sessions", 10000, 1, 1 << 20));
  s.maxSessionsPerClient =
      static_cast<unsigned>(in.integer("max_sessions_per_client", 1000, 1, 1 << 20));
  s.newSessionRate = static_cast<double>(in.integer("new_session_rate", 1000, 0, 1 << 24));
  s.newSessionBurst = static_cast<double>(
      in.integer("new_session_burst", static_cast<int64_t>(s.newSessionRate * 2), 0, 1 << 25));
  if (s.newSessionRate > 0 && s.newSessionBurst < 1)
    in.fail("new_session_burst", "must be at least 1 when new_session_rate is set");
  s.maxUnverifiedSessions =
      static_cast<unsigned>(in.integer("max_unverified_sessions", 1000, 1, 1 << 20));
  s.maxUnverifiedPerClient =
      static_cast<unsigned>(in.integer("max_unverified_per_client", 100, 1, 1 << 20));
  return cfg;
}

MANIFOLD_PROTOCOL("tftp", parseTftpSection);

}  // namespace manifold::tftp
