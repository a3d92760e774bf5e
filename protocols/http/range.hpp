// Range requests (RFC 9110 14.1-14.6) and the multipart/byteranges body around them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::http {

struct ByteRange {
  uint64_t first, last;  // inclusive
  uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

enum class RangeResult {
  Ignore,         // no or unsupported header (other unit, bad syntax, too many ranges): 200
  Satisfiable,    // out holds at least one range: 206
  Unsatisfiable,  // well-formed, but no range overlaps the representation: 416
};

// Parses a Range header value ("bytes=0-99,200-", "bytes=-500", case-insensitive unit, OWS
// around commas) against a representation of `size` bytes. Each range is clamped to size-1;
// unsatisfiable members of a list are dropped (416 only if none remains). Overlapping or
// adjacent ranges are coalesced, into the position of the earliest one, so the remaining
// ranges keep the order they were asked in (RFC 9110 14.6) and never overlap. More than
// maxRanges range-specs is treated as abuse and ignored (the whole body is served), and so is
// any range of an empty representation (size 0).
// `out` is cleared first.
RangeResult parseRange(std::string_view header, uint64_t size, std::vector<ByteRange>& out,
                       size_t maxRanges = 16);

// "bytes 0-99/1234", the Content-Range value of a 206 part.
void appendContentRange(std::string& out, const ByteRange& r, uint64_t size);
// "bytes */1234", the Content-Range value of a 416.
void appendUnsatisfiedRange(std::string& out, uint64_t size);

// multipart/byteranges body, for a 206 with several ranges:
//   for each range: appendPartHeader(), then the range's bytes; then appendClosingBoundary().
// The response's Content-Type is "multipart/byteranges; boundary=" + boundary.
// A boundary of 24 characters derived from seed (any per-response value; same seed, same
// boundary). It cannot occur in the parts' bytes only with high probability, which is what
// every server does.
std::string multipartBoundary(uint64_t seed);
// "\r\n--BOUNDARY\r\nContent-Type: CT\r\nContent-Range: bytes F-L/SIZE\r\n\r\n" (no
// Content-Type line when contentType is empty).
void appendPartHeader(std::string& out, std::string_view boundary, std::string_view contentType,
                      const ByteRange& r, uint64_t size);
// "\r\n--BOUNDARY--\r\n"
void appendClosingBoundary(std::string& out, std::string_view boundary);
// Exact length of the whole multipart body (part headers + range bytes + closing), for
// Content-Length.
uint64_t multipartLength(std::string_view boundary, std::string_view contentType,
                         std::span<const ByteRange> ranges, uint64_t size);

}  // namespace manifold::http
