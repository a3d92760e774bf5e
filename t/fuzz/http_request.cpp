// libFuzzer target: the HTTP request head parser and everything a request is fed to.
// Each input is treated as a connection's byte stream: requests are parsed one after another
// (pipelining), bodies skipped by Content-Length or decoded as chunked, and for each complete
// head the path, Range, preconditions, If-Range, Accept-Encoding and dates are exercised.
// Invariants are checked with trap() so a violation is a crash libFuzzer reports.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/accept_encoding.hpp"
#include "protocols/http/chunked.hpp"
#include "protocols/http/conditional.hpp"
#include "protocols/http/date.hpp"
#include "protocols/http/path.hpp"
#include "protocols/http/range.hpp"
#include "protocols/http/request.hpp"
#include "protocols/http/response.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::http;

namespace {

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void checkPath(std::string_view raw) {
  std::string out;
  if (!normalizePath(raw, out)) return;
  check(!out.empty() && out[0] == '/');
  check(out.find("//") == std::string::npos);
  check(out.find("/./") == std::string::npos && out.find("/../") == std::string::npos);
  check(!(out.size() >= 3 && out.compare(out.size() - 3, 3, "/..") == 0));
  check(!(out.size() >= 2 && out.compare(out.size() - 2, 2, "/.") == 0));
  for (char c : out) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  // Idempotent once encoded back.
  std::string again;
  check(normalizePath(percentEncodePath(out), again) && again == out);
}

void checkRange(std::string_view header) {
  constexpr uint64_t kSize = 12345;
  std::vector<ByteRange> ranges;
  RangeResult rr = parseRange(header, kSize, ranges);
  check((rr == RangeResult::Satisfiable) == !ranges.empty());
  check(ranges.size() <= 16);
  for (size_t i = 0; i < ranges.size(); ++i) {
    check(ranges[i].first <= ranges[i].last && ranges[i].last < kSize);
    for (size_t j = i + 1; j < ranges.size(); ++j)
      check(ranges[i].last + 1 < ranges[j].first || ranges[j].last + 1 < ranges[i].first);
  }
  if (!ranges.empty()) {
    std::string body;
    std::string boundary = multipartBoundary(ranges.size());
    uint64_t bytes = 0;
    for (const ByteRange& r : ranges) {
      appendPartHeader(body, boundary, "text/plain", r, kSize);
      bytes += r.length();
    }
    appendClosingBoundary(body, boundary);
    check(multipartLength(boundary, "text/plain", ranges, kSize) == body.size() + bytes);
  }
}

void checkDate(std::string_view s) {
  time_t t;
  if (!parseHttpDate(s, t)) return;
  char buf[29];
  formatHttpDate(t, buf);
  time_t back;
  check(parseHttpDate(std::string_view(buf, sizeof buf), back) && back == t);
}

void exercise(const Request& r, std::string_view whole) {
  // path is a static "/" for an absolute-form target without one ("http://h").
  check(inside(r.methodText, whole) && inside(r.target, whole) &&
        (inside(r.path, whole) || r.path == "/") && inside(r.query, whole) &&
        inside(r.host, whole));
  check(r.headerCount <= kMaxHeaders);
  for (size_t i = 0; i < r.headerCount; ++i) {
    check(!r.headers[i].name.empty());
    check(inside(r.headers[i].name, whole) && inside(r.headers[i].value, whole));
    for (char c : r.headers[i].value) check(c != '\r' && c != '\n' && c != '\0');
  }
  check(r.versionMajor == 1 && r.versionMinor <= 1);
  check(!(r.chunked && r.contentLength >= 0));
  check(r.method != Method::Other || methodFromToken(r.methodText) == Method::Other);

  checkPath(r.path);
  checkRange(r.range);
  checkDate(r.ifModifiedSince);
  checkDate(r.ifUnmodifiedSince);
  const std::string etag = "\"5f3a1b2c-400\"";
  Precondition p = evaluatePreconditions(r, etag, 784111777);
  check(p != Precondition::NotModified || r.isHeadOrGet());
  (void)evaluatePreconditions(r, "", -1);
  (void)ifRangeAllows(r.ifRange, etag, 784111777);
  (void)acceptsGzip(r.acceptEncoding);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view whole(reinterpret_cast<const char*>(data), size);
  std::string_view in = whole;
  ParseLimits limits;
  if (size > 0 && data[0] == 'L') {  // small limits, to reach 414/431 with short inputs
    limits.maxRequestLine = 40;
    limits.maxHeaderBytes = 120;
    limits.maxHeaders = 4;
  }
  Request r;
  std::string out;
  for (int i = 0; i < 32 && !in.empty(); ++i) {
    ParseResult res = parseRequest(in, r, limits);
    if (res.status == ParseStatus::Incomplete) {
      check(res.consumed == 0 && res.errorStatus == 0);
      break;
    }
    if (res.status == ParseStatus::Error) {
      int s = res.errorStatus;
      check(res.consumed == 0);
      check(s == 400 || s == 414 || s == 431 || s == 501 || s == 505);
      appendErrorResponse(out, 1, s, "Sun, 06 Nov 1994 08:49:37 GMT", "fuzz", false, false);
      break;
    }
    check(res.consumed > 0 && res.consumed <= in.size());
    check(r.headerBytes <= res.consumed);
    // A head is found only once its last byte arrived.
    if (i == 0) {
      Request partial;
      check(parseRequest(in.substr(0, res.consumed - 1), partial, limits).status ==
            ParseStatus::Incomplete);
    }
    exercise(r, whole);
    const bool chunked = r.chunked;
    const int64_t length = r.contentLength;
    in.remove_prefix(res.consumed);

    if (chunked) {
      ChunkedDecoder dec;
      size_t used;
      std::string_view piece;
      ChunkedDecoder::Status st;
      do {
        st = dec.feed(in, used, piece);
        check(used <= in.size());
        in.remove_prefix(used);
      } while (st == ChunkedDecoder::Status::NeedMore && !in.empty());
      if (st != ChunkedDecoder::Status::Done) break;
    } else if (length > 0) {
      if (static_cast<uint64_t>(length) > in.size()) break;
      in.remove_prefix(static_cast<size_t>(length));
    }
  }
  return 0;
}
