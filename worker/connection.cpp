#include "worker/connection.hpp"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/tls.hpp"

namespace manifold {

namespace {
constexpr size_t kInputMax = 256 * 1024;       // a handler that consumes nothing never needs more
constexpr size_t kSendfileSlice = 512 * 1024;  // per wake, so one big file cannot starve others
constexpr double kDrainIdleGrace = 0.5;        // idle keep-alive conns younger than this may race
// Lingering close (see the header): bounded so a peer that never stops cannot hold the fd.
constexpr double kLingeringTimeout = 2;  // without input
constexpr double kLingeringTime = 10;    // in total
}  // namespace

OpenFile::~OpenFile() {
  if (fd >= 0) ::close(fd);
}

Connection::Connection(WorkerRuntime& runtime, int fd, const sockaddr_storage& peer,
                       socklen_t peerLen)
    : runtime_(runtime), peerLen_(std::min<socklen_t>(peerLen, sizeof peer_)), fd_(fd) {
  std::memcpy(&peer_, &peer, peerLen_);
  ev_io_init(&io_, onIoEvent, fd_, EV_READ);
  io_.data = this;
  ev_init(&timer_, onTimerEvent);
  timer_.data = this;
  lastActivity_ = now();
}

Connection::Connection(WorkerRuntime& runtime, ConnectionPeer& peer,
                       const sockaddr_storage& peerAddress, socklen_t peerLen)
    : Connection(runtime, -1, peerAddress, peerLen) {
  internalPeer_ = &peer;
}

double Connection::now() const { return ev_now(runtime_.loop()); }

void Connection::onIoEvent(struct ev_loop*, ev_io* watcher, int events) {
  static_cast<Connection*>(watcher->data)->onIo(events & (EV_READ | EV_WRITE));
}

void Connection::onTimerEvent(struct ev_loop*, ev_timer* watcher, int) {
  static_cast<Connection*>(watcher->data)->onTimer();
}

namespace {
void watchIo(struct ev_loop* loop, ev_io& io, int events) {
  ev_io_stop(loop, &io);
  ev_io_set(&io, io.fd, events);
  ev_io_start(loop, &io);
}
}  // namespace

Connection::~Connection() { releaseBuffers(); }

void Connection::releaseBuffers() {
  if (!in_.empty()) runtime_.giveInputBuffer(std::move(in_));
  if (outTaken_) runtime_.giveBuffer(std::move(out_));
  outTaken_ = false;
  in_ = std::string();
  out_ = std::string();
  inStart_ = inEnd_ = 0;
  outSent_ = 0;
}

void Connection::start(std::unique_ptr<ConnectionHandler> handler) {
  handler_ = std::move(handler);
  // An internal connection is not a client's: not counted, and its owner closes it (a drain
  // closing its owner first would otherwise leave a dangling entry in the drain's snapshot).
  if (!internalPeer_) {
    runtime_.connectionOpened(this);
    ioEvents_ = EV_READ;
    watchIo(runtime_.loop(), io_, EV_READ);
  }
  armTimer();
}

void Connection::startTls(std::unique_ptr<TlsSession> session) { tls_ = std::move(session); }

bool Connection::tlsHandshake() {
  const int state = tls_->handshake();
  if (state < 0) abort_ = true;
  if (state <= 0) return false;
  lastActivity_ = now();
  return true;
}

ssize_t Connection::readSome(char* buffer, size_t length) {
  return tls_ ? tls_->read(buffer, length) : ::read(fd_, buffer, length);
}

ssize_t Connection::sendSome(const char* data, size_t length, int flags) {
  if (internalPeer_) return internalPeer_->take(data, length);
  return tls_ ? tls_->write(data, length) : ::send(fd_, data, length, flags);
}

ssize_t Connection::sendFileSome(int fd, off_t* offset, size_t length) {
  return tls_ ? tls_->sendFile(fd, offset, length) : ::sendfile(fd_, fd, offset, length);
}

std::string& Connection::output() {
  if (!outTaken_) {
    out_ = runtime_.takeBuffer();
    outTaken_ = true;
  }
  return out_;
}

void Connection::queueFile(std::shared_ptr<OpenFile> file, off_t offset, uint64_t length) {
  if (length == 0) return;
  if (!files_) files_ = std::make_unique<std::vector<FileChunk>>();
  files_->push_back(FileChunk{out_.size(), std::move(file), offset, length});
}

void Connection::setIdleTimeout(double seconds) {
  absoluteDeadline_ = false;
  if (static_cast<float>(seconds) == timeout_) return;
  timeout_ = static_cast<float>(seconds);
  armTimer();
}

void Connection::setDeadline(double seconds) {
  absoluteDeadline_ = true;
  deadlineStart_ = now();
  timeout_ = static_cast<float>(seconds);
  armTimer();
}

void Connection::markActive() {
  lastActivity_ = now();
  armTimer();
}

double Connection::expiry() const {
  if (lingering_)
    return std::min(deadlineStart_ + kLingeringTime, lastActivity_ + kLingeringTimeout);
  bool sending = outputPending();
  double limit = sending ? sendTimeout_ : timeout_;
  if (limit <= 0) return 0;
  return ((!sending && absoluteDeadline_) ? deadlineStart_ : lastActivity_) + limit;
}

void Connection::armTimer() {
  ev_timer_stop(runtime_.loop(), &timer_);
  timerSending_ = outputPending();
  double at = expiry();
  if (at <= 0) return;
  ev_timer_set(&timer_, std::max(at - now(), 0.001), 0.);
  ev_timer_start(runtime_.loop(), &timer_);
}

void Connection::onTimer() {
  double at = expiry();
  if (at > 0 && at - now() <= 0) {
    LOG_DEBUG("connection fd %d: %s timeout", fd_,
              lingering_        ? "lingering"
              : outputPending() ? "send"
                                : "read");
    destroy();
    return;
  }
  armTimer();
}

void Connection::onIo(int events) {
  inEvent_ = true;
  if (events & EV_WRITE) flush();
  // A TLS handshake or read step that waited for the socket to become writable goes on.
  const bool tlsStep = (events & EV_WRITE) && tls_ && tls_->wantsWrite();
  if ((events & EV_READ || tlsStep) && !abort_) handleRead();
  applyUpgrade();
  inEvent_ = false;
  afterEvent();
}

void Connection::upgrade(std::unique_ptr<ConnectionHandler> next) {
  next_ = std::move(next);
  if (inEvent_) return;  // applied when the current callback returns
  inEvent_ = true;
  applyUpgrade();
  if (!abort_ && outputPending()) flush();  // a request queued by the new owner leaves now
  inEvent_ = false;
  afterEvent();
}

void Connection::applyUpgrade() {
  while (next_ && !abort_) {
    std::unique_ptr<ConnectionHandler> old = std::move(handler_);
    handler_ = std::move(next_);
    old.reset();  // its callback has returned
    if (!pendingInput().empty() && !closing()) {
      handler_->onReadable(*this);
      if (!abort_) flush();
    }
  }
}

void Connection::close() {
  if (inEvent_) {
    abort_ = true;
    return;
  }
  destroy();
}

bool Connection::startLingering() {
  if (readClosed_ || internalPeer_) return false;
  bool more = lingerOnClose_ || inStart_ < inEnd_;
  if (!more) {
    char byte;  // only on the closing path: one peek, not a syscall per request
    more = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }
  if (!more) return false;
  if (tls_) tls_->closeNotify();
  if (::shutdown(fd_, SHUT_WR) < 0) return false;
  lingering_ = true;
  inStart_ = inEnd_ = 0;
  deadlineStart_ = lastActivity_ = now();  // lingering has no input deadline: reuse its start
  armTimer();
  return true;
}

void Connection::discardInput() {
  if (in_.empty()) in_ = runtime_.takeInputBuffer();
  ssize_t n = ::read(fd_, in_.data(), in_.size());
  if (n > 0) {
    lastActivity_ = now();
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  readClosed_ = true;  // EOF (or an error): nothing left to wait for
}

void Connection::send() {
  if (inEvent_) return;
  inEvent_ = true;
  if (!abort_ && outputPending()) flush();
  inEvent_ = false;
  afterEvent();
}

void Connection::pauseReading(bool paused) {
  if (readPaused_ == paused) return;
  readPaused_ = paused;
  if (!paused && internalPeer_) internalPeer_->readable(*this);
  if (!inEvent_) send();  // re-arms the watcher
}

void Connection::reprocess() {
  inEvent_ = true;
  handler_->onReadable(*this);
  if (!abort_) flush();
  applyUpgrade();  // as after an I/O event: the resumed request may switch protocols
  inEvent_ = false;
  afterEvent();
}

bool Connection::makeRoom() {
  if (in_.empty()) in_ = runtime_.takeInputBuffer();
  if (inStart_ == inEnd_) {
    inStart_ = inEnd_ = 0;
  } else if (inStart_ > 0 && inEnd_ == in_.size()) {
    std::memmove(in_.data(), in_.data() + inStart_, inEnd_ - inStart_);
    inEnd_ -= inStart_;
    inStart_ = 0;
  }
  if (inEnd_ == in_.size()) {
    if (in_.size() >= kInputMax) return false;
    in_.resize(std::min(in_.size() * 2, kInputMax));
  }
  return true;
}

size_t Connection::deliver(std::string_view bytes) {
  if (inEvent_ || closing() || readPaused_ || !makeRoom()) return 0;
  const size_t n = std::min(bytes.size(), in_.size() - inEnd_);
  std::memcpy(in_.data() + inEnd_, bytes.data(), n);
  inEnd_ += n;
  lastActivity_ = now();
  inEvent_ = true;
  handler_->onReadable(*this);
  if (!abort_) flush();
  applyUpgrade();
  inEvent_ = false;
  afterEvent();  // may destroy this
  return n;
}

// Through the loop, not at once: the peer calls this from inside its own work.
void Connection::resumeOutput() { ev_feed_event(runtime_.loop(), &io_, EV_WRITE); }

void Connection::handleRead() {
  if (lingering_) {
    discardInput();
    return;
  }
  if (tls_ && !tls_->established() && !tlsHandshake()) return;
  if (!makeRoom()) {
    abort_ = true;  // the handler keeps refusing to consume: it has no limit of its own
    return;
  }
  ssize_t n = readSome(in_.data() + inEnd_, in_.size() - inEnd_);
  if (n > 0) {
    inEnd_ += n;
    lastActivity_ = now();
    handler_->onReadable(*this);
    if (!abort_) flush();
    return;
  }
  if (n == 0) {
    readClosed_ = true;
    // With an answer still to come, afterEvent closes once it has been sent.
    closeAfterFlush_ = !(handler_ && handler_->awaitingAnswer());
    return;
  }
  if (errno == EAGAIN || errno == EINTR) return;
  LOG_DEBUG("read fd %d: %s", fd_, strerror(errno));
  abort_ = true;
}

void Connection::flush() {
  size_t sentfileThisWake = 0;
  while (!abort_) {
    size_t limit = hasFiles() ? files_->front().position : out_.size();
    if (outSent_ < limit) {
      int flags = MSG_NOSIGNAL | (hasFiles() ? MSG_MORE : 0);
      ssize_t n = sendSome(out_.data() + outSent_, limit - outSent_, flags);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        LOG_DEBUG("send fd %d: %s", fd_, strerror(errno));
        abort_ = true;
        return;
      }
      outSent_ += n;
      lastActivity_ = now();
      // Short: the socket buffer is full (TLS writes stop after each record: try again).
      if (!tls_ && static_cast<size_t>(n) < limit - (outSent_ - n)) return;
      continue;
    }
    if (hasFiles()) {
      FileChunk& chunk = files_->front();
      // Come back when writable again (an internal peer only notes the range: no slices).
      if (sentfileThisWake >= kSendfileSlice && !internalPeer_) return;
      size_t want = std::min<uint64_t>(chunk.remaining, internalPeer_ ? SIZE_MAX : kSendfileSlice);
      ssize_t n = internalPeer_ ? internalPeer_->takeFile(chunk.file, &chunk.offset, want)
                                : sendFileSome(chunk.file->fd, &chunk.offset, want);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        // A client leaving mid-download is ordinary; other failures deserve a warning.
        if (errno == EPIPE || errno == ECONNRESET)
          LOG_DEBUG("sendfile fd %d: %s", fd_, strerror(errno));
        else
          LOG_WARN("sendfile fd %d: %s", fd_, strerror(errno));
        abort_ = true;
        return;
      }
      if (n == 0) {  // file shrank under us: the promised length cannot be kept
        LOG_WARN("sendfile fd %d: file ended early, closing", fd_);
        abort_ = true;
        return;
      }
      chunk.remaining -= n;
      sentfileThisWake += n;
      lastActivity_ = now();
      if (chunk.remaining == 0) files_->erase(files_->begin());
      continue;
    }
    // Everything sent: reuse the buffer from its start.
    out_.clear();
    outSent_ = 0;
    return;
  }
}

bool Connection::idle() const {
  return !outputPending() && inStart_ == inEnd_ && !(handler_ && handler_->busy());
}

void Connection::closeIfIdle() {
  if (!drainNoticed_ && !inEvent_ && handler_) {
    drainNoticed_ = true;
    if (handler_->onDrain(*this)) {
      send();  // may close (and destroy) the connection: nothing after it
      return;
    }
  }
  if (!idle()) return;
  if (now() - lastActivity_ < kDrainIdleGrace) return;  // re-checked later
  if (inEvent_) {
    abort_ = true;
    return;
  }
  destroy();
}

void Connection::afterEvent() {
  if (abort_) {
    destroy();
    return;
  }
  if (!outputPending() && closeAfterFlush_ && !lingering_ && !startLingering()) {
    destroy();
    return;
  }
  if (!outputPending() && !lingering_) {
    inEvent_ = true;  // an upgrade asked for in onDrained waits until it returns
    handler_->onDrained(*this);
    applyUpgrade();
    inEvent_ = false;
    if (abort_) {
      destroy();
      return;
    }
    if (outputPending()) {
      flush();
      if (abort_) {
        destroy();
        return;
      }
    }
    // Draining: an idle connection closes once it has been quiet for the grace (the drain
    // check closes it then), not right after an answer, when the client (DNS over TCP, which
    // has no Connection: close) may already have sent its next query.
    if (!outputPending() && runtime_.draining() && idle() &&
        now() - lastActivity_ >= kDrainIdleGrace) {
      destroy();
      return;
    }
  }
  // Read only when nothing waits to be sent; write only while something does (or while a TLS
  // step waits to write).
  int want = internalPeer_                ? 0  // the peer delivers and resumes
             : outputPending()            ? EV_WRITE
             : readClosed_ || readPaused_ ? 0
             : tls_ && tls_->wantsWrite() ? EV_WRITE
                                          : EV_READ;
  if (want != ioEvents_) {
    ioEvents_ = want;
    if (want)
      watchIo(runtime_.loop(), io_, want);
    else
      ev_io_stop(runtime_.loop(), &io_);
  }
  // Decrypted bytes left inside TLS: the socket will not signal them, so read again next turn.
  if (want == EV_READ && tls_ && !lingering_ && tls_->pending())
    ev_feed_event(runtime_.loop(), &io_, EV_READ);
  // A parked answer is still to come: close once it has been sent.
  if (!outputPending() && readClosed_ && !(handler_ && handler_->awaitingAnswer())) {
    destroy();
    return;
  }
  if (!outputPending() && inStart_ == inEnd_) releaseBuffers();
  // The timer callback recomputes the deadline itself; re-arm only when the mode changes.
  if (outputPending() != timerSending_ || !ev_is_active(&timer_)) armTimer();
}

void Connection::destroy() {
  ev_io_stop(runtime_.loop(), &io_);
  ev_timer_stop(runtime_.loop(), &timer_);
  if (handler_) handler_->onClose(*this);
  if (tls_ && !abort_) tls_->closeNotify();
  if (internalPeer_) {
    internalPeer_->closed(*this);
  } else {
    ::close(fd_);
    runtime_.connectionClosed(this);
  }
  delete this;
}

}  // namespace manifold
