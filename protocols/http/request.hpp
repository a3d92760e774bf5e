// HTTP/1.1 request head parser (RFC 9112), a pure function over bytes.
//
// parseRequest() looks at the bytes received so far and either finds a complete request head
// (request line + header fields + empty line), says more bytes are needed, or names the HTTP
// status to answer with. It keeps no state between calls: call it again on the grown buffer.
// Nothing is copied or allocated: the string_views in Request point into `input` (except the
// one case noted at Request::path), so the buffer must outlive (and not move under) the Request.
//
// Wire format accepted (RFC 9112 section 2-6, with the leniencies nginx has):
//   *( CRLF ) method SP request-target SP HTTP-version CRLF
//   *( field-name ":" OWS field-value OWS CRLF )
//   CRLF
// - every CRLF may be a bare LF; a CR anywhere else is an error;
// - request-target is origin-form ("/p?q"), absolute-form ("http://host/p?q", then host comes
//   from it), "*" (OPTIONS only), or authority-form ("host:port", CONNECT only);
// - HTTP/1.0 and HTTP/1.1 only; other HTTP/x.y is 505, anything else 400.
// The body is not touched: headerBytes/consumed say where it starts; contentLength / chunked say
// how it is framed (see chunked.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace manifold::http {

enum class Method : uint8_t {
  Get,
  Head,
  Post,
  Put,
  Delete,
  Options,
  Mkcol,
  Propfind,
  Proppatch,
  Copy,
  Move,
  Lock,
  Unlock,
  Trace,
  Connect,
  Patch,
  Other  // a well-formed token we do not know: the caller answers 501
};

// "GET", "HEAD", ...; "OTHER" for Method::Other (Request::methodText has the real token).
std::string_view methodName(Method m);

// Method from its token; methods are case-sensitive, so "get" is Other.
Method methodFromToken(std::string_view token);

struct Header {
  std::string_view name, value;  // value without leading/trailing whitespace
};

constexpr size_t kMaxHeaders = 64;

struct Request {
  Method method = Method::Other;
  std::string_view methodText;
  std::string_view target;  // as sent
  // Raw (still percent-encoded), before '?'; "*" for "OPTIONS *"; empty for CONNECT; a static
  // "/" (the one view not into the input) for an absolute-form target without a path.
  std::string_view path;
  std::string_view query;  // after '?', without it
  uint8_t versionMajor = 1, versionMinor = 1;

  Header headers[kMaxHeaders];
  size_t headerCount = 0;

  // Picked out while parsing (first occurrence; empty when absent). host is the Host header,
  // or the authority of an absolute-form target (which overrides Host, RFC 9112 3.2.2).
  std::string_view host, connection, acceptEncoding, range, ifRange, ifMatch, ifNoneMatch,
      ifModifiedSince, ifUnmodifiedSince, expect, transferEncoding, contentType, userAgent, referer;

  int64_t contentLength = -1;  // -1: no Content-Length
  bool chunked = false;        // Transfer-Encoding: chunked (never together with contentLength)
  bool keepAlive = false;
  bool expectContinue = false;  // HTTP/1.1 and "Expect: 100-continue"
  bool ifRangePresent = false;  // an If-Range field was sent (its value may be empty)
  size_t headerBytes = 0;       // bytes of request line + headers + final CRLF

  // First value of the header `name` (case-insensitive), empty when absent.
  std::string_view find(std::string_view name) const;
  bool isHeadOrGet() const { return method == Method::Get || method == Method::Head; }
};

enum class ParseStatus : uint8_t { Complete, Incomplete, Error };

struct ParseResult {
  ParseStatus status;
  int errorStatus;  // HTTP status to answer on Error: 400, 414, 431, 501, 505; 0 otherwise
  size_t consumed;  // on Complete: bytes up to the body (leading empty lines + headerBytes)
};

struct ParseLimits {
  size_t maxRequestLine = 8192;     // request line without its CRLF; longer: 414
  size_t maxHeaderBytes = 32768;    // header lines after the request line, with CRLFs; more: 431
  size_t maxHeaders = kMaxHeaders;  // capped at kMaxHeaders; more: 431
};

// Parses the request head at the start of `input`. Incomplete until the empty line arrives,
// except that limits are enforced on the bytes seen so far (414 / 431 as soon as they are
// exceeded) and errors in lines already complete are reported at once. Stateless: a caller
// re-parses its grown buffer; a prefix of a valid head is always Incomplete. On Error `out` is
// partially filled and must not be used.
ParseResult parseRequest(std::string_view input, Request& out, const ParseLimits& limits = {});

// Small helpers shared by the other parsers of this folder.
bool isTchar(unsigned char c);  // RFC 9110 5.6.2 token characters
bool equalsIgnoreCase(std::string_view a, std::string_view b);
// True when the comma-separated list `value` holds `token` (case-insensitive, OWS trimmed).
bool listContainsToken(std::string_view value, std::string_view token);

}  // namespace manifold::http
