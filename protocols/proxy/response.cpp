#include "protocols/proxy/response.hpp"

#include <cstring>

#include "protocols/ascii.hpp"

namespace manifold::proxy {

namespace {

using http::equalsIgnoreCase;
using http::isTchar;
using http::listContainsToken;

constexpr auto trim = ascii::trimOws;

bool parseLength(std::string_view v, int64_t& out) {
  if (v.empty() || v.size() > 18) return false;  // 18 digits cannot overflow int64
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  out = n;
  return true;
}

// The next line from `pos` without its (CR)LF; false when no LF has arrived yet.
bool nextLine(std::string_view in, size_t& pos, std::string_view& line) {
  const void* nl = pos < in.size() ? std::memchr(in.data() + pos, '\n', in.size() - pos) : nullptr;
  if (nl == nullptr) return false;
  size_t lf = static_cast<const char*>(nl) - in.data();
  size_t end = (lf > pos && in[lf - 1] == '\r') ? lf - 1 : lf;
  line = in.substr(pos, end - pos);
  pos = lf + 1;
  return true;
}

bool parseStatusLine(std::string_view line, ResponseHead& h) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return false;
  if (line[7] != '0' && line[7] != '1') return false;
  h.versionMinor = static_cast<uint8_t>(line[7] - '0');
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  h.status = status;
  h.reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (char ch : h.reason) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

ResponseParse parseResponse(std::string_view in, ResponseHead& h, bool headRequest,
                            size_t maxBytes) {
  const ResponseParse incomplete{
      in.size() > maxBytes ? ResponseStatus::Error : ResponseStatus::Incomplete, 0};
  const ResponseParse error{ResponseStatus::Error, 0};
  size_t pos = 0;
  for (;;) {  // one head per turn: interim 1xx heads are skipped
    if (pos > maxBytes) return error;
    h = ResponseHead();
    std::string_view line;
    if (!nextLine(in, pos, line)) return incomplete;
    if (!parseStatusLine(line, h)) return error;
    bool closeToken = false, keepAliveToken = false, teSeen = false, lastChunked = false;
    for (;;) {
      if (!nextLine(in, pos, line)) return incomplete;
      if (pos > maxBytes) return error;
      if (line.empty()) break;
      if (line[0] == ' ' || line[0] == '\t') return error;  // obs-fold
      if (h.headerCount >= http::kMaxHeaders) return error;
      size_t colon = line.find(':');
      if (colon == 0 || colon == std::string_view::npos) return error;
      std::string_view name = line.substr(0, colon);
      for (char c : name)
        if (!isTchar(static_cast<unsigned char>(c))) return error;
      std::string_view value = trim(line.substr(colon + 1));
      for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7f) return error;
      }
      h.headers[h.headerCount++] = http::Header{name, value};
      if (equalsIgnoreCase(name, "content-length")) {
        int64_t n;
        if (!parseLength(value, n) || (h.contentLength >= 0 && h.contentLength != n)) return error;
        h.contentLength = n;
      } else if (equalsIgnoreCase(name, "transfer-encoding")) {
        teSeen = true;
        std::string_view rest = value;
        while (!rest.empty()) {  // the last non-empty coding decides
          size_t comma = rest.find(',');
          std::string_view item = trim(rest.substr(0, comma));
          rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
          if (!item.empty()) lastChunked = equalsIgnoreCase(item, "chunked");
        }
      } else if (equalsIgnoreCase(name, "connection")) {
        if (h.connection.empty()) h.connection = value;
        closeToken = closeToken || listContainsToken(value, "close");
        keepAliveToken = keepAliveToken || listContainsToken(value, "keep-alive");
      }
    }
    if (h.status == 101) return error;
    if (h.status < 200) continue;
    if (teSeen && h.contentLength >= 0) return error;
    bool keepAlive = h.versionMinor == 1 ? !closeToken : (keepAliveToken && !closeToken);
    if (headRequest || h.status == 204 || h.status == 304) {
      h.framing = Framing::None;
    } else if (teSeen) {
      h.framing = lastChunked ? Framing::Chunked : Framing::Close;
    } else if (h.contentLength >= 0) {
      h.framing = Framing::Length;
    } else {
      h.framing = Framing::Close;
    }
    h.keepAlive = keepAlive && h.framing != Framing::Close;
    return {ResponseStatus::Complete, pos};
  }
}

}  // namespace manifold::proxy
