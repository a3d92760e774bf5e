// TunnelWorker lifecycle, the tun side and the boards (see worker.hpp).
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocols/tunnel/gso.hpp"
#include "protocols/tunnel/inner.hpp"
#include "protocols/tunnel/steering.hpp"
#include "protocols/tunnel/warp/transport.hpp"
#include "protocols/tunnel/worker.hpp"
#include "shm/table.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::tunnel {

namespace {
constexpr unsigned kBatch = 64;
constexpr double kTick = 0.05;
size_t datagramBytes(const TunnelConfig& c) {
  return std::max<size_t>(c.tun.mtu, 1500) + kMinDataSize + 64;
}
}  // namespace

bool Endpoint::sameAs(const sockaddr* other, socklen_t otherLen) const {
  return len == otherLen && std::memcmp(&addr, other, otherLen) == 0;
}
void Endpoint::set(const sockaddr* other, socklen_t otherLen) {
  std::memset(&addr, 0, sizeof addr);
  std::memcpy(&addr, other, otherLen);
  len = otherLen;
}

PeerState::PeerState(TunnelWorker& w, const PeerConfig& c, unsigned i)
    : worker(w), config(c), id(i) {
  for (auto& e : c.endpoints) {
    Endpoint p;
    p.set(reinterpret_cast<const sockaddr*>(&e.addr), e.len);
    paths.push_back(p);
  }
  if (!paths.empty()) endpoint = paths[0];
  if (paths.size() > 1)
    selector = std::make_unique<PathSelector>(paths.size(), w.settings().switchMargin,
                                              w.settings().switchAfter);
  if (w.settings().mode == Mode::Warp)
    transport = warp::makeTransport(*this, w.ctx_.loop, w.config_, [&w] { w.tx_.flush(); });
  else
    transport = std::make_unique<DatagramTransport>(*this);
}

bool PeerState::sendPayload(std::span<const uint8_t> payload, double now) {
  const TunnelSettings& s = worker.settings();
  Keypair* kp = current.get();
  bool usable = kp && now - kp->created < s.rejectAfterTime &&
                kp->sendCounter < kRejectAfterMessages && endpoint.valid();
  if (!usable) {
    if (staged.size() < 64) {
      staged.emplace_back(payload.begin(), payload.end());
    } else {
      worker.counters().inc(kDropNoSession);
    }
    if (!next) worker.startHandshake(*this, now);
    return false;
  }
  // Sent first: the payload may sit in the send slot the initiation would take.
  bool sent = worker.encryptAndSend(*this, *kp, payload, endpoint, now);
  if (!pending.active && ((kp->initiator && now - kp->created >= s.rekeyAfterTime) ||
                          kp->sendCounter >= s.rekeyAfterMessages)) {
    worker.counters().inc(kRekeys);
    worker.startHandshake(*this, now);
  }
  return sent;
}

void PeerState::deliverInner(std::span<const uint8_t> packet) {
  // Checked here, after any transport reassembly: what reaches the tun came from `allowed`.
  net::PeerAddress src, dst;
  if (!innerAddresses(packet, src, dst) || !net::anyContains(config.allowed, src)) {
    worker.counters().inc(kDropInnerSource);
    return;
  }
  worker.writeTun(packet);
}

TunnelWorker::TunnelWorker(const TunnelConfig& config, ServiceContext& ctx)
    : config_(config),
      ctx_(ctx),
      counters_(ctx.counters),
      timer_(ctx.loop, [this] { onTick(); }),
      closeOthers_(ctx.loop, [] { TunDevice::closeUnclaimed(); }),
      tx_(kBatch, datagramBytes(config)),
      tunBuffer_(kVnetHeaderSize + 65536),
      tunWrites_([this](std::span<const uint8_t> header, std::span<const uint8_t> packet) {
        // A full tun queue drops, as a full NIC ring would; the inner protocol recovers.
        iovec iov[2] = {{const_cast<uint8_t*>(header.data()), header.size()},
                        {const_cast<uint8_t*>(packet.data()), packet.size()}};
        (void)!writev(tunFd_, iov, 2);
      }) {
  if (ctx.workerIndex < config.queues.size()) {
    tunFd_ = config.queues[ctx.workerIndex];
    TunDevice::claim(tunFd_);
  }
  for (int fd : ctx.fds) {
    if (!attachLaneSteering(fd, ctx.workerCount))
      LOG_WARN("[%s]: lane steering not attached: %s", config.title().c_str(), strerror(errno));
    auto port = std::make_unique<Port>();
    port->worker = this;
    endpoints_.push_back(
        std::make_unique<UdpEndpoint>(*ctx.runtime, fd, *port, kBatch, datagramBytes(config)));
    ports_.push_back(std::move(port));
  }
  for (size_t i = 0; i < config.peers.size(); ++i)
    peers_.push_back(std::make_unique<PeerState>(*this, config.peers[i], static_cast<unsigned>(i)));
  size_t boardRows = std::max<size_t>(1, config.peers.size() * std::max(1u, config.workerSlots));
  if (ctx.regions.size() > 1) {
    peerBoard_ = shm::InfoBoard::at(ctx.regions[0], shm::InfoBoard::bytesFor(boardRows));
    pathBoard_ = shm::InfoBoard::at(ctx.regions[1], shm::InfoBoard::bytesFor(config.pathRows()));
  }
  if (ctx.regions.size() > 2) relayTable_ = shm::Table::at(ctx.regions[2]);
}

TunnelWorker::~TunnelWorker() = default;

void TunnelWorker::start() {
  for (auto& e : endpoints_) e->start();
  if (tunFd_ >= 0) {
    tunWatcher_ = std::make_unique<IoWatcher>(ctx_.loop, [this](int) { onTunReadable(); });
    tunWatcher_->start(tunFd_, IoWatcher::kRead);
  } else if (config_.hasDevice) {
    LOG_ERROR("[%s]: no tun queue for worker %u", config_.title().c_str(), ctx_.workerIndex);
  }
  closeOthers_.once(0);
  timer_.repeat(kTick);
}

void TunnelWorker::stopAccepting() {
  for (auto& e : endpoints_) e->stop();
  if (tunWatcher_) tunWatcher_->stop();
  timer_.stop();
}

int TunnelWorker::socketFor(const Endpoint& to) const {
  for (size_t i = 0; i < ctx_.fds.size() && i < config_.listen.size(); ++i)
    if (config_.listen[i].family() == to.addr.ss_family) return ctx_.fds[i];
  return ctx_.fds.empty() ? -1 : ctx_.fds[0];
}

PeerState* TunnelWorker::route(const net::PeerAddress& dst) {
  PeerState* best = nullptr;
  int bestPrefix = -1;
  for (auto& p : peers_)
    for (const net::Cidr& c : p->config.allowed)
      if (c.prefix > bestPrefix && c.contains(dst)) {
        best = p.get();
        bestPrefix = c.prefix;
      }
  return best;
}

void TunnelWorker::onTunReadable() {
  const double now = timer_.now();
  const size_t cap = tx_.slotBytes() - kMinDataSize;
  for (unsigned i = 0; i < kBatch; ++i) {
    ssize_t n = read(tunFd_, tunBuffer_.data(), tunBuffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // The device went away (re-created by a reload): this generation is on its way out.
        LOG_WARN("[%s]: tun read: %s", config_.title().c_str(), strerror(errno));
        tunWatcher_->stop();
      }
      break;
    }
    TunRead read;
    if (!read.parse({tunBuffer_.data(), static_cast<size_t>(n)})) continue;
    for (size_t k = 0; k < read.count(); ++k) {
      uint8_t* packet = tx_.slot() + kDataHeaderSize;
      size_t len = read.segment(k, packet, cap);
      net::PeerAddress src, dst;
      std::span<const uint8_t> p(packet, len);
      if (!len || !innerAddresses(p, src, dst)) break;
      PeerState* peer = route(dst);
      if (!peer) {
        counters_.inc(kDropNoRoute);
        break;
      }
      peer->transport->sendInner(p, now);
    }
  }
  tx_.flush();
}

bool TunnelWorker::encryptAndSend(PeerState& peer, Keypair& kp, std::span<const uint8_t> payload,
                                  const Endpoint& to, double now) {
  uint8_t* slot = tx_.slot();
  if (payload.size() + kMinDataSize > tx_.slotBytes()) return false;
  // Inner traffic (IP packets, warp frames), not probes or keepalives; sealed in place below.
  const bool inner = !payload.empty() && payload[0] >= 0x20;
  if (payload.data() != slot + kDataHeaderSize)
    std::memmove(slot + kDataHeaderSize, payload.data(), payload.size());
  storeHeader(slot, MessageType::Data);
  storeLe32(slot + data::kReceiver, kp.remoteIndex);
  storeLe64(slot + data::kCounter, kp.sendCounter);
  seal(slot + kDataHeaderSize, kp.keys.send.data(), kp.sendCounter++,
       {slot + kDataHeaderSize, payload.size()}, {});
  tx_.commit(socketFor(to), payload.size() + kMinDataSize, to.sa(), to.len);
  peer.lastSent = now;
  if (inner) {
    peer.keepaliveOwed = false;
    ++peer.txPackets;
    peer.txBytes += payload.size();
    counters_.inc(kTxPackets);
    counters_.add(kTxBytes, payload.size());
  }
  return true;
}

void TunnelWorker::writeTun(std::span<const uint8_t> packet) {
  if (tunFd_ >= 0) tunWrites_.add(packet);
}

void TunnelWorker::onTick() {
  const double now = timer_.now();
  bool probeRound = now - lastProbe_ >= config_.settings.probeInterval;
  if (probeRound) lastProbe_ = now;
  tunWrites_.flush();
  for (auto& p : peers_) {
    tickPeer(*p, now);
    if (probeRound && p->selector) probePaths(*p, now);
    p->transport->onTick(now);
  }
  tx_.flush();
  if (now - lastBoards_ >= 1.0) {
    lastBoards_ = now;
    publishBoards();
  }
}

void TunnelWorker::publishBoards() {
  unsigned slots = std::max(1u, config_.workerSlots);
  unsigned pathBase = 0;
  uint64_t up = 0;
  for (auto& p : peers_) {
    if (p->current) ++up;
    size_t chosen = p->selector ? p->selector->chosen() : 0;
    if (peerBoard_) {
      char endpoint[64] = "";
      if (p->endpoint.valid()) {
        std::string text = net::toString(net::peerAddress(p->endpoint.sa())) + ":" +
                           std::to_string(net::peerPort(p->endpoint.sa()));
        std::snprintf(endpoint, sizeof endpoint, "%s", text.c_str());
      }
      uint64_t rtt = p->selector ? static_cast<uint64_t>(p->selector->rtt(chosen) * 1e6) : 0;
      uint64_t loss = p->selector ? static_cast<uint64_t>(p->selector->loss(chosen) * 1000) : 0;
      peerBoard_->set(
          p->id * slots + ctx_.slot,
          {{"tunnel", config_.name},
           {"peer", p->config.name},
           {"worker", std::to_string(ctx_.workerIndex)},
           {"endpoint", endpoint},
           {"path", std::to_string(chosen)}},
          {p->rxBytes, p->txBytes, p->rxPackets, p->txPackets,
           static_cast<uint64_t>(p->lastHandshake), rtt, loss, p->transport->retransmissions()});
    }
    if (p->selector && pathBoard_) {
      for (size_t i = 0; i < p->paths.size(); ++i) {
        const Endpoint& e = p->paths[i];
        std::string text =
            net::toString(net::peerAddress(e.sa())) + ":" + std::to_string(net::peerPort(e.sa()));
        pathBoard_->set(
            (pathBase + i) * slots + ctx_.slot,
            {{"tunnel", config_.name},
             {"peer", p->config.name},
             {"worker", std::to_string(ctx_.workerIndex)},
             {"path", std::to_string(i)},
             {"endpoint", text}},
            {static_cast<uint64_t>(p->selector->rtt(i) * 1e6),
             static_cast<uint64_t>(p->selector->loss(i) * 1000), p->selector->probesSent(i),
             p->selector->probesAnswered(i), i == chosen ? 1u : 0u});
      }
      pathBase += static_cast<unsigned>(p->paths.size());
    }
  }
  counters_.set(kPeersUp, up);
  uint64_t oversized = 0;
  for (auto& e : endpoints_) oversized += e->truncatedDrops();
  counters_.set(kDropOversized, oversized);
  counters_.set(kTunCoalesced, tunWrites_.merged());
}

std::unique_ptr<Service> TunnelConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<TunnelWorker>(*this, ctx);
}

}  // namespace manifold::tunnel
