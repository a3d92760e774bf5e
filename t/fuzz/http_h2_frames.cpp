// libFuzzer target: the HTTP/2 glue's input side. Arbitrary bytes after the client preface go
// through a real nghttp2 server session (framing, HPACK, flow control, with the options and
// settings the server uses); the header fields it delivers feed H2RequestBuilder, DATA feeds
// the chunk encoder, exactly as h2_session.cpp does. Every request head built must parse with
// the engine's own HTTP/1.1 parser as one complete request (no splitting, no smuggling); the
// answers the session queues are drained so its output side runs too.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "protocols/http/h2_message.hpp"
#include "protocols/http/request.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::http;

namespace {

struct State {
  std::map<int32_t, H2RequestBuilder> builders;
  std::map<int32_t, bool> chunked;
  std::string body;
};

int onBegin(nghttp2_session*, const nghttp2_frame* f, void* p) {
  if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
    static_cast<State*>(p)->builders.emplace(f->hd.stream_id, H2RequestBuilder(4096));
  return 0;
}

int onHeader(nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
             const uint8_t* v, size_t vl, uint8_t, void* p) {
  auto& b = static_cast<State*>(p)->builders;
  auto it = b.find(f->hd.stream_id);
  if (it == b.end()) return 0;
  if (!it->second.add({reinterpret_cast<const char*>(n), nl},
                      {reinterpret_cast<const char*>(v), vl}))
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return 0;
}

int onFrame(nghttp2_session*, const nghttp2_frame* f, void* p) {
  State& s = *static_cast<State*>(p);
  auto it = s.builders.find(f->hd.stream_id);
  if (it == s.builders.end() || f->hd.type != NGHTTP2_HEADERS) return 0;
  std::string head;
  const bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (it->second.finish(!end, head)) {
    Request request;
    ParseLimits limits;
    limits.maxHeaderBytes = 1 << 20;
    limits.maxRequestLine = 1 << 20;
    ParseResult r = parseRequest(head, request, limits);
    // One whole request, nothing after it: a field could not have split the head.
    if (r.status == ParseStatus::Complete) check(r.consumed == head.size());
    s.chunked[f->hd.stream_id] = it->second.chunked();
  }
  s.builders.erase(it);
  return 0;
}

int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* p) {
  State& s = *static_cast<State*>(p);
  s.body.clear();
  encodeChunk({reinterpret_cast<const char*>(d), n}, false, s.body);
  if (n) check(s.body.size() > n);
  (void)id;
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  State state;
  nghttp2_session_callbacks* cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, onBegin);
  nghttp2_session_callbacks_set_on_header_callback(cb, onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, onFrame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, onData);
  nghttp2_option* opt;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_session* session;
  nghttp2_session_server_new2(&session, cb, &state, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  std::string in(kPreface, sizeof kPreface - 1);
  in.append(reinterpret_cast<const char*>(data), size);
  nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(in.data()), in.size());
  const uint8_t* out;
  while (nghttp2_session_mem_send(session, &out) > 0) {
  }
  nghttp2_session_del(session);
  return 0;
}
