// Upstream response head parser (RFC 9112), a pure function over bytes, as the request parser is
// for clients: nothing is copied, views point into `input`, no state between calls.
//
// Wire format accepted:
//   *( 1xx head )  status-line *( field-line CRLF ) CRLF
//   status-line = "HTTP/1." DIGIT SP 3DIGIT [ SP reason-phrase ] CRLF
// - bare LF is accepted for CRLF; any other CR, a NUL, obs-fold (a line starting with SP/HTAB),
//   whitespace before the colon or a field name that is not a token is an error;
// - interim 1xx heads (100 Continue, 103 Early Hints) are skipped: `consumed` covers them and
//   the head returned is the final one; 101 is an error (the proxy never asks for an upgrade);
// - framing (RFC 9112 6.3): no body after HEAD and for 204 and 304; Transfer-Encoding whose last
//   coding is chunked is Chunked, any other Transfer-Encoding is read until close; both
//   Transfer-Encoding and Content-Length, or Content-Length values that disagree or do not
//   parse, are errors (response splitting); otherwise Content-Length, else until close.
// An error is answered 502 by the proxy, never forwarded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/http/request.hpp"

namespace manifold::proxy {

enum class Framing : uint8_t {
  None,     // no body
  Length,   // contentLength bytes
  Chunked,  // chunked transfer coding (decode with http::ChunkedDecoder)
  Close     // until the upstream closes: the connection cannot be reused
};

struct ResponseHead {
  int status = 0;
  uint8_t versionMinor = 1;
  std::string_view reason;
  http::Header headers[http::kMaxHeaders];
  size_t headerCount = 0;
  std::string_view connection;  // the Connection field (first), for hop-by-hop removal
  int64_t contentLength = -1;
  Framing framing = Framing::Close;
  bool keepAlive = false;  // the upstream connection may be reused after this response
};

enum class ResponseStatus : uint8_t { Complete, Incomplete, Error };

struct ResponseParse {
  ResponseStatus status;
  size_t consumed;  // on Complete: bytes up to the body, interim 1xx heads included
};

// Parses the response at the start of `input` to a request that was HEAD when `headRequest`.
// Incomplete until the final head's empty line arrives; more than `maxBytes` without one is an
// error. On Error `out` is partially filled and must not be used.
ResponseParse parseResponse(std::string_view input, ResponseHead& out, bool headRequest,
                            size_t maxBytes = 65536);

}  // namespace manifold::proxy
