// One write (PUT, DELETE, MKCOL) sent to several nodes in parallel, on the proxy's connector
// (keep-alive pools, timeouts) and health state.
//
// PUT: the body streams to the file's `replicas` nodes at once, with one Date stamped by the
// router. A node that cannot be reached before any byte went to it is replaced by the next
// hand-off node of the ranking (the bytes meant for it wait in its pending buffer, so nothing is
// lost). A pooled connection the node had closed meanwhile is retried once on a fresh one when
// the whole body so far is still held (bodies up to kReplayLimit). The client is answered
// 201/204 as soon as `write_quorum` copies are written (the others go on), else once every
// copy has an outcome: 503 (or the nodes' common 4xx, e.g. 409, 413, 507).
// `X-Copies-Written` says how many copies were written by then.
// MKCOL sends its parents' MKCOLs first, pipelined on the same connection (parents made on
// demand; a PUT relies on the node making them: create_full_put_path on in nginx and Manifold).
// DELETE and MKCOL go to every node of the stage (a copy may sit on a hand-off node; MKCOL makes
// the collection everywhere, so later PUTs find their parents and PROPFIND sees it): DELETE
// succeeds when `write_quorum` nodes answered 2xx or 404 (404 to the client when no node had
// it); MKCOL when they answered 201 or 405 (it existed).
//
// PROPFIND (Depth 0 or 1) goes to every node of the stage too; their 207 answers are merged
// (multistatus.hpp) so a client browsing the store sees every file whichever nodes hold it.
//
// Flow control: while any node's output holds more than kHighWater the client is not read.
// Lifetime: owned by the service; every entry from outside holds a Guard, and a finished fan-out
// is destroyed when the last one returns.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/http/date.hpp"
#include "protocols/http/server.hpp"
#include "protocols/proxy/response.hpp"
#include "worker/connector.hpp"
#include "worker/timer.hpp"

namespace manifold::fs {

class FsService;

class FanOut {
 public:
  static constexpr size_t kHighWater = 256 * 1024;
  static constexpr size_t kReplayLimit = 1 << 20;
  static constexpr size_t kMaxListing = 16 << 20;  // one node's PROPFIND answer

  // `nodes`: the ranking; the first `copies` are written (the rest stand by as hand-offs), or
  // all of them when `everyNode`. `target`: the path on the nodes; `location`: sent as Location
  // on success (a PUT that named no stage).
  FanOut(FsService& service, http::Exchange& ex, std::vector<int> nodes, unsigned copies,
         bool everyNode, std::string target, std::string location);
  ~FanOut();
  void start();
  void clientBody(std::string_view data);
  void clientBodyEnd();
  void clientGone();
  bool finished() const { return finished_ && depth_ == 0; }

 private:
  struct Replica;
  class Handler;
  class Guard;
  enum class Kind : uint8_t { Put, Delete, Mkcol, Propfind };

  void connect(Replica& r, bool fresh);
  void connected(Replica& r, const ConnectOutcome& outcome);
  void failed(Replica& r, int status);
  void readable(Replica& r, Connection& conn);
  void closed(Replica& r);
  void drained();
  void send(Replica& r, std::string_view data);
  void flowControl();
  void maybeAnswer();
  void answer();
  void answerListing();
  void settle(Replica& r, bool reusable);
  bool handOff(Replica& r);
  void appendMarker(std::string& out, std::string_view folder) const;

  FsService& service_;
  http::Exchange* ex_;
  Kind kind_;
  std::vector<int> nodes_;
  size_t nextCandidate_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::string head_;           // the request head for every node (without framing and blank line)
  std::string replay_;         // the body so far, while it fits kReplayLimit
  std::string host_, target_;  // for the cache's invalidation
  std::string location_;
  char date_[http::kHttpDateLength];  // the router's Date for every copy (and tombstone, hint)
  std::string_view date() const { return {date_, sizeof date_}; }
  unsigned parentCount_ =
      0;  // answers before the request's own: MKCOL's parents, DELETE's tombstone
  bool chunked_ = false;
  bool bodySeen_ = false;  // body bytes arrived: a node's head waits for them (one send, not two)
  bool bodyDone_ = false;
  bool replayable_ = true;
  bool answered_ = false;  // the client has its answer (perhaps before every copy is done)
  bool finished_ = false;  // every copy has its outcome
  unsigned depth_ = 0;
};

}  // namespace manifold::fs
