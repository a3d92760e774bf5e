// Request path normalisation and the escaping needed to put paths back on the wire or in HTML.
#pragma once

#include <string>
#include <string_view>

namespace manifold::http {

// Turns the raw path of a request target (Request::path: starts with '/', still
// percent-encoded, no query) into a safe absolute path, written to `out` (replaced):
//  - percent-decodes; invalid escapes ("%zz", "%4"), "%00" and any decoded or raw byte below
//    0x20 or equal to 0x7f make it fail;
//  - an encoded "%2F" is a separator like '/', so "%2e%2e%2f" cannot slip past the next step;
//  - collapses runs of '/', drops "." segments and resolves ".." (RFC 3986 5.2.4), but fails
//    where ".." would climb above "/" instead of clamping (such a request is hostile);
//  - keeps a trailing slash if the input had one (or ended in "." / ".." segments).
// Returns false (out unspecified) on any failure, including a path not starting with '/'.
// The result starts with '/', holds no "//", "/./", "/../", NUL or control bytes; it may hold
// any other byte (UTF-8, '\\', '%' decoded from "%25", ...).
bool normalizePath(std::string_view rawPath, std::string& out);

// Percent-encodes every byte of `path` except RFC 3986 unreserved characters and '/', for
// Location headers and links (uppercase hex). Appends nothing else; returns the new string.
std::string percentEncodePath(std::string_view path);

// Escapes & < > " ' for HTML text and attribute values.
std::string htmlEscape(std::string_view text);

}  // namespace manifold::http
