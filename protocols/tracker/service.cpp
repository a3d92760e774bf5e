// [tracker:NAME] worker half: the BEP 15 datagram handler on every UDP socket, the BEP 3 HTTP
// handler on every TCP socket (through the HTTP engine), and in the one worker that runs
// instance tasks the sweep that expires peers, reclaims empty torrents and publishes the gauges.
#include <memory>
#include <vector>

#include "protocols/http/site_binding.hpp"
#include "protocols/tracker/config.hpp"
#include "protocols/tracker/http_handler.hpp"
#include "protocols/tracker/tracker.hpp"
#include "protocols/tracker/udp_handler.hpp"
#include "protocols/tracker/ws_handler.hpp"
#include "shm/huge_pages.hpp"
#include "worker/runtime.hpp"
#include "worker/timer.hpp"
#include "worker/udp_endpoint.hpp"

namespace manifold::tracker {

namespace {

class TrackerService : public Service {
 public:
  TrackerService(const TrackerConfig& config, ServiceContext& ctx)
      : config_(config),
        ctx_(ctx),
        tracker_(config, ctx_),
        udp_(tracker_),
        hub_(config.ws ? std::make_unique<WsHub>(tracker_, ctx_) : nullptr),
        http_(tracker_, hub_.get()),
        binding_(*ctx_.runtime, site_),
        cleanTimer_(ctx_.loop, [this] { clean(); }) {
    site_.title = config.title();
    site_.handler = &http_;
    site_.counters = ctx_.counters;
    site_.limits = &config.limits;
    site_.isDefault = true;
    site_.names = {"*"};
    const size_t first = config.tlsRegionFirst();
    auto region = [&](size_t i) { return i < ctx_.regions.size() ? ctx_.regions[i] : nullptr; };
    config.tls.describe(site_, region(first), region(first + 1));
  }

  void start() override {
    // ctx_.fds holds, per listen address, the UDP socket (if udp) then the TCP one (if http).
    std::vector<int> httpFds;
    size_t i = 0;
    for (size_t a = 0; a < config_.listen.size(); ++a) {
      if (config_.udp) {
        endpoints_.push_back(std::make_unique<UdpEndpoint>(*ctx_.runtime, ctx_.fds.at(i++), udp_));
        endpoints_.back()->start();
      }
      if (config_.http) httpFds.push_back(ctx_.fds.at(i++));
    }
    if (hub_) hub_->start();
    binding_.start(httpFds);
    if (ctx_.runtime->runsInstanceTasks() && tracker_.ready())
      cleanTimer_.repeat(config_.cleanInterval);
  }
  void stopAccepting() override {
    for (auto& e : endpoints_) e->stop();
    binding_.stop();
    cleanTimer_.stop();
  }
  void closeIdle() override {
    if (hub_) hub_->closeAll();
  }
  size_t inFlight() const override { return 0; }

 private:
  void clean() {
    auto& store = tracker_.store();
    CleanTotals t = store.clean(tracker_.now(), config_.peerTimeout, config_.torrentTimeout);
    shm::CounterSlot c = ctx_.counters;
    c.set(kTorrents, t.torrents);
    c.set(kPeers, t.peers);
    c.set(kSeeders, t.seeders);
    c.set(kLeechers, t.leechers);
    c.set(kSwarmBytes, store.arenaUsed());
    c.set(kSwarmHugeBytes, shm::hugeMappedBytes(store.base()));
    if (hub_ && hub_->ready())
      c.set(kWsPeers, hub_->store().clean(tracker_.now(), config_.wsPeerTimeout).peers);
  }

  const TrackerConfig& config_;
  ServiceContext ctx_;
  Tracker tracker_;
  UdpHandler udp_;
  std::unique_ptr<WsHub> hub_;
  HttpHandler http_;
  http::Site site_;
  http::SiteBinding binding_;
  std::vector<std::unique_ptr<UdpEndpoint>> endpoints_;
  Timer cleanTimer_;
};

}  // namespace

std::unique_ptr<Service> TrackerConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<TrackerService>(*this, ctx);
}

}  // namespace manifold::tracker
