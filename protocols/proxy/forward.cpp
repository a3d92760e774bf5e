#include "protocols/proxy/forward.hpp"

#include "protocols/http/response.hpp"

namespace manifold::proxy {

namespace {

using http::equalsIgnoreCase;

constexpr std::string_view kHopByHop[] = {
    "connection", "keep-alive",          "proxy-connection",   "te",     "transfer-encoding",
    "upgrade",    "proxy-authorization", "proxy-authenticate", "trailer"};

// The Connection field values of a message (there may be several field lines).
template <typename Fields>
size_t connectionValues(const Fields* fields, size_t count, std::string_view* out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < count && n < max; ++i)
    if (equalsIgnoreCase(fields[i].name, "connection")) out[n++] = fields[i].value;
  return n;
}

constexpr size_t kMaxConnectionLines = 8;

// Every value of the request field `name`, in order, each followed by ", " (several field lines
// are one comma-separated list, RFC 9110 5.3).
void appendAllValues(std::string& out, const http::Request& r, std::string_view name) {
  for (size_t i = 0; i < r.headerCount; ++i)
    if (equalsIgnoreCase(r.headers[i].name, name) && !r.headers[i].value.empty())
      out.append(r.headers[i].value).append(", ");
}

// Request fields a cache fill does not pass on: the cache evaluates them against the object.
bool cacheOwned(std::string_view name) {
  for (std::string_view f : {"range", "if-range", "if-none-match", "if-modified-since", "if-match",
                             "if-unmodified-since"})
    if (equalsIgnoreCase(name, f)) return true;
  return false;
}

void appendForAddress(std::string& out, const net::PeerAddress& client) {
  if (client.isV4()) {
    out.append(net::toString(client));
  } else {
    out.append("\"[").append(net::toString(client)).append("]\"");
  }
}

}  // namespace

bool hopByHop(std::string_view name, const std::string_view* connection, size_t count) {
  for (std::string_view h : kHopByHop)
    if (equalsIgnoreCase(name, h)) return true;
  for (size_t i = 0; i < count; ++i)
    if (http::listContainsToken(connection[i], name)) return true;
  return false;
}

bool hopByHop(std::string_view name, const ResponseHead& response) {
  std::string_view conn[kMaxConnectionLines];
  size_t count =
      connectionValues(response.headers, response.headerCount, conn, kMaxConnectionLines);
  return hopByHop(name, conn, count);
}

void appendUpstreamHead(std::string& out, const http::Request& r, const net::PeerAddress& client,
                        bool cacheFill, std::string_view target, std::string_view date) {
  std::string_view conn[kMaxConnectionLines];
  size_t connCount = connectionValues(r.headers, r.headerCount, conn, kMaxConnectionLines);
  out.append(cacheFill ? std::string_view("GET") : r.methodText).append(" ");
  if (!target.empty()) {
    out.append(target);
  } else if (!r.target.empty() && r.target[0] != '/' && r.target != "*") {
    out.append(r.path);  // absolute-form: sent on in origin-form
    if (!r.query.empty()) out.append("?").append(r.query);
  } else {
    out.append(r.target);
  }
  out.append(" HTTP/1.1\r\n");
  if (!r.host.empty()) http::appendHeader(out, "Host", r.host);
  if (!date.empty()) http::appendHeader(out, "Date", date);
  for (size_t i = 0; i < r.headerCount; ++i) {
    const http::Header& h = r.headers[i];
    if (hopByHop(h.name, conn, connCount) || equalsIgnoreCase(h.name, "host") ||
        equalsIgnoreCase(h.name, "content-length") || equalsIgnoreCase(h.name, "expect") ||
        equalsIgnoreCase(h.name, "x-forwarded-proto") || (cacheFill && cacheOwned(h.name)) ||
        (!date.empty() && equalsIgnoreCase(h.name, "date")))
      continue;
    if (equalsIgnoreCase(h.name, "x-forwarded-for") || equalsIgnoreCase(h.name, "forwarded"))
      continue;  // rewritten below, earlier proxies' values kept
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out.append("X-Forwarded-For: ");
  appendAllValues(out, r, "x-forwarded-for");
  out.append(net::toString(client)).append("\r\nX-Forwarded-Proto: http\r\nForwarded: ");
  appendAllValues(out, r, "forwarded");
  out.append("for=");
  appendForAddress(out, client);
  out.append(";proto=http");
  if (!r.host.empty()) {
    out.append(";host=\"");
    for (char c : r.host)
      if (c != '"' && c != '\\') out.push_back(c);  // validated by the parser; quoted anyway
    out.append("\"");
  }
  out.append("\r\n");
}

void appendDownstreamHead(std::string& out, const ResponseHead& h, int clientVersionMinor) {
  std::string_view conn[kMaxConnectionLines];
  size_t connCount = connectionValues(h.headers, h.headerCount, conn, kMaxConnectionLines);
  out.append(clientVersionMinor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char code[4] = {static_cast<char>('0' + h.status / 100 % 10),
                  static_cast<char>('0' + h.status / 10 % 10),
                  static_cast<char>('0' + h.status % 10), ' '};
  out.append(code, 4).append(h.reason.empty() ? http::statusText(h.status) : h.reason);
  out.append("\r\n");
  for (size_t i = 0; i < h.headerCount; ++i) {
    const http::Header& f = h.headers[i];
    if (hopByHop(f.name, conn, connCount)) continue;
    // The length is the upstream's framing: the caller writes it again when it still holds.
    if (equalsIgnoreCase(f.name, "content-length")) continue;
    out.append(f.name).append(": ").append(f.value).append("\r\n");
  }
}

}  // namespace manifold::proxy
