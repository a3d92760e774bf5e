#include "protocols/http/request.hpp"

#include <array>
#include <cstring>

#include "protocols/ascii.hpp"

namespace manifold::http {

namespace {

constexpr std::array<bool, 256> makeTcharTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = makeTcharTable();

// Characters of uri-host [":" port] (RFC 3986 reg-name, IP literals, port). Excludes '/', '\',
// '@' (userinfo), '?', '#', whitespace and controls, so a Host can never smuggle a path.
constexpr std::array<bool, 256> makeHostTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=:[]%")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kHostChar = makeHostTable();

constexpr std::string_view kMethodNames[] = {
    "GET",  "HEAD", "POST", "PUT",    "DELETE", "OPTIONS", "MKCOL", "PROPFIND", "PROPPATCH",
    "COPY", "MOVE", "LOCK", "UNLOCK", "TRACE",  "CONNECT", "PATCH", "OTHER"};
static_assert(std::size(kMethodNames) == static_cast<size_t>(Method::Other) + 1);

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

// Empty is allowed (RFC 9112 3.2: a target without authority sends "Host:" empty). A leading
// '.' or an empty label ("a..b") is no DNS name; refusing them keeps a vhost mapping that uses
// the host as a directory name from ever seeing "..".
bool validHost(std::string_view h) {
  for (size_t i = 0; i < h.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(h[i]);
    if (!kHostChar[c]) return false;
    if (c == '.' && (i == 0 || h[i - 1] == '.')) return false;
  }
  return true;
}

ParseResult error(int status) { return {ParseStatus::Error, status, 0}; }
ParseResult incomplete() { return {ParseStatus::Incomplete, 0, 0}; }

// Returns 0 or the status to answer.
int parseVersion(std::string_view v, Request& r) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return 400;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return 400;
  r.versionMajor = static_cast<uint8_t>(v[5] - '0');
  r.versionMinor = static_cast<uint8_t>(v[7] - '0');
  if (r.versionMajor != 1 || r.versionMinor > 1) return 505;
  return 0;
}

void splitPathQuery(std::string_view t, Request& r) {
  size_t q = t.find('?');
  if (q == std::string_view::npos) {
    r.path = t;
  } else {
    r.path = t.substr(0, q);
    r.query = t.substr(q + 1);
  }
}

int parseTarget(std::string_view t, Request& r) {
  for (char ch : t) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '#') return 400;  // fragments are never sent
  }
  if (r.method == Method::Connect) {  // authority-form, RFC 9112 3.2.3
    if (t.empty() || t[0] == '/' || !validHost(t) || t.find(':') == std::string_view::npos)
      return 400;
    r.host = t;
    return 0;
  }
  if (t[0] == '/') {
    splitPathQuery(t, r);
    return 0;
  }
  if (t == "*") {
    if (r.method != Method::Options) return 400;
    r.path = t;
    return 0;
  }
  // absolute-form: scheme "://" authority [path-abempty] ["?" query]
  size_t colon = t.find("://");
  if (colon == std::string_view::npos) return 400;
  std::string_view scheme = t.substr(0, colon);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) return 400;
  std::string_view rest = t.substr(colon + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.empty() || !validHost(authority)) return 400;
  r.host = authority;
  if (end == std::string_view::npos) {
    r.path = "/";
    return 0;
  }
  splitPathQuery(rest.substr(end), r);
  if (r.path.empty()) r.path = "/";  // "http://h?q"
  return 0;
}

int parseRequestLine(std::string_view line, Request& r) {
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return 400;
  r.methodText = line.substr(0, sp1);
  for (char c : r.methodText)
    if (!kTchar[static_cast<unsigned char>(c)]) return 400;
  r.method = methodFromToken(r.methodText);

  std::string_view rest = line.substr(sp1 + 1);
  size_t sp2 = rest.find(' ');
  if (sp2 == 0 || sp2 == std::string_view::npos) return 400;  // also HTTP/0.9 "GET /"
  r.target = rest.substr(0, sp2);
  if (int s = parseVersion(rest.substr(sp2 + 1), r)) return s;
  return parseTarget(r.target, r);
}

// A partial first line that cannot become a request line: binary garbage or TLS sent to a
// plain port is refused at once instead of waiting for maxRequestLine bytes.
bool badMethodPrefix(std::string_view partial) {
  for (char c : partial) {
    if (c == ' ') return false;
    if (!kTchar[static_cast<unsigned char>(c)]) return true;
  }
  return false;
}

bool parseContentLength(std::string_view v, int64_t& out) {
  if (v.empty()) return false;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (n > (INT64_MAX - d) / 10) return false;  // would overflow int64
    n = n * 10 + d;
  }
  out = n;
  return true;
}

// Transfer-Encoding codings seen over every TE field line of the message.
struct TeState {
  bool seen = false;
  unsigned codings = 0;
  unsigned chunkedCount = 0;
  bool lastIsChunked = false;

  void add(std::string_view value) {
    seen = true;
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string_view item = trimOws(value.substr(0, comma));
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
      if (item.empty()) continue;
      ++codings;
      lastIsChunked = equalsIgnoreCase(item, "chunked");
      if (lastIsChunked) ++chunkedCount;
    }
  }
};

}  // namespace

bool isTchar(unsigned char c) { return kTchar[c]; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) { return ascii::equalsNoCase(a, b); }

bool listContainsToken(std::string_view value, std::string_view token) {
  while (true) {
    size_t comma = value.find(',');
    if (equalsIgnoreCase(trimOws(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

std::string_view methodName(Method m) {
  auto i = static_cast<size_t>(m);
  return i < std::size(kMethodNames) ? kMethodNames[i] : kMethodNames[std::size(kMethodNames) - 1];
}

Method methodFromToken(std::string_view t) {
  // Linear over 16 short names; the first-byte check makes most comparisons one compare.
  for (size_t i = 0; i < static_cast<size_t>(Method::Other); ++i) {
    if (kMethodNames[i].size() == t.size() && kMethodNames[i][0] == t[0] && kMethodNames[i] == t)
      return static_cast<Method>(i);
  }
  return Method::Other;
}

std::string_view Request::find(std::string_view name) const {
  for (size_t i = 0; i < headerCount; ++i)
    if (equalsIgnoreCase(headers[i].name, name)) return headers[i].value;
  return {};
}

ParseResult parseRequest(std::string_view in, Request& r, const ParseLimits& limits) {
  r.method = Method::Other;
  r.methodText = r.target = r.path = r.query = {};
  r.versionMajor = 1;
  r.versionMinor = 1;
  r.headerCount = 0;
  r.host = r.connection = r.acceptEncoding = r.range = r.ifRange = r.ifMatch = r.ifNoneMatch =
      r.ifModifiedSince = r.ifUnmodifiedSince = r.expect = r.transferEncoding = r.contentType =
          r.userAgent = r.referer = {};
  r.contentLength = -1;
  r.chunked = r.keepAlive = r.expectContinue = r.ifRangePresent = false;
  r.headerBytes = 0;

  const size_t n = in.size();
  const char* base = in.data();
  const size_t maxHeaders = limits.maxHeaders < kMaxHeaders ? limits.maxHeaders : kMaxHeaders;

  // RFC 9112 2.2: ignore empty lines before the request line (some clients send a CRLF after a
  // POST body). Bounded, so a stream of CRLFs cannot keep a connection busy forever.
  size_t pos = 0;
  while (pos < n) {
    if (in[pos] == '\n') {
      ++pos;
    } else if (in[pos] == '\r') {
      if (pos + 1 == n) return incomplete();
      if (in[pos + 1] != '\n') break;  // the request line starts with CR: refused below
      pos += 2;
    } else {
      break;
    }
    if (pos > limits.maxRequestLine) return error(400);
  }
  const size_t start = pos;

  // Request line.
  const void* nl = pos < n ? std::memchr(base + pos, '\n', n - pos) : nullptr;
  if (nl == nullptr) {
    size_t partial = n - pos;
    if (partial > 0 && in[n - 1] == '\r') --partial;
    if (partial > limits.maxRequestLine) return error(414);
    if (badMethodPrefix(in.substr(pos))) return error(400);
    return incomplete();
  }
  size_t lf = static_cast<const char*>(nl) - base;
  size_t lineEnd = (lf > pos && in[lf - 1] == '\r') ? lf - 1 : lf;
  if (lineEnd - pos > limits.maxRequestLine) return error(414);
  if (int s = parseRequestLine(in.substr(pos, lineEnd - pos), r)) return error(s);
  const bool absoluteHost = !r.host.empty();

  // Header fields.
  const size_t headerStart = lf + 1;
  pos = headerStart;
  bool hostSeen = false, closeToken = false, keepAliveToken = false;
  TeState te;
  while (true) {
    nl = pos < n ? std::memchr(base + pos, '\n', n - pos) : nullptr;
    if (nl == nullptr) {
      if (n - headerStart > limits.maxHeaderBytes) return error(431);
      return incomplete();
    }
    lf = static_cast<const char*>(nl) - base;
    if (lf + 1 - headerStart > limits.maxHeaderBytes) return error(431);
    lineEnd = (lf > pos && in[lf - 1] == '\r') ? lf - 1 : lf;
    std::string_view line = in.substr(pos, lineEnd - pos);
    pos = lf + 1;
    if (line.empty()) break;
    if (isOws(line[0])) return error(400);  // obs-fold (RFC 9112 5.2) or space before a name
    if (r.headerCount >= maxHeaders) return error(431);

    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return error(400);
    std::string_view name = line.substr(0, colon);
    for (char c : name)
      if (!kTchar[static_cast<unsigned char>(c)]) return error(400);  // also "Name :"
    std::string_view value = trimOws(line.substr(colon + 1));
    for (char ch : value) {
      unsigned char c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t') || c == 0x7f) return error(400);  // CR, NUL, ...
    }
    r.headers[r.headerCount++] = Header{name, value};

    auto pick = [&](std::string_view& field) {
      if (field.empty()) field = value;
    };
    switch (name.size()) {
      case 4:
        if (equalsIgnoreCase(name, "host")) {
          if (hostSeen || !validHost(value)) return error(400);
          hostSeen = true;
          if (!absoluteHost) r.host = value;
        }
        break;
      case 5:
        if (equalsIgnoreCase(name, "range")) pick(r.range);
        break;
      case 6:
        if (equalsIgnoreCase(name, "expect")) pick(r.expect);
        break;
      case 7:
        if (equalsIgnoreCase(name, "referer")) pick(r.referer);
        break;
      case 8:
        if (equalsIgnoreCase(name, "if-match"))
          pick(r.ifMatch);
        else if (equalsIgnoreCase(name, "if-range")) {
          pick(r.ifRange);
          r.ifRangePresent = true;
        }
        break;
      case 10:
        if (equalsIgnoreCase(name, "connection")) {
          pick(r.connection);
          closeToken = closeToken || listContainsToken(value, "close");
          keepAliveToken = keepAliveToken || listContainsToken(value, "keep-alive");
        } else if (equalsIgnoreCase(name, "user-agent")) {
          pick(r.userAgent);
        }
        break;
      case 12:
        if (equalsIgnoreCase(name, "content-type")) pick(r.contentType);
        break;
      case 13:
        if (equalsIgnoreCase(name, "if-none-match")) pick(r.ifNoneMatch);
        break;
      case 14:
        if (equalsIgnoreCase(name, "content-length")) {
          int64_t len;
          if (!parseContentLength(value, len)) return error(400);
          if (r.contentLength >= 0 && r.contentLength != len) return error(400);
          r.contentLength = len;
        }
        break;
      case 15:
        if (equalsIgnoreCase(name, "accept-encoding")) pick(r.acceptEncoding);
        break;
      case 17:
        if (equalsIgnoreCase(name, "transfer-encoding")) {
          pick(r.transferEncoding);
          te.add(value);
        } else if (equalsIgnoreCase(name, "if-modified-since")) {
          pick(r.ifModifiedSince);
        }
        break;
      case 19:
        if (equalsIgnoreCase(name, "if-unmodified-since")) pick(r.ifUnmodifiedSince);
        break;
      default:
        break;
    }
  }

  if (r.versionMinor == 1 && !hostSeen) return error(400);  // RFC 9112 3.2
  if (te.seen) {
    // Both framings at once is the classic smuggling vector (RFC 9112 6.3); and an HTTP/1.0
    // peer cannot mean chunked, so its framing is unreliable (RFC 9112 6.1).
    if (r.contentLength >= 0 || r.versionMinor == 0) return error(400);
    if (te.codings == 0 || te.chunkedCount > 1 || (te.chunkedCount == 1 && !te.lastIsChunked))
      return error(400);  // chunked twice or not last: the body length is unknowable
    if (te.codings != 1) return error(501);  // gzip etc. under chunked: not supported
    if (te.chunkedCount == 0) return error(501);
    r.chunked = true;
  }
  r.keepAlive = r.versionMinor == 1 ? !closeToken : (keepAliveToken && !closeToken);
  r.expectContinue = r.versionMinor == 1 && equalsIgnoreCase(r.expect, "100-continue");
  r.headerBytes = pos - start;
  return {ParseStatus::Complete, 0, pos};
}

}  // namespace manifold::http
