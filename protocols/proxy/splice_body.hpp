// A Content-Length response body moved from the upstream socket to the client socket with
// splice(2) through a pooled pipe: no user-space copy, and each piece goes on as soon as it
// arrives. Plain TCP on both sides only (TLS and HTTP/2 need the bytes in user space: the
// relay keeps its buffer path for them, and for chunked or cached bodies).
//
// The relay hands over once the head and the body bytes already buffered are flushed to the
// client, with both connections' own reading of those bytes out of the way (the upstream
// connection paused). Flow control is the pipe's: while the client does not take the bytes,
// the pipe fills and the upstream is not read. Events: Progress (bytes moved; the relay re-arms
// its timeout: the client's send_timeout while the client is the one behind, else
// read_timeout), Done (every byte reached the client's socket), UpstreamClosed (the backend
// closed early), Failed (a socket error either way). A relay cut short closes the pipe when it
// still holds bytes (SplicePipes::release).
#pragma once

#include <cstdint>
#include <functional>

#include "worker/io_watcher.hpp"
#include "worker/splice_pipes.hpp"

namespace manifold::proxy {

class SpliceBody {
 public:
  enum class Event : uint8_t { Progress, Done, UpstreamClosed, Failed };
  using Callback = std::function<void(Event)>;
  static constexpr uint64_t kPiece = 256 * 1024;  // read from the upstream per splice call

  SpliceBody(struct ev_loop* loop, SplicePipes& pipes, Callback onEvent);
  ~SpliceBody() { stop(); }

  // Moves `length` bytes from `from` to `to`; false (nothing done) when no pipe can be had.
  // `now`: moves what it can at once (the callback may run before this returns); else the
  // first move waits for the upstream's readiness, so that events never run inside a
  // connection's own callback (where closing that connection would be deferred).
  bool start(int from, int to, uint64_t length, bool now);
  void stop();
  bool active() const { return pipe_.open(); }
  bool waitingForClient() const { return out_.active(); }
  uint64_t read() const { return read_; }  // bytes taken from the upstream so far

 private:
  void pump();
  bool fill();   // upstream -> pipe; false when an event ended the transfer
  bool drain();  // pipe -> client; false when an event ended the transfer

  SplicePipes& pipes_;
  Callback onEvent_;
  IoWatcher in_, out_;
  SplicePipe pipe_;
  int from_ = -1, to_ = -1;
  uint64_t remaining_ = 0;  // still to read from the upstream
  uint64_t read_ = 0;
  bool blockedIn_ = false, blockedOut_ = false;
};

}  // namespace manifold::proxy
