// Worker half of [tunnel:NAME]: this worker's tun queue, its listen socket(s) (batched receive
// by UdpEndpoint, batched send by TxBatch), its sessions with every peer (session.hpp), a tick
// timer for handshake retries, rekeys, keepalives and path probes, and the boards in shm.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "protocols/tunnel/config.hpp"
#include "protocols/tunnel/gro.hpp"
#include "protocols/tunnel/session.hpp"
#include "protocols/tunnel/tx_batch.hpp"
#include "shm/info_board.hpp"
#include "worker/io_watcher.hpp"
#include "worker/timer.hpp"
#include "worker/udp_endpoint.hpp"

namespace manifold::shm {
class Table;
}

namespace manifold::tunnel {

class TunnelWorker : public Service {
 public:
  TunnelWorker(const TunnelConfig& config, ServiceContext& ctx);
  ~TunnelWorker() override;
  void start() override;
  void stopAccepting() override;
  size_t inFlight() const override { return 0; }

  // ---- used by PeerState ----
  bool encryptAndSend(PeerState& peer, Keypair& kp, std::span<const uint8_t> payload,
                      const Endpoint& to, double now);
  void writeTun(std::span<const uint8_t> packet);
  void startHandshake(PeerState& peer, double now);
  double now() const { return timer_.now(); }
  const TunnelSettings& settings() const { return config_.settings; }
  shm::CounterSlot counters() const { return counters_; }
  TxBatch& tx() { return tx_; }

  // ---- receive (receive.cpp) ----
  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* from, socklen_t fromLen,
                    uint8_t* out, size_t outCap);

 private:
  struct Port : DatagramHandler {
    TunnelWorker* worker = nullptr;
    size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t peerLen,
                      uint8_t* out, size_t outCap) override {
      return worker->onDatagram(in, len, peer, peerLen, out, outCap);
    }
    void onBatchEnd() override { worker->tunWrites_.flush(); }
  };
  struct IndexEntry {
    PeerState* peer = nullptr;
    Keypair* keypair = nullptr;  // nullptr: the peer's pending handshake
  };

  // receive.cpp
  size_t onData(const Message& m, const sockaddr* from, socklen_t fromLen, uint8_t* out,
                size_t outCap);
  size_t onInitiation(const Message& m, const sockaddr* from, socklen_t fromLen, uint8_t* out,
                      size_t outCap);
  size_t onResponse(const Message& m, const sockaddr* from, socklen_t fromLen, uint8_t* out,
                    size_t outCap);
  void onCookieReply(const Message& m);
  void onProbe(PeerState& peer, Keypair& kp, std::span<const uint8_t> payload, const sockaddr* from,
               socklen_t fromLen);
  bool underLoad(double now);
  void roam(PeerState& peer, const sockaddr* from, socklen_t fromLen);

  // relay.cpp: forwards a message for a site we relay for; false when it is not one.
  bool relay(const Message& m, const sockaddr* from, socklen_t fromLen);

  // handshake.cpp
  uint32_t newIndex(PeerState* peer, Keypair* kp);
  void dropKeypair(std::unique_ptr<Keypair>& kp);
  void installKeypair(PeerState& peer, std::unique_ptr<Keypair> kp, bool initiator);
  void flushStaged(PeerState& peer, double now);
  void sendKeepalive(PeerState& peer, double now);
  void tickPeer(PeerState& peer, double now);
  void probePaths(PeerState& peer, double now);

  // service.cpp
  void onTunReadable();
  void onTick();
  void publishBoards();
  PeerState* route(const net::PeerAddress& dst);
  int socketFor(const Endpoint& to) const;

  friend struct PeerState;
  const TunnelConfig& config_;
  ServiceContext ctx_;
  shm::CounterSlot counters_;
  int tunFd_ = -1;
  std::vector<std::unique_ptr<Port>> ports_;
  std::vector<std::unique_ptr<UdpEndpoint>> endpoints_;
  std::unique_ptr<IoWatcher> tunWatcher_;
  Timer timer_;
  Timer closeOthers_;
  TxBatch tx_;
  std::vector<std::unique_ptr<PeerState>> peers_;
  std::unordered_map<uint32_t, IndexEntry> indices_;
  Key cookieSecret_{};
  double cookieSecretTime_ = -1e9;
  double loadWindowStart_ = 0;
  unsigned loadCount_ = 0;
  double lastBoards_ = 0;
  double lastProbe_ = 0;
  shm::InfoBoard* peerBoard_ = nullptr;
  shm::InfoBoard* pathBoard_ = nullptr;
  shm::Table* relayTable_ = nullptr;
  std::vector<uint8_t> tunBuffer_;
  TunWriteBatch tunWrites_;  // decrypted TCP segments coalesced per receive batch  // one read:
                             // vnet header + up to a 64 KiB super-packet
};

}  // namespace manifold::tunnel
