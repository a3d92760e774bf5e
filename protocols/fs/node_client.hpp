// One request to one store node, its whole answer delivered to a callback: the repairer's and
// bin/manifold-fs's way to list (PROPFIND), read (GET, HEAD), write (PUT) and delete on nodes.
// On the worker's connector (keep-alive pool, connect timeout; its own pool, so the repairer
// never takes the relay's connections); a pooled connection the node had closed is retried
// once on a fresh one. `timeout` bounds the whole exchange (a stream: each wait for progress).
// The callback runs exactly once, from the loop (never inside call()), and may start new calls;
// status 0 means no answer.
// Streams (a repair copy relayed node to node without holding the file): stream() hands the
// answer's body over piece by piece instead of keeping it, and write() sends more of a call's
// request body after call() (the request then held only its head); with unsent(), onDrained
// and pause() the caller keeps what waits between the two bounded.
#pragma once

#include <ctime>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "protocols/proxy/body_reader.hpp"
#include "protocols/proxy/config.hpp"
#include "protocols/proxy/response.hpp"
#include "worker/connector.hpp"
#include "worker/timer.hpp"

namespace manifold::fs {

using proxy::BodyReader;  // shared with the fan-out and the proxy's relay

// "METHOD target HTTP/1.1", Host (the node's address) and User-Agent lines: the start of a
// request to node `node`; the caller adds its headers and the blank line.
std::string nodeRequest(const std::vector<proxy::BackendConfig>& nodes, std::string_view method,
                        std::string_view target, int node);

struct NodeReply {
  int status = 0;  // 0: no answer (refused, timed out, malformed, too big)
  time_t lastModified = 0;
  int64_t contentLength = -1;
  std::string body;
};

class NodeClient {
 public:
  using Done = std::function<void(NodeReply&)>;
  // `tls`: the TLS endpoint of node i, or nullptr (ProxyService::upstreamTls).
  NodeClient(WorkerRuntime& runtime, const std::vector<proxy::BackendConfig>& nodes, double timeout,
             std::function<const TlsEndpoint*(size_t)> tls = nullptr);
  ~NodeClient();
  // `request`: the whole request (head and body). `head`: a HEAD (no body in the answer).
  struct Call;
  // The handles below stay valid until the call's `done` has run.
  Call* call(int node, std::string request, bool head, size_t maxBody, Done done);
  // `onHead`: the answer's head is in (status, lastModified, contentLength of the reply);
  // false ends the call (done gets status 0). `onBody`: the next piece of the body.
  Call* stream(int node, std::string request, std::function<bool(const NodeReply&)> onHead,
               std::function<void(std::string_view)> onBody, Done done);
  void write(Call* c, std::string_view data);  // more of c's request body
  size_t unsent(const Call* c) const;          // request bytes not yet taken by the socket
  void onDrained(Call* c, std::function<void()> drained);  // its request bytes all went out
  void pause(Call* c, bool paused);                        // stop (resume) reading its answer
  void abort(Call* c);  // ends it now (done gets status 0); the node sees the connection close
  size_t inFlight() const { return calls_.size(); }

 private:
  class Reader;
  void connect(Call& c, bool fresh);
  void readable(Call& c, Connection& conn);
  void drained(Call& c);
  void closed(Call& c);
  void finish(Call& c, int status, bool reusable);
  void collect();

  WorkerRuntime& runtime_;
  std::function<const TlsEndpoint*(size_t)> tls_;  // before the connector: its sessions use them
  const std::vector<proxy::BackendConfig>& nodes_;
  double timeout_;
  Connector connector_;
  std::list<std::unique_ptr<Call>> calls_;
  Timer collector_;
};

}  // namespace manifold::fs
