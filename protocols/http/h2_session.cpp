#include "protocols/http/h2_session.hpp"

#include <nghttp2/nghttp2.h>
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
#include "worker/log.hpp"
#include "worker/runtime.hpp"
#include "worker/timer.hpp"

namespace manifold::http {

namespace {

constexpr uint32_t kMaxConcurrentStreams = 100;
constexpr size_t kMaxQueued = 128;         // requests on the internal connection, reset included
constexpr size_t kOutputHigh = 64 * 1024;  // frames queued on the client connection
constexpr size_t kStreamBodyHigh = 256 * 1024;  // unsent response body bytes of the front stream
constexpr size_t kReadSlice = 64 * 1024;        // a file range read into a buffer (rare shapes)
constexpr uint64_t kResetFloor = 200;           // resets tolerated before the ratio check applies
constexpr double kGoawayGrace = 1.0;            // between the GOAWAY notice and the final GOAWAY
constexpr size_t kMaxBackends = 4;              // internal connections per HTTP/2 connection

struct Stream {
  explicit Stream(int32_t i) : id(i) {}
  int32_t id;
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
  // File ranges of the body, read by the data source straight into nghttp2's frame buffer;
  // each goes out after body[0, position).
  struct FileRange {
    size_t position;
    std::shared_ptr<OpenFile> file;
    off_t offset;
    uint64_t remaining;
  };
  std::deque<FileRange> files;
  bool bodyEnded = false;
  bool deferred = false;  // the data source waits for body bytes
  bool headWritten = false;
  bool abandoned = false;  // reset with its request half written: its connection is dropped
  struct Backend* backend = nullptr;  // the internal connection its request went to
};

class H2Session;

// One internal HTTP/1.1 connection (a socketless Connection: worker/connection.hpp) and the
// requests queued on it, in order. Its output arrives through take()/takeFile() and is parsed
// at once.
struct Backend : ConnectionPeer {
  explicit Backend(H2Session& s) : session(s) {}
  ssize_t take(const char* data, size_t length) override;
  ssize_t takeFile(const std::shared_ptr<OpenFile>& file, off_t* offset, size_t length) override;
  void closed(Connection& conn) override;
  void readable(Connection&) override;
  H2Session& session;
  Connection* conn = nullptr;
  unsigned generation = 0;  // changes whenever the connection is closed
  std::string in;           // response bytes not parsed yet
  std::deque<std::shared_ptr<Stream>> pipeline;
  size_t writeIndex = 0;  // pipeline[writeIndex] is being written
  unsigned written = 0;   // requests begun on the current connection
  bool full = false;      // take() refused bytes: resumeOutput() once the front stream drains
  bool blocked = false;   // the connection left request bytes untaken: try again later
};

class H2Session : public ConnectionHandler {
 public:
  H2Session(Listener& listener, Connection& conn)
      : listener_(listener),
        conn_(conn),
        limits_(*listener.defaultSite().limits),
        builder_(limits_.parse.maxHeaderBytes),
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
    writeBackends();
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
    s.streams_[frame->hd.stream_id] = std::make_shared<Stream>(frame->hd.stream_id);
    s.builder_.reset();  // a header block arrives whole before the next one begins
    s.counters().inc(kH2Streams);
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t nameLength, const uint8_t* value, size_t valueLength, uint8_t,
                      void* p) {
    Stream* st = self(p).find(frame->hd.stream_id);
    if (!st || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers are dropped
    if (!self(p).builder_.add(std::string_view(reinterpret_cast<const char*>(name), nameLength),
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
      if (!s.builder_.finish(!end, st->request)) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return 0;
      }
      st->headRequest = s.builder_.headRequest();
      st->chunked = s.builder_.chunked();
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

  // The response body source of a stream: bytes parsed from the internal connection, then file
  // ranges read straight into nghttp2's buffer (a file is never read whole into memory).
  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    Stream* st = static_cast<Stream*>(source->ptr);
    const size_t limit = st->files.empty() ? st->body.size() : st->files.front().position;
    size_t n = 0;
    if (st->bodySent < limit) {
      n = std::min(length, limit - st->bodySent);
      std::memcpy(buf, st->body.data() + st->bodySent, n);
      st->bodySent += n;
    } else if (!st->files.empty()) {
      Stream::FileRange& range = st->files.front();
      ssize_t got;
      do {
        got =
            ::pread(range.file->fd, buf, std::min<uint64_t>(length, range.remaining), range.offset);
      } while (got < 0 && errno == EINTR);
      if (got <= 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // shrank: the stream is reset
      n = static_cast<size_t>(got);
      range.offset += got;
      range.remaining -= n;
      if (range.remaining == 0) st->files.pop_front();
    }
    if (st->files.empty() && st->bodySent == st->body.size()) {
      st->body.clear();
      st->bodySent = 0;
    }
    if (st->bodyEnded && st->body.empty() && st->files.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
      st->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    Backend* b = st->backend;
    if (b && b->full && b->conn && st->body.size() - st->bodySent < kStreamBodyHigh / 2) {
      b->full = false;
      b->conn->resumeOutput();  // through the loop: this runs inside nghttp2
    }
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
      if (b->pipeline.empty() && (!best || b->conn)) best = b.get();
    if (best) return *best;
    if (backends_.size() < kMaxBackends) {
      backends_.push_back(std::make_unique<Backend>(*this));
      return *backends_.back();
    }
    for (auto& b : backends_)
      if (!best || b->pipeline.size() < best->pipeline.size()) best = b.get();
    return *best;
  }

  void openBackend(Backend& b) {
    b.conn = new Connection(conn_.runtime(), b, conn_.peer(), conn_.peerLength());
    b.conn->start(listener_.internalSession(*b.conn));
    b.in.clear();
    b.written = 0;
    b.full = false;
  }

  void closeBackend(Backend& b) {
    ++b.generation;
    b.in.clear();
    Connection* conn = b.conn;
    b.conn = nullptr;  // closed() then knows it asked
    if (conn) conn->close();
  }

  // A few rounds: answers given inside deliver() may let more requests go (a connection ended
  // at keepalive_requests, an abandoned request dropped); past that, the next loop turn.
  void writeBackends() {
    inDeliver_ = true;
    for (int round = 0; round < 4; ++round) {
      again_ = false;
      for (auto& b : backends_) writeBackend(*b);
      if (!again_) break;
    }
    inDeliver_ = false;
    if (again_) more_.once(0);
  }

  // Writes queued requests in order; a request's body must end before the next request starts.
  // Only from the top of an event (onReadable, onMore): the internal connection answers inside
  // deliver(), and its answers are parsed there.
  void writeBackend(Backend& b) {
    b.blocked = false;
    const unsigned generation = b.generation;
    while (b.writeIndex < b.pipeline.size()) {
      Stream& st = *b.pipeline[b.writeIndex];
      if (st.abandoned) break;  // waits for the answers before it (dropAbandonedFront)
      // The last internal connection ended after a response that closed it: a new one, but only
      // for requests never written (those written after that response were refused).
      if (!b.conn) openBackend(b);
      // keepalive_requests ends an internal connection: no request is written past its last
      // one (it would be refused); the next connection takes the rest.
      if (st.request.size() && !st.headWritten) {
        if (b.written >= limits_.keepaliveRequests) break;
        st.headWritten = true;
        ++b.written;
      }
      StreamPtr keep = b.pipeline[b.writeIndex];  // deliver() may answer and drop it
      if (!st.request.empty()) {
        const size_t n = b.conn->deliver(st.request);
        st.request.erase(0, n);
        if (b.generation != generation) return;  // closed inside: closed() took over
        if (!st.request.empty()) {
          b.blocked = true;
          return;
        }
      }
      if (st.unconsumed) {
        nghttp2_session_consume(session_, st.id, st.unconsumed);
        st.unconsumed = 0;
      }
      if (!st.requestEnded) return;  // more body to come
      if (b.writeIndex < b.pipeline.size() && b.pipeline[b.writeIndex] == keep) ++b.writeIndex;
    }
  }

  // Work for the top of the next loop turn (outside the internal connection's callbacks).
  void kick() {
    if (inDeliver_)
      again_ = true;
    else
      more_.once(0);
  }

  void onMore() {
    writeBackends();
    sendFrames();
    conn_.send();  // last: may destroy this
  }

 public:
  // ---- Backend (ConnectionPeer) calls, from inside the internal connection ----

  ssize_t onTake(Backend& b, const char* data, size_t length) {
    if (!b.pipeline.empty()) {
      const Stream& front = *b.pipeline.front();
      if (front.body.size() - front.bodySent > kStreamBodyHigh) {
        b.full = true;
        errno = EAGAIN;
        return -1;
      }
    }
    b.in.append(data, length);
    parseResponses(b, false);
    kick();  // frames out, more requests in: after this callback
    return static_cast<ssize_t>(length);
  }

  ssize_t onTakeFile(Backend& b, const std::shared_ptr<OpenFile>& file, off_t* offset,
                     size_t length) {
    Stream* st = b.pipeline.empty() ? nullptr : b.pipeline.front().get();
    if (!st || !st->headDone || st->framing != proxy::Framing::Length || !b.in.empty()) {
      // Not the plain body of the front response: through a buffer, as bytes.
      fileScratch_.resize(std::min(length, kReadSlice));
      ssize_t n = ::pread(file->fd, fileScratch_.data(), fileScratch_.size(), *offset);
      if (n <= 0) return n;
      n = onTake(b, fileScratch_.data(), static_cast<size_t>(n));
      if (n > 0) *offset += n;
      return n;
    }
    const uint64_t n = std::min<uint64_t>(length, st->bodyLeft);
    if (!st->closed) {
      st->files.push_back({st->body.size(), file, *offset, n});
      wake(*st);
    }
    *offset += static_cast<off_t>(n);
    st->bodyLeft -= n;
    if (st->bodyLeft == 0) finishFront(b);
    kick();  // frames out, more requests in: after this callback
    return static_cast<ssize_t>(n);
  }

  // An internal connection takes request bytes again (a proxied upload's upstream drained).
  void onBackendReadable() { more_.once(0); }

  // The internal connection closed (destroyed when this returns): requests written to it and
  // not answered are refused (the HTTP/1.1 session stops after a response that closes the
  // connection: they were not processed); the rest go to a new one.
  void onBackendClosed(Backend& b, Connection& conn) {
    if (b.conn != &conn) return;  // closed by us
    parseResponses(b, true);      // a body read until close ends here
    if (b.conn != &conn) return;
    b.conn = nullptr;
    ++b.generation;
    b.in.clear();
    while (!b.pipeline.empty() && b.writeIndex > 0) {
      StreamPtr st = b.pipeline.front();
      b.pipeline.pop_front();
      --b.writeIndex;
      if (!st->closed)
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st->id,
                                  st->headDone ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_REFUSED_STREAM);
    }
    if (!b.pipeline.empty() && b.pipeline.front()->headWritten) {
      // Its head had begun (a body was still coming): it cannot be sent again.
      StreamPtr st = b.pipeline.front();
      b.pipeline.pop_front();
      if (!st->closed)
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
    }
    kick();
  }

 private:
  // The internal connections answered nonsense: every queued stream is reset and new ones are
  // refused.
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
          closeBackend(b);
          return;
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
  }

  // The stream's data source waits for body: it has some now.
  void wake(Stream& st) {
    if (!st.deferred) return;
    st.deferred = false;
    nghttp2_session_resume_data(session_, st.id);
  }

  void addBody(Stream& st, std::string_view data) {
    if (data.empty() || st.closed) return;
    st.body.append(data);
    wake(st);
  }

  void finishFront(Backend& b) {
    StreamPtr st = b.pipeline.front();
    b.pipeline.pop_front();
    if (b.writeIndex > 0) --b.writeIndex;
    st->bodyEnded = true;
    if (!st->closed) wake(*st);
    if (!b.pipeline.empty() && b.pipeline.front()->abandoned) dropAbandonedFront(b);
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
  // The request head being received: one per connection, reused (RFC 9113 4.3: a header block
  // is never interleaved with another), so a stream costs no builder allocations once warm.
  H2RequestBuilder builder_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, StreamPtr> streams_;            // open HTTP/2 streams
  std::vector<std::unique_ptr<Backend>> backends_;  // internal connections, made as needed
  Timer more_;
  Timer finalGoaway_;
  std::string fileScratch_;  // a file range taken as bytes (onTakeFile's rare shapes)
  bool inDeliver_ = false;   // writeBackends() is on the stack
  bool again_ = false;       // something inside deliver() asked for another round
  bool backendFailed_ = false;
  bool goaway_ = false;
  bool noticed_ = false;
  uint64_t resets_ = 0, completed_ = 0;
  std::vector<nghttp2_nv> fields_;
  std::string names_;
};

ssize_t Backend::take(const char* data, size_t length) {
  return session.onTake(*this, data, length);
}

ssize_t Backend::takeFile(const std::shared_ptr<OpenFile>& file, off_t* offset, size_t length) {
  return session.onTakeFile(*this, file, offset, length);
}

void Backend::closed(Connection& c) { session.onBackendClosed(*this, c); }

void Backend::readable(Connection&) { session.onBackendReadable(); }

}  // namespace

std::unique_ptr<ConnectionHandler> makeH2Session(Listener& listener, Connection& conn) {
  return std::make_unique<H2Session>(listener, conn);
}

}  // namespace manifold::http
