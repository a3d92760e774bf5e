#include "protocols/fs/service.hpp"

#include "protocols/fs/transfer.hpp"
#include "protocols/proxy/counters.hpp"
#include "worker/runtime.hpp"

namespace manifold::fs {

namespace {

// The exchange's hold on its fan-out, cleared when the fan-out lets go.
struct WriteLink : http::ExchangeState {
  FanOut* write = nullptr;
};

FanOut* writeOf(http::Exchange& ex) {
  auto* link = dynamic_cast<WriteLink*>(ex.state.get());
  return link ? link->write : nullptr;
}

// The exchange's hold on its COPY or MOVE (which also holds itself while node requests run).
struct TransferLink : http::ExchangeState {
  std::shared_ptr<Transfer> transfer;
};

}  // namespace

FsService::FsService(const FsConfig& config, ServiceContext& ctx)
    : ProxyService(config, ctx), config_(config), collector_(ctx.loop, [this] { collect(); }) {
  if (config.tombstoneMemory && !ctx.regions.empty())
    deleted_ = std::make_unique<DeletedPaths>(ctx.regions.back());
}

FsService::~FsService() = default;

void FsService::start() {
  ProxyService::start();
  if (config_.repair && runtime().runsInstanceTasks()) {
    repairer_ = std::make_unique<Repairer>(*this);
    repairer_->start();
  }
}

std::span<const int> FsService::candidates(std::string_view path) const {
  const Stage* stage = config_.stage(stageOf(path));
  if (!stage) return {};
  return stage->nodes;  // the balancer ranks them by the same rendezvous score
}

void FsService::stopAccepting() {
  repairer_.reset();  // a pass in progress stops; the next generation's repairer starts over
  ProxyService::stopAccepting();
}

void FsService::onRequest(http::Exchange& ex) {
  const http::Request& r = ex.request();
  unsigned number = stageOf(r.path);
  using http::Method;
  // Writes, and PROPFIND (merged over the stage's nodes), fan out; other reads are relayed.
  const bool fanned = r.method == Method::Put || r.method == Method::Delete ||
                      r.method == Method::Mkcol || r.method == Method::Propfind;
  if (r.method == Method::Delete && r.path.ends_with('/') && config_.stage(number) &&
      !stageRoot(r.path)) {
    // A collection: every file under it gets its own tombstone (a folder's cannot be written,
    // and the repairer guards files only), so a node that was down does not bring them back.
    fsCounters().inc(kWrites);
    Transfer::Order order;
    order.remove = true;
    order.source.assign(r.path);
    order.host.assign(r.host);
    return launchTransfer(ex, std::move(order));
  }
  if (!fanned) {
    if (r.method == Method::Move || r.method == Method::Copy) return startTransfer(ex);
    if (r.method == Method::Lock || r.method == Method::Unlock || r.method == Method::Proppatch) {
      // Locks and properties would have to be held on every copy.
      ex.sendError(501);
      return;
    }
    if (!config_.stage(number)) {  // reads name their stage: old files keep their placement
      ex.sendError(404);
      return;
    }
    if (deleted_ && deleted_->contains(r.path)) {  // a node that missed its DELETE is not asked
      fsCounters().inc(kReadsDeleted);
      ex.sendError(404);
      return;
    }
    ProxyService::onRequest(ex);
    return;
  }
  if (r.method == Method::Propfind && r.find("depth") != "0" && r.find("depth") != "1") {
    ex.sendError(403);  // Depth: infinity (or none, which means it) over a whole store: refused
    return;
  }
  std::string target, location;
  if (number == 0) {  // a new file without a stage: the write stage, named in Location
    if (r.method != Method::Put) {
      ex.sendError(404);
      return;
    }
    number = config_.writeStage;
    target = "/_s" + std::to_string(number) + std::string(r.target);
    location = target;
  } else if (!config_.stage(number)) {
    ex.sendError(404);
    return;
  } else {
    target.assign(r.target);
  }
  // Ranked on the path as the nodes (and reads) see it: with its stage.
  std::string path =
      location.empty() ? std::string(r.path) : "/_s" + std::to_string(number) + std::string(r.path);
  std::vector<int> ranked;
  rankNodes(path, *config_.stage(number), config_.backends, ranked);
  if (r.method != Method::Propfind) fsCounters().inc(kWrites);
  auto fanout =
      std::make_unique<FanOut>(*this, ex, std::move(ranked), config_.replicas,
                               r.method != Method::Put, std::move(target), std::move(location));
  FanOut* raw = fanout.get();
  writes_.push_back(std::move(fanout));
  auto link = std::make_unique<WriteLink>();
  link->write = raw;
  ex.state = std::move(link);
  raw->start();
}

void FsService::startTransfer(http::Exchange& ex) {
  const http::Request& r = ex.request();
  Transfer::Order order;
  order.move = r.method == http::Method::Move;
  Destination to;
  std::string_view destination = r.find("destination");
  Overwrite overwrite = parseOverwrite(r.find("overwrite"));
  order.depth = parseDepth(r.find("depth"));
  // Depth 1 is not a COPY's (RFC 4918 9.8.3); a MOVE is always Depth infinity (9.9.2).
  if (destination.empty() || !parseDestination(destination, to) ||
      overwrite == Overwrite::Invalid || order.depth == Depth::Invalid ||
      order.depth == Depth::One || (order.move && order.depth != Depth::Infinity))
    return ex.sendError(400);
  if (!to.authority.empty() && !sameAuthority(to.authority, r.host))
    return ex.sendError(502);  // another server (RFC 4918 9.8.5)
  unsigned from = stageOf(r.path), into = stageOf(to.path);
  // Sources name their stage, as reads do; a path this router saw deleted is not read from a
  // node that missed the DELETE.
  if (!config_.stage(from) || (deleted_ && deleted_->contains(r.path))) return ex.sendError(404);
  order.source.assign(r.path);
  if (into == 0) {  // no stage: the write stage, named in Location (as a PUT)
    into = config_.writeStage;
    order.destination = "/_s" + std::to_string(into) + std::string(to.path);
    order.location = order.destination;
  } else {
    order.destination.assign(to.path);
  }
  if (!config_.stage(into)) return ex.sendError(409);
  // A stage's root is no file and cannot be replaced (it would delete the stage).
  if (stageRoot(order.source) || stageRoot(order.destination)) return ex.sendError(403);
  order.overwrite = overwrite == Overwrite::True;
  order.host.assign(r.host);
  launchTransfer(ex, std::move(order));
}

void FsService::launchTransfer(http::Exchange& ex, Transfer::Order order) {
  if (!transfers_)
    transfers_ = std::make_unique<NodeClient>(runtime(), config_.backends,
                                              std::max(10.0, config_.readTimeout),
                                              [this](size_t node) { return upstreamTls(node); });
  auto transfer = std::make_shared<Transfer>(*this, *transfers_, ex, std::move(order));
  auto link = std::make_unique<TransferLink>();
  link->transfer = transfer;
  ex.state = std::move(link);
  transfer->start();
}

void FsService::invalidate(std::string_view host, std::string_view target) {
  if (!cache() || host.empty()) return;
  size_t q = target.find('?');
  std::string primary;
  proxy::CacheStore::primaryKey(
      host, target.substr(0, q),
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1), primary);
  cache()->invalidate(primary, {}, {});
}

std::string FsService::takeBuffer() {
  if (spare_.empty()) return {};
  std::string b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

void FsService::giveBuffer(std::string&& buffer) {
  // Bounded: a burst of large bodies does not keep its memory for good.
  if (spare_.size() >= 64 || buffer.capacity() > FanOut::kReplayLimit + 4096) return;
  buffer.clear();
  spare_.push_back(std::move(buffer));
}

std::string_view FsService::date() {
  time_t now = runtime().now();
  if (now != dateOf_) {
    http::formatHttpDate(now, date_);
    dateOf_ = now;
  }
  return {date_, sizeof date_};
}

void FsService::collectSoon() {
  if (!collector_.active()) collector_.once(0);
}

void FsService::onBody(http::Exchange& ex, std::string_view data) {
  if (FanOut* w = writeOf(ex)) return w->clientBody(data);
  ProxyService::onBody(ex, data);
}

void FsService::onBodyEnd(http::Exchange& ex) {
  if (FanOut* w = writeOf(ex)) return w->clientBodyEnd();
  ProxyService::onBodyEnd(ex);
}

void FsService::onAbort(http::Exchange& ex) {
  if (FanOut* w = writeOf(ex)) return w->clientGone();
  if (auto* link = dynamic_cast<TransferLink*>(ex.state.get())) {
    link->transfer->clientGone();  // it goes on: a MOVE left half-way would keep both paths
    ex.state.reset();
    return;
  }
  ProxyService::onAbort(ex);
}

void FsService::collect() {
  writes_.remove_if([](const std::unique_ptr<FanOut>& w) { return w->finished(); });
}

std::unique_ptr<Service> FsConfig::createService(ServiceContext& ctx) const {
  return std::make_unique<FsService>(*this, ctx);
}

}  // namespace manifold::fs
