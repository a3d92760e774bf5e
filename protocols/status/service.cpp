// [status:NAME] worker half: every service's shm counters over HTTP, on its own listen address,
// and the dashboard when asked for (paths and output in README.md, rendering in metrics.cpp and
// page.cpp). It reads the same "stats" region
// as manifold-shm, so new protocols' counters appear here without any change to this folder.
#include <string>

#include "protocols/http/response.hpp"
#include "protocols/http/server.hpp"
#include "protocols/http/site_binding.hpp"
#include "protocols/status/board.hpp"
#include "protocols/status/config.hpp"
#include "protocols/status/metrics.hpp"
#include "protocols/status/page.hpp"
#include "shm/segment.hpp"
#include "shm/stats.hpp"
#include "worker/runtime.hpp"

namespace manifold::status {

namespace {

using http::Exchange;

class StatusHandler : public http::RequestHandler {
 public:
  StatusHandler(shm::Segment* segment, const StatusConfig& config)
      : segment_(segment), config_(config) {}

  void onRequest(Exchange& ex) override {
    const auto& req = ex.request();
    const bool page = config_.dashboard && isDashboardPath(req.path);
    if (!net::anyContains(page ? config_.dashboardAllow : config_.allow,
                          net::peerAddress(ex.connection().peerAddress())))
      return ex.sendError(403);
    if (!req.isHeadOrGet()) return ex.sendError(405, "Allow: GET, HEAD\r\n");
    const void* base = segment_ ? segment_->findRegion("stats") : nullptr;
    const shm::StatsRegion* stats = base ? shm::StatsRegion::at(base) : nullptr;
    if (!stats) return ex.sendError(503);
    body_.clear();
    std::string_view type;
    std::string disposition;
    if (req.path == "/metrics") {
      appendPrometheus(*stats, segment_->header(), body_, segment_);
      type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (req.path == "/metrics.json") {
      appendJson(*stats, segment_->header(), body_, segment_);
      type = "application/json";
    } else if (!page) {
      return ex.sendError(404);
    } else if (req.path == "/") {
      renderHtml(takeBoard(*segment_), config_.dashboardIntervalMs, body_);
      type = "text/html; charset=utf-8";
    } else if (req.path == "/dashboard.json") {
      renderJson(takeBoard(*segment_), config_.dashboardIntervalMs, body_);
      type = "application/json";
    } else {
      const Board board = takeBoard(*segment_);
      const std::string_view id = req.path.substr(1, req.path.size() - 5);
      const Table* table = board.find(id);
      if (!table) return ex.sendError(404);
      renderCsv(*table, body_);
      type = "text/csv; charset=utf-8; header=present";
      disposition = "attachment; filename=\"" + board.instance + "-" + table->id + ".csv\"";
    }
    ex.beginResponse(200);
    http::appendHeader(ex.out(), "Content-Type", type);
    http::appendHeader(ex.out(), "Content-Length", body_.size());
    if (!disposition.empty()) http::appendHeader(ex.out(), "Content-Disposition", disposition);
    // The page loads nothing from anywhere: its style and script are inline, it fetches only
    // its own JSON and the page itself (after a reload changed the tables).
    if (page)
      ex.out().append(
          "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
          "script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'\r\n"
          "X-Content-Type-Options: nosniff\r\n");
    ex.out().append("Cache-Control: no-store\r\n");
    ex.endHeaders();
    if (!ex.head()) ex.out().append(body_);
    ex.finish(200, ex.head() ? 0 : body_.size());
  }

 private:
  static bool isDashboardPath(std::string_view path) {
    return path == "/" || path == "/dashboard.json" ||
           (path.size() > 5 && path.ends_with(".csv") && path.find('/', 1) == path.npos);
  }

  shm::Segment* segment_;
  const StatusConfig& config_;
  std::string body_;  // reused: no allocation per scrape once it has grown
};

class StatusService : public Service {
 public:
  StatusService(const StatusConfig& config, ServiceContext& ctx)
      : ctx_(ctx), handler_(ctx.segment, config), binding_(*ctx.runtime, site_) {
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
