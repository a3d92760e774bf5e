#include "tools/shm/swarm.hpp"

#include <arpa/inet.h>

#include <ctime>
#include <stdexcept>
#include <vector>

#include "protocols/tracker/access_list.hpp"
#include "protocols/tracker/swarm_store.hpp"

namespace manifold::shmtool {

namespace {

std::string peerText(const tracker::PeerInfo& p) {
  const size_t kb = tracker::kKeyBytes[p.family];
  char text[INET6_ADDRSTRLEN];
  inet_ntop(p.family == tracker::kV4 ? AF_INET : AF_INET6, p.key, text, sizeof text);
  const std::string port = std::to_string(p.key[kb - 2] << 8 | p.key[kb - 1]);
  return p.family == tracker::kV4 ? std::string(text) + ":" + port
                                  : "[" + std::string(text) + "]:" + port;
}

}  // namespace

std::string renderSwarm(const shm::Segment& segment, const std::string& hexHash, bool json) {
  uint8_t hash[20];
  if (hexHash.size() != 40 || !tracker::parseHexHash(hexHash, hash))
    throw std::runtime_error("swarm: '" + hexHash + "' is not an info hash (40 hex digits)");
  // The trackers' clock: whole seconds of the event loop's (wall) time.
  const auto now = static_cast<uint32_t>(time(nullptr));
  std::string out = json ? "{\"info_hash\":\"" + hexHash + "\",\"trackers\":[" : "";
  bool any = false, first = true;
  for (const shm::RegionInfo& r : segment.regions()) {
    const std::string suffix = "/swarms";
    if (r.state != shm::RegionState::Live || r.name.size() <= suffix.size() ||
        r.name.compare(r.name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    any = true;
    const std::string tracker = r.name.substr(0, r.name.size() - suffix.size());
    tracker::ScrapeCounts c;
    std::vector<tracker::PeerInfo> peers;
    const bool known = tracker::SwarmStore::peek(
        static_cast<const char*>(segment.base()) + r.offset, r.bytes, hash, now, c, peers);
    if (json) {
      out += std::string(first ? "" : ",") + "{\"tracker\":\"" + tracker +
             "\",\"known\":" + (known ? "true" : "false") +
             ",\"seeders\":" + std::to_string(c.seeders) +
             ",\"leechers\":" + std::to_string(c.leechers) +
             ",\"downloaded\":" + std::to_string(c.downloaded) + ",\"peers\":[";
      for (size_t i = 0; i < peers.size(); ++i)
        out += std::string(i ? "," : "") + "{\"address\":\"" + peerText(peers[i]) +
               "\",\"seeder\":" + (peers[i].seeder ? "true" : "false") +
               ",\"age_seconds\":" + std::to_string(peers[i].age) + "}";
      out += "]}";
    } else if (!known) {
      out += tracker + ": " + hexHash + " not tracked\n";
    } else {
      out += tracker + ": " + hexHash + "\n  seeders " + std::to_string(c.seeders) + "  leechers " +
             std::to_string(c.leechers) + "  downloaded " + std::to_string(c.downloaded) + "\n";
      for (const auto& p : peers)
        out += "  " + peerText(p) + (p.seeder ? "  seeder" : "  leecher") + "  last seen " +
               std::to_string(p.age) + "s ago\n";
    }
    first = false;
  }
  if (!any) throw std::runtime_error("swarm: this instance runs no tracker");
  if (json) out += "]}\n";
  return out;
}

}  // namespace manifold::shmtool
