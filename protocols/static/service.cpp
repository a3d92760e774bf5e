// Worker half of [http:NAME]: serves the site on the listener of each of its addresses (shared
// with other sites on the same address) and drains with the worker.
#include "protocols/http/site_binding.hpp"
#include "protocols/static/config.hpp"
#include "protocols/static/site.hpp"

namespace manifold::http {

namespace {

class StaticService : public Service {
 public:
  StaticService(const SiteConfig& config, ServiceContext& ctx)
      : ctx_(ctx), site_(config, ctx_), binding_(*ctx_.runtime, site_.site()) {}

  void start() override {
    site_.start();
    binding_.start(ctx_.fds);
  }
  void stopAccepting() override {
    binding_.stop();
    site_.stop();
  }
  size_t inFlight() const override { return 0; }  // connections are counted by the runtime
  void reopenLogs() override { site_.reopenLogs(); }

 private:
  ServiceContext ctx_;
  StaticSite site_;
  SiteBinding binding_;
};

}  // namespace

std::unique_ptr<Service> SiteConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<StaticService>(*this, ctx);
}

}  // namespace manifold::http
