#include "protocols/proxy/cache_reply.hpp"

#include <vector>

#include "protocols/http/conditional.hpp"
#include "protocols/http/range.hpp"
#include "protocols/http/response.hpp"

namespace manifold::proxy {

namespace {

using http::equalsIgnoreCase;

// The part of the body [first, first+length) into the output: bytes, or a file range.
void appendBody(http::Exchange& ex, std::string_view body, const std::shared_ptr<OpenFile>& file,
                const ObjectMeta& meta, uint64_t first, uint64_t length) {
  if (file) {
    ex.connection().queueFile(file, static_cast<off_t>(meta.bodyOffset + first), length);
  } else {
    ex.out().append(body.substr(first, length));
  }
}

void appendCommon(http::Exchange& ex, std::string_view fields, int64_t age, std::string_view label,
                  bool skipContentFields) {
  std::string& o = ex.out();
  if (!skipContentFields) {
    o.append(fields);
  } else {  // a 304 or 206 carries the stored fields but not the whole body's content fields
    std::string_view rest = fields;
    while (!rest.empty()) {
      size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol == std::string_view::npos ? rest.size() : eol + 2);
      rest.remove_prefix(line.size());
      if (line.size() >= 13 && equalsIgnoreCase(line.substr(0, 13), "content-range")) continue;
      if (line.size() >= 12 && equalsIgnoreCase(line.substr(0, 12), "content-type") &&
          skipContentFields)
        continue;
      o.append(line);
    }
  }
  http::appendHeader(o, "Age", static_cast<uint64_t>(age < 0 ? 0 : age));
  if (!label.empty()) http::appendHeader(o, "X-Cache", label);
}

}  // namespace

int replyFromCache(http::Exchange& ex, const ObjectMeta& meta, std::string_view head,
                   std::string_view body, const std::shared_ptr<OpenFile>& file, int64_t now,
                   std::string_view label, const http::Request* request) {
  static const http::Request kPlain;  // no conditionals, no Range
  const http::Request& req = request ? *request : kPlain;
  std::string& o = ex.out();
  std::string_view fields = storedFields(head);
  const int64_t age = meta.currentAge(now);
  const uint64_t size = meta.bodyLength;
  const char* version = ex.versionMinor() == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";

  if (meta.status == 200 && (!req.ifNoneMatch.empty() || !req.ifModifiedSince.empty() ||
                             !req.ifMatch.empty() || !req.ifUnmodifiedSince.empty())) {
    std::string_view etag(head.data() + meta.etagOffset, meta.etagLength);
    auto pre = http::evaluatePreconditions(req, etag, meta.lastModified, now);
    if (pre != http::Precondition::Proceed) {
      int status = pre == http::Precondition::NotModified ? 304 : 412;
      if (status == 412) {
        ex.sendError(412);
        return 412;
      }
      o.append(version).append("304 Not Modified\r\n");
      appendCommon(ex, fields, age, label, false);
      // Content-Length of a 304 would describe the 200: left out, as nginx does.
      ex.endHeaders();
      ex.finish(304, 0);
      return 304;
    }
  }

  std::vector<http::ByteRange> ranges;
  if (meta.status == 200 && !req.range.empty() && req.method == http::Method::Get &&
      (!req.ifRangePresent ||
       http::ifRangeAllows(req.ifRange,
                           std::string_view(head.data() + meta.etagOffset, meta.etagLength),
                           meta.lastModified))) {
    switch (http::parseRange(req.range, size, ranges)) {
      case http::RangeResult::Satisfiable: {
        std::string_view contentType = storedField(head, "content-type");
        o.append(version).append("206 Partial Content\r\n");
        appendCommon(ex, fields, age, label, true);
        if (ranges.size() == 1) {
          const http::ByteRange& r = ranges[0];
          if (!contentType.empty()) http::appendHeader(o, "Content-Type", contentType);
          o.append("Content-Range: ");
          http::appendContentRange(o, r, size);
          o.append("\r\n");
          http::appendHeader(o, "Content-Length", r.length());
          ex.endHeaders();
          appendBody(ex, body, file, meta, r.first, r.length());
          ex.finish(206, r.length());
          return 206;
        }
        std::string boundary = http::multipartBoundary(static_cast<uint64_t>(now) ^ size);
        uint64_t length = http::multipartLength(boundary, contentType, ranges, size);
        http::appendHeader(o, "Content-Type", "multipart/byteranges; boundary=" + boundary);
        http::appendHeader(o, "Content-Length", length);
        ex.endHeaders();
        for (const http::ByteRange& r : ranges) {
          http::appendPartHeader(ex.out(), boundary, contentType, r, size);
          appendBody(ex, body, file, meta, r.first, r.length());
        }
        http::appendClosingBoundary(ex.out(), boundary);
        ex.finish(206, length);
        return 206;
      }
      case http::RangeResult::Unsatisfiable: {
        std::string header = "Content-Range: ";
        http::appendUnsatisfiedRange(header, size);
        header.append("\r\n");
        ex.sendError(416, header);
        return 416;
      }
      case http::RangeResult::Ignore:
        break;
    }
  }

  o.append(version).append(head.substr(0, head.size() - fields.size()));
  appendCommon(ex, fields, age, label, false);
  if (!http::statusHasNoBody(meta.status)) http::appendHeader(o, "Content-Length", size);
  ex.endHeaders();
  uint64_t sent = 0;
  if (!ex.head() && !http::statusHasNoBody(meta.status) && size > 0) {
    appendBody(ex, body, file, meta, 0, size);
    sent = size;
  }
  ex.finish(meta.status, sent);
  return meta.status;
}

}  // namespace manifold::proxy
