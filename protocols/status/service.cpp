// [status:NAME] worker half: every service's shm counters over HTTP, on its own listen address
// (paths and output in README.md, rendering in metrics.cpp). It reads the same "stats" region
// as manifold-shm, so new protocols' counters appear here without any change to this folder.
#include <string>

#include "protocols/http/response.hpp"
#include "protocols/http/server.hpp"
#include "protocols/http/site_binding.hpp"
#include "protocols/status/config.hpp"
#include "protocols/status/metrics.hpp"
#include "shm/segment.hpp"
#include "shm/stats.hpp"
#include "worker/runtime.hpp"

namespace manifold::status {

namespace {

using http::Exchange;

class StatusHandler : public http::RequestHandler {
 public:
  StatusHandler(shm::Segment* segment, const std::vector<net::Cidr>& allow)
      : segment_(segment), allow_(allow) {}

  void onRequest(Exchange& ex) override {
    const auto& req = ex.request();
    if (!net::anyContains(allow_, net::peerAddress(ex.connection().peerAddress())))
      return ex.sendError(403);
    if (!req.isHeadOrGet()) return ex.sendError(405, "Allow: GET, HEAD\r\n");
    const void* base = segment_ ? segment_->findRegion("stats") : nullptr;
    const shm::StatsRegion* stats = base ? shm::StatsRegion::at(base) : nullptr;
    if (!stats) return ex.sendError(503);
    std::string body;
    std::string_view type;
    if (req.path == "/metrics") {
      appendPrometheus(*stats, segment_->header(), body, segment_);
      type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (req.path == "/metrics.json") {
      appendJson(*stats, segment_->header(), body, segment_);
      type = "application/json";
    } else {
      return ex.sendError(404);
    }
    ex.beginResponse(200);
    http::appendHeader(ex.out(), "Content-Type", type);
    http::appendHeader(ex.out(), "Content-Length", body.size());
    ex.out().append("Cache-Control: no-store\r\n");
    ex.endHeaders();
    if (!ex.head()) ex.out().append(body);
    ex.finish(200, ex.head() ? 0 : body.size());
  }

 private:
  shm::Segment* segment_;
  const std::vector<net::Cidr>& allow_;
};

class StatusService : public Service {
 public:
  StatusService(const StatusConfig& config, ServiceContext& ctx)
      : ctx_(ctx), handler_(ctx.segment, config.allow), binding_(*ctx.runtime, site_) {
    site_.title = config.title();
    site_.handler = &handler_;
    site_.counters = ctx.counters;
    site_.limits = &config.limits;
  }
  void start() override { binding_.start(ctx_.fds); }
  void stopAccepting() override { binding_.stop(); }
  size_t inFlight() const override { return 0; }

 private:
  ServiceContext ctx_;
  StatusHandler handler_;
  http::Site site_;
  http::SiteBinding binding_;
};

}  // namespace

std::unique_ptr<Service> StatusConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<StatusService>(*this, ctx);
}

}  // namespace manifold::status
