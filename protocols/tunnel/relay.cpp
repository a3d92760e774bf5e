// TunnelWorker: forwarding sessions between two sites this instance relays for, holding none
// of their keys (PROTOCOL.md, "Relays"). Where each index's owner was last seen is kept in a shm
// table, since the messages of one session reach different workers (each is steered by the
// lane of its receiver index).
#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "protocols/tunnel/worker.hpp"
#include "shm/table.hpp"

namespace manifold::tunnel {

namespace {
// The relay table's value: where an index's owner was last seen.
struct RelayAddress {
  uint16_t family;
  uint16_t port;  // network order
  uint8_t addr[16];
};
}  // namespace

bool TunnelWorker::relay(const Message& m, const sockaddr* from, socklen_t) {
  if (!relayTable_) return false;
  auto key = [](uint32_t index) {
    return std::string(reinterpret_cast<const char*>(&index), sizeof index);
  };
  auto learn = [&](uint32_t index) {
    if (!from) return;
    RelayAddress a{};
    a.family = from->sa_family;
    a.port = htons(net::peerPort(from));
    net::PeerAddress p = net::peerAddress(from);
    std::memcpy(a.addr, p.raw(), p.rawLength());
    relayTable_->put(key(index), {reinterpret_cast<const uint8_t*>(&a), sizeof a});
  };
  Endpoint to;
  if (m.type == MessageType::Initiation) {
    const RelayTarget* target = nullptr;
    for (auto& r : config_.relays)
      if (mac1Valid(m.bytes, r.mac1Key)) target = &r;
    if (!target) return false;
    learn(m.index);
    to.set(reinterpret_cast<const sockaddr*>(&target->endpoint.addr), target->endpoint.len);
  } else {
    if (m.type == MessageType::Response) {
      bool known = false;
      for (auto& r : config_.relays) known = known || mac1Valid(m.bytes, r.mac1Key);
      if (!known) return false;
      learn(loadLe32(m.bytes.data() + response::kSender));
    }
    RelayAddress a{};
    bool found = relayTable_->find(key(m.index), [&](std::span<const uint8_t> v) {
      if (v.size() == sizeof a) std::memcpy(&a, v.data(), sizeof a);
    });
    if (!found || (a.family != AF_INET && a.family != AF_INET6)) return false;
    if (a.family == AF_INET) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = a.port;
      std::memcpy(&sin.sin_addr, a.addr, 4);
      to.set(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    } else {
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_port = a.port;
      std::memcpy(&sin6.sin6_addr, a.addr, 16);
      to.set(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
    }
  }
  std::memcpy(tx_.slot(), m.bytes.data(), std::min(m.bytes.size(), tx_.slotBytes()));
  tx_.commit(socketFor(to), std::min(m.bytes.size(), tx_.slotBytes()), to.sa(), to.len);
  counters_.inc(kRelayed);
  return true;
}

}  // namespace manifold::tunnel
