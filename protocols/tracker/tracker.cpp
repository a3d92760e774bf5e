#include "protocols/tracker/tracker.hpp"

#include <unistd.h>

#include <cstring>

#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::tracker {

Tracker::Tracker(const TrackerConfig& config, ServiceContext& ctx)
    : config_(config),
      ctx_(ctx),
      store_(ctx.regions.at(0)),
      rng_(0x6d616e69666f6c64ull ^ (uint64_t{ctx.workerIndex} << 32) ^
           static_cast<uint64_t>(::getpid())) {
  if (!store_.ok())
    LOG_ERROR("%s: swarm region is not formatted; answering with errors", config.title().c_str());
  else
    ids_ = ConnectionIds(store_.secret(), config.connectionIdLifetime);
}

uint32_t Tracker::now() const { return static_cast<uint32_t>(ctx_.runtime->now()); }

bool Tracker::admits(const uint8_t* infoHash) {
  if (config_.accessList.permits(infoHash)) return true;
  count(kDenied);
  return false;
}

void Tracker::peerKey(const net::PeerAddress& peer, uint16_t port, uint8_t* key) {
  const unsigned addressBytes = peer.rawLength();
  std::memcpy(key, peer.raw(), addressBytes);
  key[addressBytes] = static_cast<uint8_t>(port >> 8);
  key[addressBytes + 1] = static_cast<uint8_t>(port);
}

AnnounceOutput Tracker::announce(AnnounceInput in, const net::PeerAddress& peer, uint16_t port,
                                 uint8_t* peersOut, uint64_t random) {
  uint8_t key[18];
  peerKey(peer, port, key);
  in.family = familyOf(peer);
  in.peerKey = key;
  in.now = now();
  in.peerTimeout = config_.peerTimeout;
  AnnounceOutput res = store_.announce(in, peersOut, random);
  count(res.status == AnnounceStatus::Full ? kRefusedFull : kAnnounces);
  return res;
}

}  // namespace manifold::tracker

namespace manifold::tracker {

ScrapeCounts Tracker::scrape(const uint8_t* infoHash) {
  ScrapeCounts c = store_.scrape(infoHash);
  if (ws_) {
    const ScrapeCounts w = ws_->scrape(infoHash);
    c.seeders += w.seeders;
    c.leechers += w.leechers;
    c.downloaded += w.downloaded;
  }
  return c;
}

}  // namespace manifold::tracker
