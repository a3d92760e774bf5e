// Outbound TCP connections on a worker's loop: non-blocking connect with a timeout, and a
// keep-alive pool keyed by address (address + port). Used by DNS health checks today; built for
// the reverse proxy, the file store and the tunnel's relay (one Connector per worker and user).
//
// Contract:
//  - connect(address, options, callback): the callback runs exactly once, with either a
//    Connection (connected, or taken from the pool) or an error as a value (errno: ECONNREFUSED,
//    ETIMEDOUT for the connect timeout, ENETUNREACH, ...). It may run before connect() returns
//    (a pooled connection, or a connect the kernel completes or refuses at once). On success the
//    callback queues its request in conn.output() and returns the ConnectionHandler that drives the
//    exchange (the connection is handed to it with Connection::upgrade, and the request leaves
//    at once); returning nullptr closes the connection. From then on it is an ordinary
//    Connection: buffers, output queue, flow control and read/send timeouts as for accepted
//    ones (options.readTimeout is its idle timeout while waiting for response bytes).
//  - Stale pooled connections: while pooled, a connection is watched; any byte or EOF from the
//    peer (a backend closing an idle keep-alive connection), or the pool's idle timeout, closes
//    it and drops it from the pool. A close can still race with a new request, so the outcome
//    says `reused`: a caller whose request on a reused connection fails before any response
//    byte arrived retries once with options.fresh (never taken from the pool).
//  - release(conn): the response is complete and the connection may be reused (keep-alive, no
//    unread input, nothing queued): it goes back to the pool (its handler is replaced once the
//    current callback returns). Otherwise, or when the address's pool is full, it is closed.
//    Call it instead of closing when an exchange ends cleanly.
//  - cancel(id) abandons a connect still in progress (the callback will not run). A connection
//    already handed out is the caller's to close (Connection::close).
//  - The Connector must outlive the connects it started; its destructor cancels those and closes
//    its pooled connections. Pooled connections also close on a graceful stop (they are idle).
//  - TLS: with options.tls the connector runs a client handshake (worker/tls.hpp) after the
//    TCP connect, driven by the socket's read and write readiness, within connectTimeout; the
//    callback then gets an established TLS Connection. A failed handshake is an error like a
//    refused connect: EKEYREJECTED when the server's certificate was refused (`detail` says
//    why), EPROTO otherwise. Pooled connections are keyed by endpoint too.
//  - Outbound connections count against the worker's connection cap like accepted ones.
//    Cost: a fresh connect allocates its pending state (it costs syscalls anyway); release()
//    allocates the small handler that watches the idle connection.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "worker/connection.hpp"
#include "worker/peer_address.hpp"
#include "worker/tls.hpp"

namespace manifold {

class WorkerRuntime;

struct ConnectOptions {
  double connectTimeout = 5;  // seconds until ETIMEDOUT; 0: the kernel's own (minutes)
  double readTimeout = 60;    // the connection's idle timeout (Connection::setIdleTimeout)
  double sendTimeout = 60;    // while a request cannot be sent (Connection::setSendTimeout)
  bool fresh = false;  // a new connection even if one is pooled (the retry after a stale one)
  const TlsEndpoint* tls = nullptr;  // TLS to the peer (outlives the connect); nullptr: plain
};

struct ConnectOutcome {
  Connection* connection = nullptr;  // null on error
  int error = 0;                     // errno when connection is null
  bool reused = false;               // taken from the pool (see "Stale pooled connections")
  const char* detail = nullptr;      // TLS: why the certificate was refused (static text)
};

struct PoolLimits {
  unsigned maxIdlePerAddress = 32;
  double idleTimeout = 60;  // a pooled connection unused this long is closed
};

class Connector {
 public:
  using Callback = std::function<std::unique_ptr<ConnectionHandler>(const ConnectOutcome&)>;
  using Id = uint64_t;  // 0: the callback already ran

  explicit Connector(WorkerRuntime& runtime, PoolLimits limits = {});
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  Id connect(const sockaddr* address, socklen_t length, const ConnectOptions& options,
             Callback callback);
  void cancel(Id id);
  bool release(Connection& conn);  // true: pooled

  size_t idleConnections() const { return idle_.size(); }
  size_t connectsInProgress() const { return pending_.size(); }

 private:
  struct Pending;
  class Parked;
  struct Key {
    net::PeerAddress address;
    uint16_t port = 0;
    const TlsEndpoint* tls = nullptr;
    bool operator==(const Key&) const = default;
  };
  struct Idle {
    Key key;
    Connection* conn;
  };
  static Key keyOf(const sockaddr* address, const TlsEndpoint* tls);
  Connection* takeIdle(const Key& key);
  void forget(Connection& conn);  // a pooled connection closed
  void onConnectEvent(Id id, bool timedOut);
  bool handshake(Pending& p, int& error, const char*& detail);  // true: done or failed
  void established(int fd, const sockaddr* address, socklen_t length, const ConnectOptions& options,
                   const Callback& callback, std::unique_ptr<TlsSession> session);
  void deliver(Connection& conn, bool reused, const ConnectOptions& options,
               const Callback& callback);
  std::vector<std::unique_ptr<Pending>>::iterator findPending(Id id);

  WorkerRuntime& runtime_;
  PoolLimits limits_;
  std::vector<Idle> idle_;  // small: a linear scan beats a map; newest last (taken first)
  std::vector<std::unique_ptr<Pending>> pending_;
  Id nextId_ = 1;
};

}  // namespace manifold
