#include "protocols/fs/relay.hpp"

#include <memory>

namespace manifold::fs {

namespace {

struct Relay {
  Relay(NodeClient& c, size_t w, RelayStart s, std::function<void(RelayOutcome&)> d)
      : client(c), window(w), start(std::move(s)), done(std::move(d)) {}
  NodeClient& client;
  size_t window;
  RelayStart start;
  std::function<void(RelayOutcome&)> done;
  NodeClient::Call* get = nullptr;      // null once its done ran
  std::vector<NodeClient::Call*> puts;  // null once each one's done ran
  RelayOutcome outcome;
  bool paused = false, getDone = false, settled = false;

  size_t active() const {
    size_t n = 0;
    for (NodeClient::Call* p : puts) n += p != nullptr;
    return n;
  }
  void settle() {
    if (settled || !getDone || active() > 0) return;
    settled = true;
    done(outcome);
  }
  void resume() {
    if (!paused || !get) return;
    for (NodeClient::Call* p : puts)
      if (p && client.unsent(p) > window / 2) return;
    paused = false;
    client.pause(get, false);
  }
};

}  // namespace

void relayCopy(NodeClient& client, int from, std::string get, size_t window, RelayStart start,
               std::function<void(RelayOutcome&)> done) {
  auto relay = std::make_shared<Relay>(client, window, std::move(start), std::move(done));
  auto onHead = [relay](const NodeReply& head) {
    relay->outcome.head = head;
    std::vector<std::pair<int, std::string>> puts;
    if (!relay->start(head, puts) || puts.empty()) return false;
    relay->outcome.started = true;
    relay->outcome.stored.assign(puts.size(), -1);
    relay->puts.assign(puts.size(), nullptr);
    for (size_t i = 0; i < puts.size(); ++i) {
      relay->puts[i] = relay->client.call(puts[i].first, std::move(puts[i].second), false, 1 << 16,
                                          [relay, i](NodeReply& r) {
                                            relay->puts[i] = nullptr;
                                            relay->outcome.stored[i] = r.status;
                                            if (relay->get && relay->active() == 0)
                                              relay->client.abort(relay->get);
                                            relay->resume();
                                            relay->settle();
                                          });
      relay->client.onDrained(relay->puts[i], [relay] { relay->resume(); });
    }
    return true;
  };
  auto onBody = [relay](std::string_view data) {
    if (relay->active() == 0) return relay->client.abort(relay->get);
    relay->outcome.bytes += data.size();
    bool full = false;
    for (NodeClient::Call* p : relay->puts) {
      if (!p) continue;
      relay->client.write(p, data);
      full = full || relay->client.unsent(p) > relay->window;
    }
    if (full && !relay->paused) {
      relay->paused = true;
      relay->client.pause(relay->get, true);
    }
  };
  relay->get = client.stream(from, std::move(get), onHead, onBody, [relay](NodeReply& got) {
    relay->get = nullptr;
    relay->getDone = true;
    if (relay->outcome.head.status == 0) relay->outcome.head.status = got.status;
    relay->outcome.whole =
        got.status == 200 && relay->outcome.head.contentLength >= 0 &&
        relay->outcome.bytes == static_cast<uint64_t>(relay->outcome.head.contentLength);
    if (!relay->outcome.whole)
      for (NodeClient::Call* p : relay->puts)
        if (p) relay->client.abort(p);
    relay->settle();
  });
}

}  // namespace manifold::fs
