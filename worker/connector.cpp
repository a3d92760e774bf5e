#include "worker/connector.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "worker/io_watcher.hpp"
#include "worker/runtime.hpp"
#include "worker/timer.hpp"

namespace manifold {

// A connect in progress: waits for writability (then SO_ERROR says how it went) or the timeout.
struct Connector::Pending {
  Pending(Connector& owner, Id id, struct ev_loop* loop)
      : io(loop, [&owner, id](int) { owner.onConnectEvent(id, false); }),
        timer(loop, [&owner, id] { owner.onConnectEvent(id, true); }),
        id(id) {}
  ~Pending() {
    io.stop();
    session.reset();
    if (fd >= 0) ::close(fd);
  }
  IoWatcher io;
  Timer timer;
  Callback callback;
  ConnectOptions options;
  std::unique_ptr<TlsSession> session;  // the client handshake, once TCP is connected
  sockaddr_storage address{};
  socklen_t length = 0;
  Id id;
  int fd = -1;
};

// The handler of a pooled connection: anything the peer sends while it is idle (bytes nobody
// asked for, or the EOF of a backend closing it) makes it unusable.
class Connector::Parked : public ConnectionHandler {
 public:
  explicit Parked(Connector& owner) : owner_(owner) {}
  void onReadable(Connection& conn) override { conn.abort(); }
  void onClose(Connection& conn) override { owner_.forget(conn); }

 private:
  Connector& owner_;
};

Connector::Connector(WorkerRuntime& runtime, PoolLimits limits)
    : runtime_(runtime), limits_(limits) {}

Connector::~Connector() {
  pending_.clear();  // closes their sockets; their callbacks never run
  std::vector<Idle> idle;
  idle.swap(idle_);
  for (Idle& i : idle) i.conn->close();
}

Connector::Key Connector::keyOf(const sockaddr* address, const TlsEndpoint* tls) {
  return Key{net::peerAddress(address), net::peerPort(address), tls};
}

Connector::Id Connector::connect(const sockaddr* address, socklen_t length,
                                 const ConnectOptions& options, Callback callback) {
  if (!options.fresh) {
    if (Connection* conn = takeIdle(keyOf(address, options.tls))) {
      deliver(*conn, true, options, callback);
      return 0;
    }
  }
  int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    callback(ConnectOutcome{nullptr, errno, false});
    return 0;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const bool connected = ::connect(fd, address, length) == 0;  // possible on loopback
  if (connected && !options.tls) {
    established(fd, address, length, options, callback, nullptr);
    return 0;
  }
  if (!connected && errno != EINPROGRESS) {
    int error = errno;
    ::close(fd);
    callback(ConnectOutcome{nullptr, error, false});
    return 0;
  }
  Id id = nextId_++;
  auto p = std::make_unique<Pending>(*this, id, runtime_.loop());
  p->fd = fd;
  p->callback = std::move(callback);
  p->options = options;
  p->length = std::min<socklen_t>(length, sizeof p->address);
  std::memcpy(&p->address, address, p->length);
  p->io.start(fd, IoWatcher::kWrite);
  if (options.connectTimeout > 0) p->timer.once(options.connectTimeout);
  pending_.push_back(std::move(p));
  if (connected) {  // the TLS handshake starts now; it may end (or fail) at once
    onConnectEvent(id, false);
    if (findPending(id) == pending_.end()) return 0;
  }
  return id;
}

std::vector<std::unique_ptr<Connector::Pending>>::iterator Connector::findPending(Id id) {
  return std::find_if(pending_.begin(), pending_.end(),
                      [id](const std::unique_ptr<Pending>& p) { return p->id == id; });
}

void Connector::cancel(Id id) {
  auto it = findPending(id);
  if (it != pending_.end()) pending_.erase(it);
}

void Connector::onConnectEvent(Id id, bool timedOut) {
  auto it = findPending(id);
  if (it == pending_.end()) return;
  int error = timedOut ? ETIMEDOUT : 0;
  const char* detail = nullptr;
  if (!timedOut && !(*it)->session) {
    socklen_t len = sizeof error;
    if (getsockopt((*it)->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) error = errno;
  }
  if (!timedOut && !error && (*it)->options.tls && !handshake(**it, error, detail)) return;
  // Out of the list before the callback runs: it may connect again or cancel.
  std::unique_ptr<Pending> p = std::move(*it);
  pending_.erase(it);
  if (error) {
    Callback callback = std::move(p->callback);
    p.reset();  // closes the socket
    ConnectOutcome outcome{nullptr, error, false};
    outcome.detail = detail;
    callback(outcome);
    return;
  }
  p->io.stop();
  int fd = p->fd;
  p->fd = -1;  // now the Connection's
  established(fd, reinterpret_cast<const sockaddr*>(&p->address), p->length, p->options,
              p->callback, std::move(p->session));
}

// One step of the client handshake on a connected socket; false while it waits for the socket
// (the watcher then follows the direction OpenSSL asked for).
bool Connector::handshake(Pending& p, int& error, const char*& detail) {
  if (!p.session) p.session = TlsSession::connect(*p.options.tls, p.fd);
  if (!p.session) {
    error = ENOMEM;
    return true;
  }
  const int state = p.session->handshake();
  if (state == 0) {
    p.io.start(p.fd, p.session->wantsWrite() ? IoWatcher::kWrite : IoWatcher::kRead);
    return false;
  }
  if (state < 0) {
    detail = p.session->verifyError();
    error = detail ? EKEYREJECTED : EPROTO;
  }
  return true;
}

void Connector::established(int fd, const sockaddr* address, socklen_t length,
                            const ConnectOptions& options, const Callback& callback,
                            std::unique_ptr<TlsSession> session) {
  sockaddr_storage peer{};
  std::memcpy(&peer, address, std::min<socklen_t>(length, sizeof peer));
  auto* conn = new Connection(runtime_, fd, peer, length);
  if (session) conn->startTls(std::move(session));
  conn->start(std::make_unique<Parked>(*this));
  deliver(*conn, false, options, callback);
}

void Connector::deliver(Connection& conn, bool reused, const ConnectOptions& options,
                        const Callback& callback) {
  conn.setSendTimeout(options.sendTimeout);
  conn.setIdleTimeout(options.readTimeout);
  conn.markActive();
  std::unique_ptr<ConnectionHandler> handler = callback(ConnectOutcome{&conn, 0, reused});
  if (handler)
    conn.upgrade(std::move(handler));
  else
    conn.close();
}

Connection* Connector::takeIdle(const Key& key) {
  for (size_t i = idle_.size(); i-- > 0;) {
    if (!(idle_[i].key == key)) continue;
    Connection* conn = idle_[i].conn;
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    return conn;
  }
  return nullptr;
}

void Connector::forget(Connection& conn) {
  auto it =
      std::find_if(idle_.begin(), idle_.end(), [&](const Idle& i) { return i.conn == &conn; });
  if (it != idle_.end()) idle_.erase(it);
}

bool Connector::release(Connection& conn) {
  Key key = keyOf(conn.peerAddress(), conn.tls() ? &conn.tls()->endpoint() : nullptr);
  size_t sameAddress =
      std::count_if(idle_.begin(), idle_.end(), [&](const Idle& i) { return i.key == key; });
  if (conn.closing() || conn.outputPending() || !conn.pendingInput().empty() ||
      runtime_.draining() || sameAddress >= limits_.maxIdlePerAddress) {
    conn.close();
    return false;
  }
  idle_.push_back(Idle{key, &conn});
  conn.setIdleTimeout(limits_.idleTimeout);
  conn.markActive();
  conn.upgrade(std::make_unique<Parked>(*this));
  return true;
}

}  // namespace manifold
