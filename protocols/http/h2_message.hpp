// Translation between HTTP/2 messages (as nghttp2 delivers and takes them) and the HTTP/1.1
// messages the engine's Session speaks. Pure functions over bytes: unit-tested and fuzzed.
//
// Request: the header fields of one stream (pseudo-headers :method, :path, :authority, :scheme
// first, as RFC 9113 8.3 requires; nghttp2 has already refused uppercase names, connection-
// specific fields and malformed pseudo-headers) become
//   METHOD SP PATH SP "HTTP/1.1" CRLF  "host: " authority CRLF  *( name ": " value CRLF )  CRLF
// with `transfer-encoding: chunked` added when the stream has a body but no content-length
// (DATA frames are then chunk-encoded by encodeChunk). Cookie fields stay separate lines.
// Response: a parsed HTTP/1.1 head becomes an nghttp2 header list: ":status", then the fields
// with lowercase names, without the hop-by-hop ones (connection, keep-alive,
// proxy-connection, transfer-encoding, upgrade) HTTP/2 forbids.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/proxy/response.hpp"

namespace manifold::http {

class H2RequestBuilder {
 public:
  explicit H2RequestBuilder(size_t maxBytes) : maxBytes_(maxBytes) {}
  void reset();
  // One field; false once the fields exceed maxBytes or a value holds CR/LF/NUL (the stream is
  // then refused: such a value would split the HTTP/1.1 head).
  bool add(std::string_view name, std::string_view value);
  // The HTTP/1.1 head into `out` (appended); false without :method or :path (malformed).
  bool finish(bool hasBody, std::string& out);
  bool headRequest() const { return method_ == "HEAD"; }
  bool chunked() const { return chunked_; }

 private:
  size_t maxBytes_;
  std::string method_, path_, authority_, fields_;
  bool hasLength_ = false;
  bool hasHost_ = false;
  bool chunked_ = false;
};

// Appends one chunk of the chunked coding (nothing for empty data); `last` adds the last-chunk.
void encodeChunk(std::string_view data, bool last, std::string& out);

// The response head as HTTP/2 fields. `names` keeps the lowercased names and the status text
// (the list points into it and into `head`'s views; nghttp2 copies them on submit).
void responseFields(const proxy::ResponseHead& head, std::vector<nghttp2_nv>& out,
                    std::string& names);

}  // namespace manifold::http
