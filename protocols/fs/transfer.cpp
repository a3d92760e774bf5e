#include "protocols/fs/transfer.hpp"

#include <algorithm>
#include <unordered_set>

#include "protocols/fs/multistatus.hpp"
#include "protocols/fs/placement.hpp"
#include "protocols/fs/repair_plan.hpp"
#include "protocols/fs/service.hpp"
#include "protocols/http/path.hpp"
#include "protocols/http/response.hpp"
#include "worker/clock.hpp"
#include "worker/runtime.hpp"

namespace manifold::fs {

namespace {

constexpr size_t kWindow = 1u << 20;       // bytes a copy may hold per destination node
constexpr size_t kMaxListing = 64u << 20;  // one folder's PROPFIND answer from one node
constexpr size_t kMaxProbe = 1u << 20;     // a PROPFIND Depth 0 answer
constexpr size_t kMaxAnswer = 1u << 16;    // a PUT's, DELETE's or MKCOL's answer body
constexpr size_t kParallelMembers = 4;     // a collection's files copied at once

// "/_s1/a/b" and "/_s1/a/b/" -> "/_s1/a/".
std::string parentOf(const std::string& path) {
  size_t end = path.size() - (path.ends_with('/') ? 1 : 0);
  return path.substr(0, path.rfind('/', end - 1) + 1);
}

bool success(int status) { return status >= 200 && status < 300; }

}  // namespace

struct Transfer::FileCopy {
  std::string from, to;
  std::vector<int> sources;  // the source's stage ranked for it, available nodes first
  size_t source = 0;
  std::vector<int> ranking;  // the destination's stage ranked for it
  size_t nextCandidate = 0;
  std::vector<int> targets;  // this round's PUTs
  bool handoff = false;      // this round's targets stand in for failed replicas
  unsigned good = 0, handoffs = 0;
  bool notFound = false;  // a source copy answered 404
  int clientError = 0;    // a destination node's 4xx (413, 507, 409)
  std::function<void(int)> done;
};

Transfer::Transfer(FsService& service, NodeClient& client, http::Exchange& ex, Order order)
    : service_(service), client_(client), ex_(&ex), order_(std::move(order)) {
  std::string_view now = service.date();
  std::copy(now.begin(), now.end(), date_);
  ex.defer();
}

Transfer::Transfer(FsService& service, NodeClient& client, Order order,
                   std::function<void(int)> done)
    : service_(service),
      client_(client),
      ex_(nullptr),
      done_(std::move(done)),
      order_(std::move(order)) {
  std::string_view now = service.date();
  std::copy(now.begin(), now.end(), date_);
}

std::string Transfer::request(std::string_view method, std::string_view target, int node) const {
  return nodeRequest(service_.fsConfig().backends, method, target, node);
}

bool Transfer::available(int node) const {
  proxy::HealthRegion* health = service_.health();
  return !service_.fsConfig().backends[node].down &&
         (!health || health->available(static_cast<size_t>(node), clock::monotonicMs()));
}

const std::vector<int>& Transfer::stageNodes(const std::string& path) const {
  static const std::vector<int> none;
  const Stage* stage = service_.fsConfig().stage(stageOf(path));
  return stage ? stage->nodes : none;
}

void Transfer::start() {
  probe(order_.source, [this](Found f) { lookedUp(f); });
}

// PROPFIND Depth 0 on every node of the path's stage: a collection if any node holds one
// (nginx answers 301 for a folder named without its slash), else a file if any holds one,
// else absent if any node answered 404, else unknown (answers not understood: 502) or
// unreachable (no node answered: 503).
void Transfer::probe(const std::string& path, std::function<void(Found)> done) {
  everyNode(
      path,
      [this, path](int node) {
        return request("PROPFIND", path, node) + "Depth: 0\r\nContent-Length: 0\r\n\r\n";
      },
      [done](std::vector<NodeReply>& replies) {
        Found best = Found::Unreachable;
        for (NodeReply& r : replies) {
          Found f = r.status == 0 ? Found::Unreachable : Found::Unknown;
          std::vector<ListingEntry> entries;
          if (r.status == 207 && parseListing(r.body, entries) && !entries.empty()) {
            f = entries[0].collection ? Found::Collection : Found::File;
          } else if (r.status == 301) {
            f = Found::Collection;
          } else if (r.status == 404 || r.status == 409) {
            f = Found::Absent;
          }
          best = std::max(best, f);
        }
        done(best);
      },
      kMaxProbe);
}

int Transfer::unknown(Found found) { return found == Found::Unreachable ? 503 : 502; }

void Transfer::lookedUp(Found source) {
  if (order_.remove && source == Found::Unknown) {
    // Nodes without PROPFIND (Manifold's own [http:NAME] WebDAV): the collection's DELETE
    // alone, its files unguarded against a node that was down.
    existed_ = true;
    return finishCollection();
  }
  if (source <= Found::Unknown) return answer(unknown(source));
  if (source == Found::Absent) return answer(404);
  if (order_.remove) {
    existed_ = true;              // 204
    if (source == Found::File) {  // "/_s1/f/" that names a file: the file
      order_.source.pop_back();
      return removeFile(order_.source, [this](bool ok) { answer(ok ? 204 : 503); });
    }
    folders_.push_back(order_.source);
    return walk();
  }
  std::string& s = order_.source;
  std::string& d = order_.destination;
  if (source == Found::Collection) {
    if (!s.ends_with('/')) s.push_back('/');
    if (!d.ends_with('/')) d.push_back('/');
  } else if (d.ends_with('/')) {
    d.pop_back();  // a file copied onto "name/" is the file "name" (replacing a collection)
  }
  if (d == s || (source == Found::Collection && d.starts_with(s))) return answer(403);
  source_ = source;
  probe(d, [this](Found f) { destinationFound(f); });
}

void Transfer::destinationFound(Found found) {
  if (found <= Found::Unknown) return answer(unknown(found));
  destination_ = found;
  existed_ = found != Found::Absent;
  if (existed_ && !order_.overwrite) return answer(412);
  auto next = [this] {
    clearDestination([this] {
      if (source_ == Found::File) return copyOne();
      folders_.push_back(order_.source);
      if (order_.depth == Depth::Zero) walked_ = folders_.size();  // the collection only
      walk();
    });
  };
  std::string parent = parentOf(order_.destination);
  if (stageRoot(parent)) return next();
  probe(parent, [this, next](Found p) {
    if (p <= Found::Unknown) return answer(unknown(p));
    if (p != Found::Collection) return answer(409);  // RFC 4918 9.8.5: no parent collection
    next();
  });
}

// An existing destination is replaced: a file by the PUTs themselves; a collection (or a
// file that a collection replaces) is deleted first, as a client's DELETE would.
void Transfer::clearDestination(Step next) {
  if (!existed_ || (destination_ == Found::File && source_ == Found::File)) return next();
  std::string target = order_.destination;
  if (destination_ == Found::File) {
    if (target.ends_with('/')) target.pop_back();
    return removeFile(target, [this, next](bool ok) { ok ? next() : answer(503); });
  }
  if (!target.ends_with('/')) target.push_back('/');
  // As a client's DELETE of it: file by file, each with its tombstone.
  Order clear;
  clear.remove = true;
  clear.source = target;
  clear.host = order_.host;
  auto self = shared_from_this();
  std::make_shared<Transfer>(service_, client_, std::move(clear), [self, next](int status) {
    status == 204 || status == 404 ? next() : self->answer(503);
  })->start();
}

void Transfer::copyOne() {
  copyFile(order_.source, order_.destination, [this](int status) {
    if (!success(status)) return answer(status);
    if (!order_.move) return answer(existed_ ? 204 : 201);
    // The source goes only now that write_quorum copies of the destination exist.
    removeFile(order_.source, [this](bool ok) { answer(ok ? (existed_ ? 204 : 201) : 503); });
  });
}

void Transfer::copyFile(const std::string& from, const std::string& to,
                        std::function<void(int status)> done) {
  const FsConfig& config = service_.fsConfig();
  auto c = std::make_shared<FileCopy>();
  c->from = from;
  c->to = to;
  c->done = std::move(done);
  rankNodes(from, *config.stage(stageOf(from)), config.backends, c->sources);
  std::stable_partition(c->sources.begin(), c->sources.end(),
                        [this](int node) { return available(node); });
  rankNodes(to, *config.stage(stageOf(to)), config.backends, c->ranking);
  // The replicas, a node that is not available replaced by the next hand-off node.
  for (size_t i = 0; i < c->ranking.size() && c->targets.size() < config.replicas; ++i) {
    c->nextCandidate = i + 1;
    if (available(c->ranking[i])) c->targets.push_back(c->ranking[i]);
  }
  c->handoff = false;
  // No destination node available: the copy fails at once (from here, not from the loop), and
  // a collection stops instead of failing each member in turn on the stack.
  if (c->targets.empty()) stalled_ = true;
  copyRound(std::move(c));
}

void Transfer::copyRound(std::shared_ptr<FileCopy> c) {
  const FsConfig& config = service_.fsConfig();
  if (c->targets.empty() || c->source >= c->sources.size()) {
    shm::CounterSlot k = service_.fsCounters();
    k.add(kCopiesWritten, c->good);
    k.add(kHandoffs, c->handoffs);
    if (c->good > 0) {
      service_.invalidate(order_.host, c->to);  // the cache (cache = on) drops the old copy
      if (DeletedPaths* d = service_.deletedPaths()) d->written(c->to);
      ++filesCopied_;
    }
    int status = c->good >= config.writeQuorum   ? 201
                 : c->good > 0                   ? 503
                 : c->notFound                   ? 404             // gone since it was looked up
                 : c->clientError                ? c->clientError  // 413, 507: the nodes'
                 : c->source < c->sources.size() ? 503             // no node took it
                                                 : 502;            // no copy could be read
    return c->done(status);
  }
  auto self = shared_from_this();
  // Each copy on a node outside the replicas is remembered there, so the repairer moves it home
  // (written alongside the copy: the repairer only reads it on a later pass).
  if (c->handoff)
    for (int node : c->targets)
      client_.call(node,
                   request("PUT", std::string(kHints) + c->to, node) + "Date: " +
                       std::string(date_, sizeof date_) + "\r\nContent-Length: 0\r\n\r\n",
                   false, kMaxAnswer, [self](NodeReply&) {});
  int from = c->sources[c->source];
  auto start = [this, c](const NodeReply& head, std::vector<std::pair<int, std::string>>& puts) {
    if (head.status != 200 || head.contentLength < 0) return false;
    for (int node : c->targets) {
      std::string put = request("PUT", c->to, node);
      put.append("Date: ").append(date_, sizeof date_);
      put.append("\r\nContent-Length: ").append(std::to_string(head.contentLength));
      put.append("\r\n\r\n");
      puts.emplace_back(node, std::move(put));
    }
    return true;
  };
  relayCopy(client_, from, request("GET", c->from, from) + "\r\n", kWindow, start,
            [self, c](RelayOutcome& o) { self->copied(c, o); });
}

void Transfer::copied(std::shared_ptr<FileCopy> c, RelayOutcome& o) {
  if (!o.started || !o.whole) {
    // This copy of the source failed (or is missing): the next one, to the same targets.
    if (o.head.status == 404) c->notFound = true;
    ++c->source;
    return copyRound(std::move(c));
  }
  service_.fsCounters().add(kTransferBytes, o.bytes * o.stored.size());
  unsigned failed = 0;
  for (int status : o.stored) {
    if (success(status)) {
      ++c->good;
      c->handoffs += c->handoff;
    } else {
      ++failed;
      if (status >= 400 && status < 500) c->clientError = status;
    }
  }
  // Each failed target is replaced by the next available hand-off node, and the file read
  // again for them.
  c->targets.clear();
  c->handoff = true;
  while (failed > 0 && c->nextCandidate < c->ranking.size()) {
    int node = c->ranking[c->nextCandidate++];
    if (!available(node)) continue;
    c->targets.push_back(node);
    --failed;
  }
  copyRound(std::move(c));
}

// As DELETE does: a tombstone with the router's Date on every node of the stage (so a node
// that misses the DELETE does not bring the file back), then the DELETE.
void Transfer::removeFile(const std::string& path, std::function<void(bool)> done) {
  std::string tombstone = std::string(kTombstones) + path;
  auto self = shared_from_this();
  everyNode(
      path,
      [this, tombstone](int node) {
        return request("PUT", tombstone, node) + "Date: " + std::string(date_, sizeof date_) +
               "\r\nContent-Length: 0\r\n\r\n";
      },
      [this, self, path, done](std::vector<NodeReply>&) {
        everyNode(
            path, [this, path](int node) { return request("DELETE", path, node) + "\r\n"; },
            [this, path, done](std::vector<NodeReply>& replies) {
              unsigned good = 0, absent = 0;
              for (NodeReply& r : replies) {
                good += success(r.status);
                absent += r.status == 404;
              }
              bool ok = good + absent >= service_.fsConfig().writeQuorum;
              if (good > 0) {
                service_.invalidate(order_.host, path);
                if (DeletedPaths* d = service_.deletedPaths())
                  d->deleted(path, service_.runtime().now());
              }
              done(ok);
            });
      });
}

// Nodes that are not available (marked down, or down by the health checks) are not asked: their
// replies stay status 0, as a node that did not answer.
void Transfer::everyNode(const std::string& path, std::function<std::string(int)> build,
                         std::function<void(std::vector<NodeReply>&)> done, size_t maxBody) {
  struct Tally {
    std::vector<NodeReply> replies;
    size_t left = 0;
  };
  const std::vector<int>& nodes = stageNodes(path);
  auto tally = std::make_shared<Tally>();
  tally->replies.resize(nodes.size());
  for (int node : nodes) tally->left += available(node);
  if (tally->left == 0) return done(tally->replies);
  auto self = shared_from_this();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!available(nodes[i])) continue;
    client_.call(nodes[i], build(nodes[i]), false, maxBody, [self, tally, i, done](NodeReply& r) {
      tally->replies[i] = std::move(r);
      if (--tally->left == 0) done(tally->replies);
    });
  }
}

// Folder by folder (breadth first, so parents come before their members), every node of the
// stage, merged.
void Transfer::walk() {
  if (walked_ == folders_.size()) return order_.remove ? runMembers() : makeCollections(0);
  std::string folder = folders_[walked_++];
  everyNode(
      folder,
      [this, folder](int node) {
        return request("PROPFIND", folder, node) + "Depth: 1\r\nContent-Length: 0\r\n\r\n";
      },
      [this, folder](std::vector<NodeReply>& replies) {
        // Each folder is listed once, so its members can only repeat within its own listing.
        std::unordered_set<std::string_view> seen;
        std::vector<std::string> files, folders;
        for (NodeReply& r : replies) {
          std::vector<ListingEntry> entries;
          if (r.status == 404) continue;  // not made on this node yet
          if (r.status != 207 || !parseListing(r.body, entries)) {
            unlisted_ = true;  // its members may be missed: the source collection stays
            continue;
          }
          for (const ListingEntry& e : entries) {
            if (e.path.size() <= folder.size() || !e.path.starts_with(folder)) {
              // Not the folder itself: a member named in another encoding than the client's
              // path, which cannot be placed under it. The MOVE keeps the source collection.
              if (std::string_view(folder).substr(0, folder.size() - 1) != e.path &&
                  e.path != folder)
                unlisted_ = true;
              continue;
            }
            if (!seen.insert(e.path).second) continue;
            (e.collection ? folders : files).emplace_back(e.path);
          }
        }
        for (std::string& f : folders) folders_.push_back(std::move(f));
        for (std::string& f : files) files_.push_back(std::move(f));
        walk();
      },
      kMaxListing);
}

std::string Transfer::destinationOf(const std::string& source) const {
  return order_.destination + source.substr(order_.source.size());
}

void Transfer::makeCollections(size_t next) {
  if (next == folders_.size()) return runMembers();
  std::string folder = destinationOf(folders_[next]);
  if (next == 0 && !rootMade_) {
    // The stage's root may not exist on its nodes yet (the router answers for it): made first,
    // as MKCOL does with parents; its parent was found, or is this root.
    rootMade_ = true;
    std::string root = folder.substr(0, folder.find('/', 1) + 1);
    return everyNode(
        root, [this, root](int node) { return request("MKCOL", root, node) + "\r\n"; },
        [this](std::vector<NodeReply>&) { makeCollections(0); });
  }
  everyNode(
      folder, [this, folder](int node) { return request("MKCOL", folder, node) + "\r\n"; },
      [this, folder, next](std::vector<NodeReply>& replies) {
        unsigned done = 0;
        for (NodeReply& r : replies) done += r.status == 201 || r.status == 405;
        if (done < service_.fsConfig().writeQuorum) {
          if (next == 0) return answer(503);  // not even the destination itself
          failures_.push_back({folder, 503});
        }
        makeCollections(next + 1);
      });
}

// Up to kParallelMembers files at once, each copied (COPY, MOVE) or deleted (a collection's
// DELETE); a member that found no destination node available stops the starts (the members left
// stay where they are, and the destination collection is named).
void Transfer::runMembers() {
  while (nextMember_ < files_.size() && membersInFlight_ < kParallelMembers && !stalled_) {
    size_t i = nextMember_++;
    ++membersInFlight_;
    if (order_.remove) {
      removeFile(files_[i], [this, i](bool ok) { memberRemoved(i, ok); });
    } else {
      copyFile(files_[i], destinationOf(files_[i]),
               [this, i](int status) { memberCopied(i, status); });
    }
  }
  if (!membersDone_ && membersInFlight_ == 0 && (nextMember_ == files_.size() || stalled_)) {
    membersDone_ = true;
    if (stalled_) failures_.push_back({order_.destination, 503});
    finishCollection();
  }
}

void Transfer::memberCopied(size_t i, int status) {
  if (status == 404 || !success(status) || !order_.move) {
    if (status != 404 && !success(status))  // (404: gone since the walk)
      failures_.push_back({destinationOf(files_[i]), status});
    --membersInFlight_;
    return runMembers();
  }
  removeFile(files_[i], [this, i](bool ok) { memberRemoved(i, ok); });
}

// A member's source deleted (a MOVE's, once copied; a DELETE's).
void Transfer::memberRemoved(size_t i, bool ok) {
  if (!ok) failures_.push_back({files_[i], 503});
  --membersInFlight_;
  runMembers();
}

void Transfer::finishCollection() {
  int status = existed_ ? 204 : 201;
  if (!order_.move && !order_.remove) return answer(failures_.empty() ? status : 207);
  // A DELETE goes on to the collection's own DELETE even when a node did not list it: that
  // DELETE reaches every node that answers, and the files' tombstones guard against the others.
  if (order_.remove) unlisted_ = false;
  if (!failures_.empty() || unlisted_) {
    // Members that did not move are still in the source collection, which stays.
    if (unlisted_) failures_.push_back({order_.source, 503});
    return answer(207);
  }
  const std::string& source = order_.source;
  everyNode(
      source,
      [this, source](int node) {
        return request("DELETE", source, node) + "Depth: infinity\r\nContent-Length: 0\r\n\r\n";
      },
      [this, status, source](std::vector<NodeReply>& replies) {
        unsigned done = 0, absent = 0;
        for (NodeReply& r : replies) {
          done += success(r.status) || r.status == 404;
          absent += r.status == 404;
        }
        if (order_.remove && absent == replies.size()) return answer(404);  // none had it
        if (done < service_.fsConfig().writeQuorum) failures_.push_back({source, 503});
        answer(failures_.empty() ? status : 207);
      });
}

void Transfer::answer(int status) {
  shm::CounterSlot k = service_.fsCounters();
  const bool succeeded = status == 201 || status == 204;
  const bool failed = status == 207 || status >= 500;
  // A collection's DELETE was counted as a write, as every DELETE is (FsService::onRequest).
  if (!order_.remove && (succeeded || failed))
    k.inc(order_.move ? (succeeded ? kMoves : kMovesFailed)
                      : (succeeded ? kCopies : kCopiesFailed));
  k.add(kTransferFiles, filesCopied_);
  filesCopied_ = 0;
  if (done_) return std::exchange(done_, nullptr)(status);
  if (!ex_) return;
  http::Exchange* ex = ex_;
  ex_ = nullptr;
  if (status >= 400) {
    ex->sendError(status);
  } else if (status == 207) {
    // RFC 4918 9.8.8, 9.9.4: the members that failed, each with its status.
    std::string body =
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<D:multistatus xmlns:D=\"DAV:\">\n";
    for (const Failure& f : failures_) {
      body.append("<D:response><D:href>");
      body += http::htmlEscape(f.path);  // its XML escapes too
      body.append("</D:href><D:status>HTTP/1.1 ").append(std::to_string(f.status));
      body.append(" ").append(http::statusText(f.status)).append("</D:status></D:response>\n");
    }
    body.append("</D:multistatus>\n");
    ex->beginResponse(207);
    http::appendHeader(ex->out(), "Content-Type", "application/xml; charset=utf-8");
    http::appendHeader(ex->out(), "Content-Length", static_cast<uint64_t>(body.size()));
    ex->endHeaders();
    ex->out().append(body);
    ex->finish(207, body.size());
  } else {
    ex->beginResponse(status);
    if (!order_.location.empty()) http::appendHeader(ex->out(), "Location", order_.destination);
    http::appendHeader(ex->out(), "Content-Length", uint64_t{0});
    ex->endHeaders();
    ex->finish(status, 0);
  }
  ex->state.reset();  // the link to this transfer
  ex->complete();     // may destroy the client connection
}

}  // namespace manifold::fs
