// Worker half of [http:NAME]: registers the site on the listener of each of its addresses
// (shared with other sites on the same address) and drains with the worker.
#include "protocols/static/config.hpp"
#include "protocols/static/site.hpp"

namespace manifold::http {

namespace {

class StaticService : public Service {
 public:
  StaticService(const SiteConfig& config, ServiceContext& ctx) : ctx_(ctx), site_(config, ctx_) {}

  void start() override {
    for (int fd : ctx_.fds) {
      Listener& listener = Listener::forFd(*ctx_.runtime, fd);
      listener.addSite(&site_.site());
      listener.start();
      listeners_.push_back(&listener);
    }
  }
  void stopAccepting() override {
    for (Listener* listener : listeners_) listener->stop();
  }
  size_t inFlight() const override { return 0; }  // connections are counted by the runtime
  void reopenLogs() override { site_.reopenLogs(); }

 private:
  ServiceContext ctx_;
  StaticSite site_;
  std::vector<Listener*> listeners_;
};

}  // namespace

std::unique_ptr<Service> SiteConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<StaticService>(*this, ctx);
}

}  // namespace manifold::http
