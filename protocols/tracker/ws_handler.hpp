// WebTorrent signalling over WebSocket for one [tracker:NAME] in one worker.
//
// WsHub (one per worker) owns what the connections share: the map from connection tokens to
// connections, the WebSocket swarms in shm (ws_swarm.hpp), this worker's relay ring and its
// eventfd watcher, and scratch buffers. WsConnection is the handler a connection gets after the
// HTTP upgrade (Exchange::switchProtocols): frames in, messages out.
//
// Relaying: an offer from peer A goes to up to max_offers random other peers of the swarm; an
// answer from B goes back to the peer named by to_peer_id. A target on this worker gets the
// message at once (queued on its output, sent on the next loop turn with anything else it got);
// a target on another worker gets it through that worker's ring in the region tracker:NAME/relay
// (shm/ring.hpp), and its eventfd when the ring was empty (written once per loop turn and target
// worker, with the turn's sends). A full ring drops the message (ws_relay_drops_full); a target
// connection that has closed meanwhile drops it too (ws_relay_drops_gone). Nothing ever blocks.
//
// Relay record (ring payload): RelayHeader (80 bytes: u64 token, u8 kind 1 offer / 2 answer,
// 7 bytes 0, infoHash[20], fromPeerId[20], offerId[20], 4 bytes 0), then the JSON text to send.
//
// Pending offers: the receiving connection remembers each offer it was handed (info hash, the
// offerer's peer_id, offer_id, time) for max_offer_age, at most kMaxPending (the oldest goes).
// An answer is relayed only when it matches one, which it consumes: a peer cannot send answers
// to peers that made it no offer, nor answer twice.
//
// Limits per connection: kMaxJoined swarm memberships ("too many torrents on one connection"
// beyond), kMaxPending offers, ws_send_buffer of queued output.
//
// Bad input: a frame error closes with its RFC 6455 code (1002, 1007, 1009); a binary message
// closes with 1003; a message that is not a valid request gets {"failure reason":...} and the
// connection stays. A connection whose queued output passes ws_send_buffer is cut off.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocols/http/server.hpp"
#include "protocols/http/websocket_frame.hpp"
#include "protocols/service.hpp"
#include "protocols/tracker/config.hpp"
#include "protocols/tracker/ws_message.hpp"
#include "protocols/tracker/ws_swarm.hpp"
#include "shm/ring.hpp"
#include "worker/io_watcher.hpp"
#include "worker/timer.hpp"

namespace manifold::tracker {

class Tracker;
class WsConnection;

enum class RelayKind : uint8_t { Offer = 1, Answer = 2 };

struct RelayHeader {
  uint64_t token;
  RelayKind kind;
  uint8_t reserved0[7];
  uint8_t infoHash[20];
  uint8_t fromPeerId[20];
  uint8_t offerId[20];
  uint8_t reserved1[4];
};
static_assert(sizeof(RelayHeader) == 80);

class WsHub {
 public:
  WsHub(Tracker& tracker, ServiceContext& ctx);
  ~WsHub();
  bool ready() const { return store_.ok() && rings_ != nullptr; }
  void start();
  void stop();
  // Graceful stop: every connection gets a close frame (1001, going away).
  void closeAll();

  // From the HTTP handler: an upgrade request on / or /announce.
  void upgrade(http::Exchange& ex);

  Tracker& tracker() { return t_; }
  WsSwarmStore& store() { return store_; }
  uint16_t slot() const { return static_cast<uint16_t>(ctx_.slot); }
  std::string& scratch() { return scratch_; }
  std::string& json() { return json_; }
  std::vector<WsTarget>& targets() { return targets_; }
  ws::Request& request() { return request_; }  // one parse at a time per worker

  uint64_t add(WsConnection* c);
  void remove(uint64_t token);
  // Hands `json` to the connection `to` (here or on another worker).
  void relay(const WsOwner& to, const RelayHeader& header, std::string_view json);
  // Output was queued for `token` outside its own callbacks: it is sent on the next loop turn,
  // with whatever else that connection gets meanwhile (several answers to one offerer leave in
  // one send).
  void markDirty(uint64_t token);

 private:
  void onWake();
  void flushDirty();
  void deliverLocal(const RelayHeader& header, std::string_view json);

  Tracker& t_;
  ServiceContext& ctx_;
  WsSwarmStore store_;
  shm::RingArray* rings_ = nullptr;
  shm::Ring* mine_ = nullptr;
  int wakeFd_ = -1;
  IoWatcher wakeWatcher_;
  Timer flushTimer_;
  std::vector<uint64_t> dirty_, flushing_;
  std::vector<uint16_t> wakes_;  // worker slots to wake on this turn's flush
  uint64_t nextToken_;
  std::unordered_map<uint64_t, WsConnection*> connections_;
  std::string scratch_, json_;
  std::vector<WsTarget> targets_;
  ws::Request request_;
};

class WsConnection : public ConnectionHandler {
 public:
  static constexpr size_t kMaxPending = 64;
  // Swarm memberships one connection may hold (a browser seeds a handful; each costs 40 bytes
  // here and a swarm record in shm).
  static constexpr size_t kMaxJoined = 256;

  WsConnection(WsHub& hub, Connection& conn);
  ~WsConnection() override;
  void onReadable(Connection& conn) override;
  void onClose(Connection& conn) override;
  // Open WebSockets are never "idle" to the drain: graceful stop closes them with 1001 through
  // WsHub::closeAll instead of dropping them silently.
  bool busy() const override { return !closing_; }

  // A relayed message for this connection (from the hub, maybe outside its callbacks).
  void deliver(const RelayHeader& header, std::string_view json);
  // Sends a close frame and closes once it is out.
  void closeWith(uint16_t code, std::string_view reason);
  void flushQueued();  // from WsHub::flushDirty

 private:
  struct Joined {
    uint8_t infoHash[20];
    uint8_t peerId[20];
  };
  struct Pending {
    uint8_t infoHash[20];
    uint8_t fromPeerId[20];
    uint8_t offerId[20];
    double at;
  };

  void onMessage(std::string_view text);
  void announce(const ws::Request& req);
  void answer(const ws::Request& req);
  void scrape(const ws::Request& req);
  void sendText(std::string_view json);
  void leaveAll();
  void takeOver();  // once the HTTP session has handed over: our idle timeout
  bool consumePending(const ws::Request& req);

  WsHub& hub_;
  Connection& conn_;
  uint64_t token_;
  http::ws::MessageReader reader_;
  std::vector<Joined> joined_;
  std::vector<Pending> pending_;
  bool closing_ = false;
  bool dirty_ = false;  // in the hub's dirty list
  bool started_ = false;
};

}  // namespace manifold::tracker
