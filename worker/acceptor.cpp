#include "worker/acceptor.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "worker/connection_quota.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold {

namespace {
constexpr int kAcceptsPerWake = 64;
constexpr double kRetryAfterFdExhaustion = 0.1;
}  // namespace

Acceptor::Acceptor(WorkerRuntime& runtime, int listenFd, HandlerFactory factory,
                   ConnectionQuota* quota)
    : runtime_(runtime),
      fd_(listenFd),
      factory_(std::move(factory)),
      quota_(quota),
      io_(runtime.loop(), [this](int) { acceptSome(); }),
      retry_(runtime.loop(), [this] { onRetry(); }) {
  runtime_.onCapacity(resume, this);
  if (quota_) quota_->onRelease(resume, this);
}

Acceptor::~Acceptor() {
  stop();
  if (quota_) quota_->forget(this);
}

bool Acceptor::atLimit() const {
  if (runtime_.atConnectionLimit()) return true;
  // At the service's cap an idle connection can give way to a new one (connection_quota.hpp):
  // keep accepting while one could, and evict only once a connection has really arrived.
  return quota_ && quota_->full() && !quota_->canMakeRoom();
}

void Acceptor::start() {
  stopped_ = false;
  if (!atLimit()) io_.start(fd_, IoWatcher::kRead);
}

void Acceptor::stop() {
  stopped_ = true;
  io_.stop();
  retry_.stop();
}

void Acceptor::resume(void* arg) {
  auto* self = static_cast<Acceptor*>(arg);
  if (!self->stopped_ && !self->retry_.active() && !self->atLimit())
    self->io_.start(self->fd_, IoWatcher::kRead);
}

void Acceptor::onRetry() {
  if (!stopped_) io_.start(fd_, IoWatcher::kRead);
}

void Acceptor::acceptSome() {
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    if (atLimit()) {
      io_.stop();  // resumed by the runtime or the quota when one closes
      return;
    }
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        LOG_ERROR("accept: %s; pausing accepts for %.0f ms", strerror(errno),
                  kRetryAfterFdExhaustion * 1000);
        io_.stop();
        retry_.once(kRetryAfterFdExhaustion);
        return;
      }
      LOG_ERROR("accept: %s", strerror(errno));
      return;
    }
    if (peer.ss_family != AF_UNIX) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (quota_ && quota_->full()) quota_->evictOldestIdle();
    auto* conn = new Connection(runtime_, fd, peer, len);
    conn->start(factory_(*conn));
  }
}

}  // namespace manifold
