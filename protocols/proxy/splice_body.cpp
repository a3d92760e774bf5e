#include "protocols/proxy/splice_body.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

namespace manifold::proxy {

SpliceBody::SpliceBody(struct ev_loop* loop, SplicePipes& pipes, Callback onEvent)
    : pipes_(pipes),
      onEvent_(std::move(onEvent)),
      in_(loop, [this](int) { pump(); }),
      out_(loop, [this](int) { pump(); }) {}

bool SpliceBody::start(int from, int to, uint64_t length, bool now) {
  if (!pipes_.acquire(pipe_)) return false;
  from_ = from;
  to_ = to;
  remaining_ = length;
  read_ = 0;
  if (now) {
    pump();
  } else {
    in_.start(from_, IoWatcher::kRead);
  }
  return true;
}

void SpliceBody::stop() {
  in_.stop();
  out_.stop();
  pipes_.release(pipe_);  // closed when it still holds bytes
  from_ = to_ = -1;
}

void SpliceBody::pump() {
  blockedIn_ = blockedOut_ = false;
  bool moved = false;
  for (;;) {
    const uint64_t before = read_;
    const size_t heldBefore = pipe_.held;
    if (!fill() || !drain()) return;  // an event ended it (the callback ran)
    if (remaining_ == 0 && pipe_.held == 0) {
      stop();
      onEvent_(Event::Done);  // may destroy the owner's state: nothing after this
      return;
    }
    bool progress = read_ != before || pipe_.held != heldBefore;
    moved = moved || progress;
    if (!progress) break;
  }
  // Watch what blocks: the client while the pipe holds bytes it did not take (the upstream then
  // waits: a pipe can be full in slots before `capacity` bytes, so its EAGAIN would look like
  // an empty socket), else the upstream (the pipe is then empty).
  if (blockedOut_) {
    out_.start(to_, IoWatcher::kWrite);
  } else {
    out_.stop();
  }
  if (blockedIn_ && !blockedOut_ && remaining_ > 0) {
    in_.start(from_, IoWatcher::kRead);
  } else {
    in_.stop();
  }
  if (moved) onEvent_(Event::Progress);
}

bool SpliceBody::fill() {
  if (remaining_ == 0 || pipe_.held >= pipe_.capacity) return true;
  // A piece at a time, so the client gets the first bytes while the rest still arrives.
  size_t want =
      static_cast<size_t>(std::min<uint64_t>({remaining_, pipe_.capacity - pipe_.held, kPiece}));
  ssize_t n =
      splice(from_, nullptr, pipe_.writeFd, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    pipe_.held += static_cast<size_t>(n);
    remaining_ -= static_cast<uint64_t>(n);
    read_ += static_cast<uint64_t>(n);
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    blockedIn_ = true;
    return true;
  }
  Event e = n == 0 ? Event::UpstreamClosed : Event::Failed;
  stop();
  onEvent_(e);
  return false;
}

bool SpliceBody::drain() {
  if (pipe_.held == 0) return true;
  ssize_t n =
      splice(pipe_.readFd, nullptr, to_, nullptr, pipe_.held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    pipe_.held -= static_cast<size_t>(n);
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    blockedOut_ = true;
    return true;
  }
  stop();
  onEvent_(Event::Failed);
  return false;
}

}  // namespace manifold::proxy
