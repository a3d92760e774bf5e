// Worker half of [fs:NAME]: a ProxyService (listeners, relay pool, connector, balancer, health
// checks, cache) whose reads are placed by stage and path (candidates()) and whose writes fan
// out to the replicas (FanOut); COPY and MOVE are done node to node (Transfer).
#pragma once

#include <list>
#include <memory>
#include <vector>

#include "protocols/fs/config.hpp"
#include "protocols/fs/deleted.hpp"
#include "protocols/fs/fanout.hpp"
#include "protocols/fs/node_client.hpp"
#include "protocols/fs/repair.hpp"
#include "protocols/fs/transfer.hpp"
#include "protocols/http/date.hpp"
#include "protocols/proxy/service.hpp"

namespace manifold::fs {

class FsService : public proxy::ProxyService {
 public:
  FsService(const FsConfig& config, ServiceContext& ctx);
  ~FsService() override;

  void start() override;
  void stopAccepting() override;
  void onRequest(http::Exchange& ex) override;
  void onBody(http::Exchange& ex, std::string_view data) override;
  void onBodyEnd(http::Exchange& ex) override;
  void onAbort(http::Exchange& ex) override;

  std::span<const int> candidates(std::string_view path) const override;
  const FsConfig& fsConfig() const { return config_; }
  shm::CounterSlot fsCounters() const { return counters().from(config_.fsCounterBase()); }
  // A write reached some nodes: the shared cache (cache = on) forgets `target` of `host`.
  void invalidate(std::string_view host, std::string_view target);
  // A fan-out that finished asks to be destroyed from the loop, outside its own callbacks.
  void collectSoon();
  DeletedPaths* deletedPaths() { return deleted_.get(); }
  // Buffers a fan-out borrows for its request head and body replay and gives back when it
  // goes: their capacity stays, so a PUT in steady state allocates none.
  std::string takeBuffer();
  void giveBuffer(std::string&& buffer);
  // The router's Date for writes, formatted once per second.
  std::string_view date();

 private:
  void collect();
  // COPY and MOVE (transfer.hpp): the headers checked here, the work done node to node; also
  // a collection's DELETE.
  void startTransfer(http::Exchange& ex);
  void launchTransfer(http::Exchange& ex, Transfer::Order order);
  const FsConfig& config_;
  std::vector<std::string> spare_;  // takeBuffer; before writes_: they give theirs back
  time_t dateOf_ = 0;
  char date_[http::kHttpDateLength] = {};
  std::list<std::unique_ptr<FanOut>> writes_;
  Timer collector_;
  std::unique_ptr<Repairer> repairer_;  // the worker that runs instance tasks, repair = on
  // COPY, MOVE and collection DELETEs' node requests, made on first use.
  std::unique_ptr<NodeClient> transfers_;
  std::unique_ptr<DeletedPaths> deleted_;  // tombstone_memory > 0
  mutable std::vector<int> ranked_;        // scratch
};

}  // namespace manifold::fs
