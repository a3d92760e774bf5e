#include "protocols/fs/node_client.hpp"

#include "protocols/ascii.hpp"
#include "protocols/http/date.hpp"
#include "worker/runtime.hpp"

namespace manifold::fs {

std::string nodeRequest(const std::vector<proxy::BackendConfig>& nodes, std::string_view method,
                        std::string_view target, int node) {
  std::string head;
  head.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  head.append(nodes[node].address.text).append("\r\nUser-Agent: manifold-fs\r\n");
  return head;
}

struct NodeClient::Call {
  Call(NodeClient& client)
      : timer(client.runtime_.loop(), [&client, this] {
          if (!finished) client.finish(*this, 0, false);
        }) {}
  int node = -1;
  std::string request;  // held until connected (with what write() added meanwhile)
  bool head = false, reused = false, retried = false, inBody = false, finished = false;
  bool wroteLive = false;  // write() sent body bytes on the connection: no retry can replay them
  std::function<bool(const NodeReply&)> onHead;
  std::function<void(std::string_view)> onBody;
  std::function<void()> onDrained;
  size_t maxBody = 0;
  Done done;
  Connector::Id connecting = 0;
  Connection* conn = nullptr;
  Reader* reader = nullptr;
  proxy::ResponseHead response;
  BodyReader body;
  NodeReply reply;
  Timer timer;
};

class NodeClient::Reader : public ConnectionHandler {
 public:
  Reader(NodeClient& client, Call& call) : client(&client), call(&call) {}
  void onReadable(Connection& conn) override {
    if (client) client->readable(*call, conn);
  }
  void onClose(Connection&) override {
    if (client) client->closed(*call);
  }
  void onDrained(Connection&) override {
    if (client) client->drained(*call);
  }
  bool busy() const override { return client != nullptr; }
  NodeClient* client;
  Call* call;
};

NodeClient::NodeClient(WorkerRuntime& runtime, const std::vector<proxy::BackendConfig>& nodes,
                       double timeout, std::function<const TlsEndpoint*(size_t)> tls)
    : runtime_(runtime),
      tls_(std::move(tls)),
      nodes_(nodes),
      timeout_(timeout),
      connector_(runtime, PoolLimits{8, 30}),
      collector_(runtime.loop(), [this] { collect(); }) {}

NodeClient::~NodeClient() {
  for (auto& c : calls_) {
    c->finished = true;
    if (c->connecting) connector_.cancel(c->connecting);
    if (c->reader) c->reader->client = nullptr;
    if (c->conn) c->conn->close();
  }
}

NodeClient::Call* NodeClient::stream(int node, std::string request,
                                     std::function<bool(const NodeReply&)> onHead,
                                     std::function<void(std::string_view)> onBody, Done done) {
  Call* c = call(node, std::move(request), false, 0, std::move(done));
  c->onHead = std::move(onHead);
  c->onBody = std::move(onBody);
  return c;
}

void NodeClient::write(Call* c, std::string_view data) {
  if (c->finished) return;
  c->timer.once(timeout_);  // progress
  if (!c->conn) {
    c->request.append(data);
    return;
  }
  c->wroteLive = true;
  c->conn->output().append(data);
  c->conn->send();  // may close it (then closed() ran)
}

size_t NodeClient::unsent(const Call* c) const {
  if (!c->conn) return c->request.size();
  return c->conn->outputPending() ? c->conn->output().size() : 0;
}

void NodeClient::onDrained(Call* c, std::function<void()> drained) {
  c->onDrained = std::move(drained);
}

void NodeClient::pause(Call* c, bool paused) {
  if (c->conn) c->conn->pauseReading(paused);
}

void NodeClient::abort(Call* c) {
  if (!c->finished) finish(*c, 0, false);
}

void NodeClient::drained(Call& c) {
  if (!c.finished && c.onDrained) c.onDrained();
}

NodeClient::Call* NodeClient::call(int node, std::string request, bool head, size_t maxBody,
                                   Done done) {
  auto c = std::make_unique<Call>(*this);
  c->node = node;
  c->request = std::move(request);
  c->head = head;
  c->maxBody = maxBody;
  c->done = std::move(done);
  Call& ref = *c;
  calls_.push_back(std::move(c));
  ref.timer.once(timeout_);
  connect(ref, false);
  return &ref;
}

void NodeClient::connect(Call& c, bool fresh) {
  const config::ListenAddress& a = nodes_[c.node].address;
  ConnectOptions options;
  options.connectTimeout = options.readTimeout = options.sendTimeout = timeout_;
  options.fresh = fresh;
  options.tls = tls_ ? tls_(static_cast<size_t>(c.node)) : nullptr;
  Call* call = &c;
  Connector::Id id = connector_.connect(
      reinterpret_cast<const sockaddr*>(&a.addr), a.len, options,
      [this, call](const ConnectOutcome& outcome) -> std::unique_ptr<ConnectionHandler> {
        call->connecting = 0;
        if (call->finished || !outcome.connection) {
          if (!call->finished) finish(*call, 0, false);
          return nullptr;
        }
        call->conn = outcome.connection;
        call->reused = outcome.reused;
        call->conn->output().append(call->request);
        auto reader = std::make_unique<Reader>(*this, *call);
        call->reader = reader.get();
        return reader;
      });
  if (id != 0 && !c.finished) c.connecting = id;
}

void NodeClient::readable(Call& c, Connection& conn) {
  if (!c.inBody) {
    proxy::ResponseParse p = proxy::parseResponse(conn.pendingInput(), c.response, c.head);
    if (p.status == proxy::ResponseStatus::Incomplete) return;
    if (p.status == proxy::ResponseStatus::Error) return finish(c, 0, false);
    c.reply.status = c.response.status;
    c.reply.contentLength = c.response.contentLength;
    for (size_t i = 0; i < c.response.headerCount; ++i)
      if (ascii::equalsNoCase(c.response.headers[i].name, "last-modified"))
        http::parseHttpDate(c.response.headers[i].value, c.reply.lastModified);
    conn.consume(p.consumed);
    c.inBody = true;
    c.body.begin(c.response);
    if (c.onHead && !c.onHead(c.reply)) return finish(c, 0, false);
  }
  BodyReader::Step step = c.body.read(conn, &c.reply.body);
  if (c.onBody) {  // a stream: handed over, not kept
    c.timer.once(timeout_);
    if (!c.reply.body.empty()) c.onBody(c.reply.body);
    c.reply.body.clear();
    if (c.finished) return;  // aborted from onBody
  }
  if (step == BodyReader::Error || c.reply.body.size() > c.maxBody) return finish(c, 0, false);
  if (step == BodyReader::Done)
    finish(c, c.reply.status, conn.pendingInput().empty() && c.response.keepAlive);
}

void NodeClient::closed(Call& c) {
  c.reader = nullptr;
  c.conn = nullptr;
  if (c.finished) return;
  if (c.inBody && c.response.framing == proxy::Framing::Close)
    return finish(c, c.reply.status, false);
  if (c.reused && !c.retried && !c.inBody && !c.wroteLive) {  // a pooled one the node had closed
    c.retried = true;
    return connect(c, true);
  }
  finish(c, 0, false);
}

void NodeClient::finish(Call& c, int status, bool reusable) {
  c.finished = true;
  c.timer.stop();
  if (c.connecting) {
    connector_.cancel(c.connecting);
    c.connecting = 0;
  }
  if (c.reader) c.reader->client = nullptr;
  c.reader = nullptr;
  if (Connection* conn = c.conn) {
    c.conn = nullptr;
    if (reusable) {
      connector_.release(*conn);
    } else {
      conn->close();
    }
  }
  c.reply.status = status;
  if (!collector_.active()) collector_.once(0);  // the callback runs from the loop
}

void NodeClient::collect() {
  // Callbacks may call() again: take the finished ones out first.
  std::vector<std::unique_ptr<Call>> ready;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if ((*it)->finished) {
      ready.push_back(std::move(*it));
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& c : ready) c->done(c->reply);
}

}  // namespace manifold::fs
