// [status:NAME]: every service's shm counters over HTTP, on its own listen address.
//   GET /metrics       Prometheus text exposition (counters summed over workers)
//   GET /metrics.json  {"generation":..,"workers":[..],"services":[{"title":..,"counters":{..}}]}
// It reads the same "stats" region as manifold-shm, so new protocols' counters appear here
// without any change to this file.
#include <string>

#include "protocols/http/limits_config.hpp"
#include "protocols/http/response.hpp"
#include "protocols/http/server.hpp"
#include "protocols/service.hpp"
#include "shm/segment.hpp"
#include "shm/stats.hpp"
#include "worker/runtime.hpp"

namespace manifold::status {

namespace {

using http::Exchange;

void appendLabelValue(std::string& out, std::string_view value) {
  for (char ch : value) {
    if (ch == '\\' || ch == '"') out.push_back('\\');
    if (ch == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(ch);
  }
}

void appendJsonString(std::string& out, std::string_view value) {
  out.push_back('"');
  for (unsigned char ch : value) {
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(ch));
    } else if (ch < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", ch);
      out.append(buf);
    } else {
      out.push_back(static_cast<char>(ch));
    }
  }
  out.push_back('"');
}

class StatusHandler : public http::RequestHandler {
 public:
  explicit StatusHandler(shm::Segment* segment) : segment_(segment) {}

  void onRequest(Exchange& ex) override {
    const auto& req = ex.request();
    if (!req.isHeadOrGet()) return ex.sendError(405, "Allow: GET, HEAD\r\n");
    const void* base = segment_ ? segment_->findRegion("stats") : nullptr;
    const shm::StatsRegion* stats = base ? shm::StatsRegion::at(base) : nullptr;
    if (!stats) return ex.sendError(503);
    std::string body;
    std::string_view type;
    if (req.path == "/metrics") {
      prometheus(*stats, body);
      type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (req.path == "/metrics.json") {
      json(*stats, body);
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
  void prometheus(const shm::StatsRegion& stats, std::string& out) {
    // One metric family per (protocol, counter), labelled by service.
    for (unsigned s = 0; s < stats.serviceCount(); ++s) {
      std::string_view protocol = stats.serviceProtocol(s);
      std::string_view title = stats.serviceTitle(s);
      for (unsigned c = 0; c < stats.counterCount(s); ++c) {
        std::string metric = "manifold_" + std::string(protocol) + "_" + std::string(stats.counterName(s, c));
        bool gauge = stats.counterKind(s, c) == 1;
        if (!gauge && !metric.ends_with("_total")) metric += "_total";
        out += "# TYPE " + metric + (gauge ? " gauge\n" : " counter\n");
        out += metric + "{service=\"";
        appendLabelValue(out, title);
        out += "\"} " + std::to_string(stats.sum(s, c)) + "\n";
      }
    }
    unsigned workers = 0;
    for (unsigned slot = 0; slot < stats.slotCount(); ++slot)
      if (stats.worker(slot).state == 2) ++workers;
    out += "# TYPE manifold_workers_ready gauge\nmanifold_workers_ready " + std::to_string(workers) + "\n";
    const auto& header = segment_->header();
    out += "# TYPE manifold_generation gauge\nmanifold_generation " + std::to_string(header.generation) + "\n";
    out += "# TYPE manifold_reloads_total counter\nmanifold_reloads_total " + std::to_string(header.reloads) + "\n";
    out += "# TYPE manifold_reloads_failed_total counter\nmanifold_reloads_failed_total " +
           std::to_string(header.failedReloads) + "\n";
  }

  void json(const shm::StatsRegion& stats, std::string& out) {
    const auto& header = segment_->header();
    out += "{\"generation\":" + std::to_string(header.generation) +
           ",\"reloads\":" + std::to_string(header.reloads) +
           ",\"failed_reloads\":" + std::to_string(header.failedReloads) + ",\"workers\":[";
    bool first = true;
    for (unsigned slot = 0; slot < stats.slotCount(); ++slot) {
      const auto& w = stats.worker(slot);
      if (w.state == 0) continue;
      out += first ? "" : ",";
      first = false;
      out += "{\"slot\":" + std::to_string(slot) + ",\"index\":" + std::to_string(w.index) +
             ",\"pid\":" + std::to_string(w.pid) + ",\"generation\":" + std::to_string(w.generation) +
             ",\"state\":" + std::to_string(w.state) + ",\"restarts\":" + std::to_string(w.restarts) + "}";
    }
    out += "],\"services\":[";
    for (unsigned s = 0; s < stats.serviceCount(); ++s) {
      out += s ? ",{\"title\":" : "{\"title\":";
      appendJsonString(out, stats.serviceTitle(s));
      out += ",\"protocol\":";
      appendJsonString(out, stats.serviceProtocol(s));
      out += ",\"counters\":{";
      for (unsigned c = 0; c < stats.counterCount(s); ++c) {
        out += c ? "," : "";
        appendJsonString(out, stats.counterName(s, c));
        out += ":" + std::to_string(stats.sum(s, c));
      }
      out += "}}";
    }
    out += "]}\n";
  }

  shm::Segment* segment_;
};

struct StatusConfig : ServiceConfig {
  std::vector<config::ListenAddress> listen;
  int line = 0;
  http::ServerLimits limits;

  std::vector<ListenRequest> listeners() const override {
    return listenRequests(listen, line, false, true);
  }
  std::vector<CounterSpec> counters() const override { return http::httpCounters(); }
  std::unique_ptr<Service> createService(ServiceContext& ctx) const override;
};

class StatusService : public Service {
 public:
  StatusService(const StatusConfig& config, ServiceContext& ctx)
      : ctx_(ctx), handler_(ctx.segment) {
    site_.title = config.title();
    site_.handler = &handler_;
    site_.counters = ctx.counters;
    site_.limits = &config.limits;
  }
  void start() override {
    for (int fd : ctx_.fds) {
      auto& listener = http::Listener::forFd(*ctx_.runtime, fd);
      listener.addSite(&site_);
      listener.start();
      listeners_.push_back(&listener);
    }
  }
  void stopAccepting() override {
    for (auto* listener : listeners_) listener->stop();
  }
  size_t inFlight() const override { return 0; }

 private:
  ServiceContext ctx_;
  StatusHandler handler_;
  http::Site site_;
  std::vector<http::Listener*> listeners_;
};

std::unique_ptr<Service> StatusConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<StatusService>(*this, ctx);
}

std::unique_ptr<ServiceConfig> parseStatusSection(config::SectionReader& in) {
  auto status = std::make_unique<StatusConfig>();
  status->listen = in.listen("listen");
  status->line = in.lineOf("listen");
  status->limits = http::readConnectionLimits(in);
  return status;
}

}  // namespace

MANIFOLD_PROTOCOL("status", parseStatusSection);

}  // namespace manifold::status
