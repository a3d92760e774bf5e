// The worker half of [dns:NAME]: answers queries from the batched UDP endpoints and the TCP
// sessions (tcp_session.hpp), answers zone transfers (transfer.hpp), applies RRL to UDP answers,
// counts, and runs the health prober and the NOTIFY sender (notify.hpp) in the one worker that
// runs instance tasks.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "protocols/dns/config.hpp"
#include "protocols/dns/secondary.hpp"
#include "protocols/service.hpp"
#include "shm/counters.hpp"
#include "worker/acceptor.hpp"
#include "worker/connection_quota.hpp"
#include "worker/timer.hpp"
#include "worker/udp_endpoint.hpp"

namespace manifold::shm {
class Table;
}

namespace manifold::dns {

class DnsService : public Service, public DatagramHandler {
 public:
  DnsService(const DnsConfig& config, ServiceContext& ctx);

  void start() override;
  void stopAccepting() override;
  size_t inFlight() const override { return 0; }

  size_t onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t, uint8_t* out,
                    size_t outCap) override;

  // Answers one query; 0 = no reply. For a zone transfer over TCP, `stream` (when given) is set
  // to the zone whose other messages must follow the reply.
  size_t handle(const uint8_t* in, size_t len, const sockaddr* peer, uint8_t* out, size_t cap,
                bool udp, const ZoneTransfer** stream = nullptr);
  const Transfers& transfers() const { return *config_.transfers; }
  const DnsConfig& config() const { return config_; }

  // The TSIG of the last query handled (key null: unsigned), for a transfer's later messages.
  TsigState& tsig() { return tsig_; }
  // The messages after the first of the last incremental IXFR answered (TCP).
  const std::string& ixfrRest() const { return ixfrRest_; }

  uint8_t* tcpBuffer() { return tcpBuffer_.data(); }
  shm::CounterSlot counters() { return ctx_.counters; }

 private:
  void countType(uint16_t t);
  // service_tsig.cpp: verifies q's TSIG into tsig_; 0 when good, else the error reply's length.
  size_t checkTsig(const uint8_t* in, size_t len, const Query& q, uint8_t* out, size_t cap);
  size_t signReply(uint8_t* out, size_t n, size_t cap);
  // service_secondary.cpp: a NOTIFY for one of our secondary zones from its primary (0: not one
  // of ours, answered REFUSED by the caller); SERVFAIL for a secondary zone without a copy.
  size_t answerNotify(const uint8_t* in, size_t len, const Query& q, const sockaddr* peer,
                      uint8_t* out, size_t cap);
  size_t unavailableZone(const Query& q, uint8_t* out, size_t cap);
  void countTransfer(TransferOutcome o);
  void countZone(std::string_view origin, unsigned which);  // per-zone counter, if a zone apex
  void publishZoneGauges();
  void noteTransferOut(std::string_view origin);
  void startNotifier();
  void announceChangedZones();
  bool olderGenerationsGone() const;
  void* region(int slot) const;  // ServiceContext::regions[slot], null when absent

  const DnsConfig& config_;
  ServiceContext ctx_;
  HealthSlot* health_ = nullptr;
  shm::Table* lrrrCache_ = nullptr;
  uint64_t rotation_ = 0;
  TsigState tsig_;
  std::string ixfrRest_;
  Rrl rrl_;
  std::vector<uint8_t> tcpBuffer_;
  std::vector<std::unique_ptr<UdpEndpoint>> udp_;
  ConnectionQuota tcpQuota_;  // declared before the acceptors that pause on it
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unique_ptr<Prober> prober_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<SecondaryClient> secondary_;
  std::unique_ptr<Timer> gauges_;               // zone gauges refreshed (instance-task worker)
  std::unique_ptr<Timer> releaseStale_;         // unmaps older generations' zones (zone_memory.hpp)
  std::unique_ptr<Timer> notifyDelay_;          // NOTIFY waits for the previous generation to exit
  static constexpr double kNotifyWaitMax = 10;  // seconds; a stuck drain does not hold it longer
};

}  // namespace manifold::dns
