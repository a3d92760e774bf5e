// Building HTTP/1.1 response heads into a connection's output buffer.
//
// Every function appends to `out` and never clears or shrinks it: the buffer may already hold
// earlier responses of a pipelined batch, which then leave in one write. Numbers are formatted
// with std::to_chars; nothing here allocates beyond the buffer's own growth.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace manifold::http {

// Reason phrase of `code` ("Not Found"); empty for codes we never send (the status line is
// still valid: the reason phrase may be empty).
std::string_view statusText(int code);

// True for statuses that never carry a body or Content-Length: 1xx, 204, 304.
inline bool statusHasNoBody(int code) { return code < 200 || code == 204 || code == 304; }

// "HTTP/1.<versionMinor> <code> <text>\r\n" (versionMinor is 0 or 1; anything else counts as 1).
void appendStatusLine(std::string& out, int versionMinor, int code);

// "<name>: <value>\r\n". A CR or LF inside value is written as a space, so a value derived
// from the request can never split the head (response splitting).
void appendHeader(std::string& out, std::string_view name, std::string_view value);
void appendHeader(std::string& out, std::string_view name, uint64_t value);

// The empty line that ends the head.
void appendEndOfHeaders(std::string& out);

// A complete error (or other body-less-by-design) response: status line, Server (unless
// serverName is empty), Date (unless date is empty; otherwise the 29-char HTTP-date),
// Content-Type: text/html, Content-Length, "Connection: close" when !keepAlive (and
// "Connection: keep-alive" for a keep-alive HTTP/1.0 peer), extraHeaders (complete lines, each
// ending in CRLF, e.g. "Allow: GET, HEAD\r\n"), the empty line, and a small HTML body unless
// headOnly. For 1xx/204/304 there is neither body nor Content-Type/Content-Length.
void appendErrorResponse(std::string& out, int versionMinor, int code, std::string_view date,
                         std::string_view serverName, bool keepAlive, bool headOnly,
                         std::string_view extraHeaders = {});

// Length of the HTML body appendErrorResponse() writes for `code`.
size_t errorBodyLength(int code);

// Chunked transfer coding (RFC 9112 7.1). appendChunk writes "<hex size>\r\n<data>\r\n" and
// nothing for empty data (an empty chunk would end the body). appendChunkHeader writes only
// "<hex size>\r\n" for data sent separately (writev/sendfile), which must be followed by
// "\r\n". appendLastChunk writes "0\r\n\r\n" (no trailers).
void appendChunk(std::string& out, std::string_view data);
void appendChunkHeader(std::string& out, uint64_t size);
void appendLastChunk(std::string& out);

}  // namespace manifold::http
