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
    : runtime_(runtime), fd_(listenFd), factory_(std::move(factory)), quota_(quota) {
  ev_io_init(&io_, onAccept, fd_, EV_READ);
  io_.data = this;
  ev_timer_init(&retry_, onRetry, kRetryAfterFdExhaustion, 0.);
  retry_.data = this;
  runtime_.onCapacity(resume, this);
  if (quota_) quota_->onRelease(resume, this);
}

Acceptor::~Acceptor() {
  stop();
  if (quota_) quota_->forget(this);
}

bool Acceptor::atLimit() const {
  return runtime_.atConnectionLimit() || (quota_ && quota_->full());
}

void Acceptor::start() {
  stopped_ = false;
  if (!atLimit()) ev_io_start(runtime_.loop(), &io_);
}

void Acceptor::stop() {
  stopped_ = true;
  ev_io_stop(runtime_.loop(), &io_);
  ev_timer_stop(runtime_.loop(), &retry_);
}

void Acceptor::resume(void* arg) {
  auto* self = static_cast<Acceptor*>(arg);
  if (!self->stopped_ && !ev_is_active(&self->retry_) && !self->atLimit())
    ev_io_start(self->runtime_.loop(), &self->io_);
}

void Acceptor::onAccept(struct ev_loop*, ev_io* watcher, int) {
  static_cast<Acceptor*>(watcher->data)->acceptSome();
}

void Acceptor::onRetry(struct ev_loop*, ev_timer* watcher, int) {
  auto* self = static_cast<Acceptor*>(watcher->data);
  if (!self->stopped_) ev_io_start(self->runtime_.loop(), &self->io_);
}

void Acceptor::acceptSome() {
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    if (atLimit()) {
      ev_io_stop(runtime_.loop(), &io_);  // resumed by the runtime or the quota when one closes
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
        ev_io_stop(runtime_.loop(), &io_);
        ev_timer_start(runtime_.loop(), &retry_);
        return;
      }
      LOG_ERROR("accept: %s", strerror(errno));
      return;
    }
    if (peer.ss_family != AF_UNIX) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    auto* conn = new Connection(runtime_, fd, peer, len);
    conn->start(factory_(*conn));
  }
}

}  // namespace manifold
