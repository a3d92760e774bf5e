#include "protocols/http/h2_session.hpp"

#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "protocols/http/chunked.hpp"
#include "protocols/http/h2_message.hpp"
#include "protocols/http/server.hpp"
#include "protocols/proxy/response.hpp"
#include "worker/io_watcher.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/timer.hpp"

namespace manifold::http {

namespace {

constexpr uint32_t kMaxConcurrentStreams = 100;
constexpr size_t kMaxQueued = 128;         // requests on the internal connection, reset included
constexpr size_t kOutputHigh = 64 * 1024;  // frames queued on the client connection
constexpr size_t kStreamBodyHigh = 256 * 1024;  // unsent response body of the front stream
constexpr size_t kReadSlice = 64 * 1024;
constexpr uint64_t kResetFloor = 200;  // resets tolerated before the ratio check applies
constexpr double kGoawayGrace = 1.0;   // between the GOAWAY notice and the final GOAWAY
constexpr size_t kMaxBackends = 4;     // internal connections per HTTP/2 connection

struct Stream {
  explicit Stream(int32_t i, size_t maxHeaderBytes) : id(i), builder(maxHeaderBytes) {}
  int32_t id;
  H2RequestBuilder builder;
  std::string request;    // HTTP/1.1 bytes not yet written to the internal connection
  size_t unconsumed = 0;  // DATA bytes received, not yet credited back to the client's window
  bool requestEnded = false;
  bool headRequest = false;
  bool chunked = false;
  bool closed = false;  // the HTTP/2 stream is gone: its response is read and dropped
  // Response, as it comes back.
  bool headDone = false;
  proxy::Framing framing = proxy::Framing::None;
  uint64_t bodyLeft = 0;
  ChunkedDecoder decoder;
  std::string body;
  size_t bodySent = 0;
  bool bodyEnded = false;
  bool deferred = false;  // the data source waits for body bytes
  bool headWritten = false;
  bool abandoned = false;  // reset with its request half written: its connection is dropped
  struct Backend* backend = nullptr;  // the internal connection its request went to
};

// One internal HTTP/1.1 connection and the requests queued on it, in order.
struct Backend {
  Backend(struct ev_loop* loop, std::function<void(int)> onReady) : io(loop, std::move(onReady)) {}
  IoWatcher io;
  int fd = -1;
  unsigned generation = 0;  // changes whenever the connection is closed
  std::string in;           // response bytes not parsed yet
  std::deque<std::shared_ptr<Stream>> pipeline;
  size_t writeIndex = 0;  // pipeline[writeIndex] is being written
  unsigned written = 0;   // requests begun on the current connection
  bool readPaused = false;
};

class H2Session : public ConnectionHandler {
 public:
  H2Session(Listener& listener, Connection& conn)
      : listener_(listener),
        conn_(conn),
        limits_(*listener.defaultSite().limits),
        more_(conn.runtime().loop(), [this] { onMore(); }),
        finalGoaway_(conn.runtime().loop(), [this] { onFinalGoaway(); }) {
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(cb, onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, onDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, onStreamClose);
    nghttp2_option* opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_no_auto_window_update(opt, 1);  // windows open as bodies are handed on
    nghttp2_option_set_max_outbound_ack(opt, 1000);    // PING/SETTINGS floods
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_session_server_new2(&session_, cb, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         static_cast<uint32_t>(limits_.parse.maxHeaderBytes)},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65535},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    conn.setIdleTimeout(limits_.keepaliveTimeout);
    listener.defaultSite().counters.inc(kConnectionsOpen);
  }

  ~H2Session() override {
    for (auto& b : backends_) closeBackend(*b);
    nghttp2_session_del(session_);
  }

  void onReadable(Connection& conn) override {
    std::string_view in = conn.pendingInput();
    ssize_t n =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(in.data()), in.size());
    if (n < 0) {
      LOG_DEBUG("h2: %s", nghttp2_strerror(static_cast<int>(n)));
      conn.consume(in.size());
      conn.closeAfterFlush();
      sendFrames();
      return;
    }
    conn.consume(static_cast<size_t>(n));
    for (auto& b : backends_) writeBackend(*b);
    sendFrames();
  }

  void onDrained(Connection&) override { sendFrames(); }

  // The worker drains (reload, QUIT): a GOAWAY notice now (no new streams, please), the final
  // GOAWAY naming the last stream taken one second later (streams the client sent before it saw
  // the notice are served), then the close once the streams in flight have finished.
  bool onDrain(Connection&) override {
    nghttp2_submit_shutdown_notice(session_);
    noticed_ = true;
    finalGoaway_.once(kGoawayGrace);
    sendFrames();
    return true;
  }

  void onFinalGoaway() {
    goaway_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    sendFrames();
    conn_.send();  // last: may destroy this
  }

  // Between the GOAWAY notice and the final GOAWAY the connection counts as busy, so that the
  // drain does not close it in between.
  bool busy() const override { return !streams_.empty() || queued() > 0 || (noticed_ && !goaway_); }

  void onClose(Connection&) override {
    listener_.defaultSite().counters.dec(kConnectionsOpen);
    for (auto& b : backends_) closeBackend(*b);
  }

 private:
  using StreamPtr = std::shared_ptr<Stream>;

  static H2Session& self(void* p) { return *static_cast<H2Session*>(p); }
  Stream* find(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }
  shm::CounterSlot counters() const { return listener_.defaultSite().counters; }

  // ---- nghttp2 callbacks: the client's side ----

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    H2Session& s = self(p);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    s.streams_[frame->hd.stream_id] =
        std::make_shared<Stream>(frame->hd.stream_id, s.limits_.parse.maxHeaderBytes);
    s.counters().inc(kH2Streams);
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t nameLength, const uint8_t* value, size_t valueLength, uint8_t,
                      void* p) {
    Stream* st = self(p).find(frame->hd.stream_id);
    if (!st || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers are dropped
    if (!st->builder.add(std::string_view(reinterpret_cast<const char*>(name), nameLength),
                         std::string_view(reinterpret_cast<const char*>(value), valueLength)))
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
    return 0;
  }

  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* p) {
    H2Session& s = self(p);
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
      s.counters().inc(kH2ResetsReceived);
      if (++s.resets_ > kResetFloor && s.resets_ > 2 * s.completed_)
        nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
      return 0;
    }
    Stream* st = s.find(frame->hd.stream_id);
    if (!st) return 0;
    const bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      if (s.queued() >= kMaxQueued || s.backendFailed_) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
        return 0;
      }
      if (!st->builder.finish(!end, st->request)) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return 0;
      }
      st->headRequest = st->builder.headRequest();
      st->chunked = st->builder.chunked();
      st->builder.reset();
      Backend& b = s.pick();
      st->backend = &b;
      b.pipeline.push_back(s.streams_[st->id]);
    }
    if (end && (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)) {
      if (st->chunked && !st->requestEnded) encodeChunk({}, true, st->request);
      st->requestEnded = true;
    }
    return 0;
  }

  static int onDataChunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t length,
                         void* p) {
    Stream* st = self(p).find(id);
    if (!st) return 0;
    std::string_view bytes(reinterpret_cast<const char*>(data), length);
    if (st->chunked)
      encodeChunk(bytes, false, st->request);
    else
      st->request.append(bytes);
    st->unconsumed += length;
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t error, void* p) {
    H2Session& s = self(p);
    auto it = s.streams_.find(id);
    if (it == s.streams_.end()) return 0;
    it->second->closed = true;
    if (error == NGHTTP2_NO_ERROR) ++s.completed_;
    if (!it->second->requestEnded) s.abandon(*it->second);
    s.streams_.erase(it);
    return 0;
  }

  // A stream closed before its request ended. Not begun on the internal connection: forgotten.
  // Begun (half a body written): that connection cannot be used any more; it is dropped once
  // the answers before this request have come back, and the rest go to a new one.
  void abandon(Stream& st) {
    if (!st.backend) return;
    Backend& b = *st.backend;
    auto it = std::find_if(b.pipeline.begin(), b.pipeline.end(),
                           [&](const StreamPtr& p) { return p.get() == &st; });
    if (it == b.pipeline.end()) return;
    if (!st.headWritten) {
      if (static_cast<size_t>(it - b.pipeline.begin()) < b.writeIndex) --b.writeIndex;
      b.pipeline.erase(it);
      return;
    }
    st.abandoned = true;
    dropAbandonedFront(b);
  }

  void dropAbandonedFront(Backend& b) {
    if (b.pipeline.empty() || !b.pipeline.front()->abandoned) return;
    b.pipeline.pop_front();
    b.writeIndex = 0;  // it was the one being written: nothing after it was begun
    closeBackend(b);
  }

  // The response body source of a stream.
  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void* p) {
    H2Session& s = self(p);
    Stream* st = static_cast<Stream*>(source->ptr);
    size_t ready = st->body.size() - st->bodySent;
    size_t n = std::min(length, ready);
    std::memcpy(buf, st->body.data() + st->bodySent, n);
    st->bodySent += n;
    if (st->bodySent == st->body.size()) {
      st->body.clear();
      st->bodySent = 0;
    }
    if (st->bodyEnded && st->body.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
      st->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    Backend* b = st->backend;
    if (b && b->readPaused && st->body.size() - st->bodySent < kStreamBodyHigh / 2)
      s.resumeReading(*b);
    return static_cast<ssize_t>(n);
  }

  // ---- the internal HTTP/1.1 connections ----

  size_t queued() const {
    size_t n = 0;
    for (const auto& b : backends_) n += b->pipeline.size();
    return n;
  }

  // Where a new request goes: an internal connection with nothing queued (so a long answer on
  // one stream does not hold up the others), a new one while fewer than kMaxBackends exist, else
  // the one with the shortest queue.
  Backend& pick() {
    Backend* best = nullptr;
    for (auto& b : backends_)
      if (b->pipeline.empty() && (!best || b->fd >= 0)) best = b.get();
    if (best) return *best;
    if (backends_.size() < kMaxBackends) {
      const size_t index = backends_.size();  // backends are never removed: the index holds
      backends_.push_back(std::make_unique<Backend>(
          conn_.runtime().loop(),
          [this, index](int events) { onBackend(*backends_[index], events); }));
      return *backends_.back();
    }
    for (auto& b : backends_)
      if (!best || b->pipeline.size() < best->pipeline.size()) best = b.get();
    return *best;
  }

  bool openBackend(Backend& b) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
      LOG_ERROR("h2: socketpair: %s", strerror(errno));
      return false;
    }
    auto* inner = new Connection(conn_.runtime(), pair[1], conn_.peer(), conn_.peerLength());
    inner->start(listener_.internalSession(*inner));
    b.fd = pair[0];
    b.in.clear();
    b.written = 0;
    b.io.start(b.fd, IoWatcher::kRead);
    b.readPaused = false;
    return true;
  }

  void closeBackend(Backend& b) {
    ++b.generation;
    b.in.clear();
    if (b.fd < 0) return;
    b.io.stop();
    ::close(b.fd);
    b.fd = -1;
  }

  // Writes queued requests in order; a request's body must end before the next request starts.
  void writeBackend(Backend& b) {
    bool blocked = false;
    while (b.writeIndex < b.pipeline.size()) {
      Stream& st = *b.pipeline[b.writeIndex];
      if (st.abandoned) break;  // waits for the answers before it (dropAbandonedFront)
      if (b.fd < 0) {
        // The last internal connection ended after a response that closed it: a new one, but
        // only for requests never written (those written after that response were refused).
        if (!openBackend(b)) {
          failAll();
          return;
        }
      }
      // keepalive_requests ends an internal connection: no request is written past its last
      // one (it would be refused); the next connection takes the rest.
      if (st.request.size() && !st.headWritten) {
        if (b.written >= limits_.keepaliveRequests) break;
        st.headWritten = true;
        ++b.written;
      }
      if (!st.request.empty()) {
        ssize_t n = ::send(b.fd, st.request.data(), st.request.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) {
            blocked = true;
            break;
          }
          break;  // closed: the read side sees it and refuses what is left
        }
        st.request.erase(0, static_cast<size_t>(n));
        if (!st.request.empty()) {
          blocked = true;
          break;
        }
      }
      if (st.unconsumed) {
        nghttp2_session_consume(session_, st.id, st.unconsumed);
        st.unconsumed = 0;
      }
      if (!st.requestEnded) break;  // more body to come
      ++b.writeIndex;
    }
    if (b.fd >= 0)
      b.io.start(b.fd, (b.readPaused ? 0 : IoWatcher::kRead) | (blocked ? IoWatcher::kWrite : 0));
  }

  void pauseReading(Backend& b) {
    b.readPaused = true;
    writeBackend(b);  // re-arms without kRead
  }
  void resumeReading(Backend& b) {
    b.readPaused = false;
    writeBackend(b);
  }

  void onBackend(Backend& b, int events) {
    if (events & IoWatcher::kWrite) writeBackend(b);
    if ((events & IoWatcher::kRead) && !b.readPaused) readResponses(b);
    sendFrames();
    conn_.send();  // last: the client connection may close (and destroy this) here
  }

  void onMore() {
    sendFrames();
    conn_.send();  // last: may destroy this
  }

  void readResponses(Backend& b) {
    for (;;) {
      const size_t at = b.in.size();
      b.in.resize(at + kReadSlice);
      ssize_t n = ::read(b.fd, b.in.data() + at, kReadSlice);
      b.in.resize(at + std::max<ssize_t>(n, 0));
      if (n > 0) {
        parseResponses(b, false);
        if (b.readPaused || b.fd < 0) return;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      parseResponses(b, true);  // EOF: a body read until close ends here
      backendEnded(b);
      return;
    }
  }

  // The internal connection closed: requests written to it and not answered are refused (the
  // HTTP/1.1 session stops after a response that closes the connection: they were not
  // processed); the rest go to a new one.
  void backendEnded(Backend& b) {
    closeBackend(b);
    while (!b.pipeline.empty() && b.writeIndex > 0) {
      StreamPtr st = b.pipeline.front();
      b.pipeline.pop_front();
      --b.writeIndex;
      if (!st->closed)
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st->id,
                                  st->headDone ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_REFUSED_STREAM);
    }
    if (b.writeIndex < b.pipeline.size()) writeBackend(b);
  }

  // The internal connections cannot be made (or answered nonsense): every queued stream is
  // reset and new ones are refused.
  void failAll() {
    backendFailed_ = true;
    for (auto& b : backends_) {
      for (StreamPtr& st : b->pipeline)
        if (!st->closed)
          nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
      b->pipeline.clear();
      b->writeIndex = 0;
    }
  }

  void parseResponses(Backend& b, bool eof) {
    const unsigned generation = b.generation;  // replaced: the bytes read are void
    size_t used = 0;
    while (!b.pipeline.empty()) {
      Stream& st = *b.pipeline.front();
      std::string_view in(b.in.data() + used, b.in.size() - used);
      if (!st.headDone) {
        proxy::ResponseHead head;
        proxy::ResponseParse r = proxy::parseResponse(in, head, st.headRequest);
        if (r.status == proxy::ResponseStatus::Incomplete) break;
        if (r.status == proxy::ResponseStatus::Error) {
          LOG_WARN("h2: the HTTP/1.1 engine answered something unparsable");
          failAll();
          used = b.in.size();
          closeBackend(b);
          break;
        }
        st.headDone = true;
        st.framing = head.framing;
        st.bodyLeft = head.framing == proxy::Framing::Length ? head.contentLength : 0;
        if (!st.closed) submitHead(st, head);
        used += r.consumed;
        if (st.framing == proxy::Framing::None ||
            (st.framing == proxy::Framing::Length && st.bodyLeft == 0)) {
          finishFront(b);
          if (b.generation != generation) return;
          continue;
        }
        in = std::string_view(b.in.data() + used, b.in.size() - used);
      }
      bool done = false;
      size_t take = 0;
      if (st.framing == proxy::Framing::Length) {
        take = std::min<uint64_t>(in.size(), st.bodyLeft);
        addBody(st, in.substr(0, take));
        st.bodyLeft -= take;
        done = st.bodyLeft == 0;
      } else if (st.framing == proxy::Framing::Chunked) {
        while (take < in.size()) {
          size_t n = 0;
          std::string_view data;
          auto status = st.decoder.feed(in.substr(take), n, data);
          take += n;
          addBody(st, data);
          if (status == ChunkedDecoder::Status::Error) {
            failAll();
            closeBackend(b);
            return;
          }
          if (status == ChunkedDecoder::Status::Done) {
            done = true;
            break;
          }
        }
      } else {  // until close
        take = in.size();
        addBody(st, in);
        done = eof;
      }
      used += take;
      if (!done) break;
      finishFront(b);
      if (b.generation != generation) return;
    }
    b.in.erase(0, used);
    if (!b.pipeline.empty()) {
      const Stream& front = *b.pipeline.front();
      if (front.body.size() - front.bodySent > kStreamBodyHigh && !b.readPaused) pauseReading(b);
    }
  }

  void addBody(Stream& st, std::string_view data) {
    if (data.empty() || st.closed) return;
    st.body.append(data);
    if (st.deferred) {
      st.deferred = false;
      nghttp2_session_resume_data(session_, st.id);
    }
  }

  void finishFront(Backend& b) {
    StreamPtr st = b.pipeline.front();
    b.pipeline.pop_front();
    if (b.writeIndex > 0) --b.writeIndex;
    st->bodyEnded = true;
    if (st->deferred && !st->closed) {
      st->deferred = false;
      nghttp2_session_resume_data(session_, st->id);
    }
    if (!b.pipeline.empty() && b.pipeline.front()->abandoned) {
      dropAbandonedFront(b);
      writeBackend(b);  // the next requests on a new internal connection
    }
  }

  void submitHead(Stream& st, const proxy::ResponseHead& head) {
    responseFields(head, fields_, names_);
    nghttp2_data_provider provider;
    provider.source.ptr = &st;
    provider.read_callback = readBody;
    const bool hasBody = head.framing != proxy::Framing::None &&
                         !(head.framing == proxy::Framing::Length && head.contentLength == 0);
    nghttp2_submit_response(session_, st.id, fields_.data(), fields_.size(),
                            hasBody ? &provider : nullptr);
  }

  // Frames out to the client, while its connection takes them.
  void sendFrames() {
    std::string& out = conn_.output();
    while (out.size() < kOutputHigh) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    // Stopped at the cap with more to send: if the socket takes it all at once, no drain event
    // will follow, so come back on the next loop turn.
    if (out.size() >= kOutputHigh && nghttp2_session_want_write(session_)) more_.once(0);
    const bool done = !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_);
    if (done || (goaway_ && !busy())) conn_.closeAfterFlush();
    conn_.setIdleTimeout(busy() ? limits_.sendTimeout : limits_.keepaliveTimeout);
  }

  Listener& listener_;
  Connection& conn_;
  const ServerLimits& limits_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, StreamPtr> streams_;            // open HTTP/2 streams
  std::vector<std::unique_ptr<Backend>> backends_;  // internal connections, made as needed
  Timer more_;
  Timer finalGoaway_;
  bool backendFailed_ = false;
  bool goaway_ = false;
  bool noticed_ = false;
  uint64_t resets_ = 0, completed_ = 0;
  std::vector<nghttp2_nv> fields_;
  std::string names_;
};

}  // namespace

std::unique_ptr<ConnectionHandler> makeH2Session(Listener& listener, Connection& conn) {
  return std::make_unique<H2Session>(listener, conn);
}

}  // namespace manifold::http
