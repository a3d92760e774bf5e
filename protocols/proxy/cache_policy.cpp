#include "protocols/proxy/cache_policy.hpp"

#include <algorithm>
#include <vector>

#include "protocols/ascii.hpp"
#include "protocols/http/date.hpp"

namespace manifold::proxy {

namespace {

using http::equalsIgnoreCase;

constexpr auto trim = ascii::trimOws;

// delta-seconds (RFC 9111 1.2.2), quoted form tolerated; -1 when malformed. Values past 2^31
// are clamped to 2^31 as the RFC asks.
int64_t deltaSeconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty()) return -1;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = std::min<int64_t>(n * 10 + (c - '0'), int64_t{1} << 31);
  }
  return n;
}

template <class Fn>
void forEachField(const ResponseHead& h, std::string_view name, Fn&& fn) {
  for (size_t i = 0; i < h.headerCount; ++i)
    if (equalsIgnoreCase(h.headers[i].name, name)) fn(h.headers[i].value);
}

std::string_view firstField(const ResponseHead& h, std::string_view name) {
  for (size_t i = 0; i < h.headerCount; ++i)
    if (equalsIgnoreCase(h.headers[i].name, name)) return h.headers[i].value;
  return {};
}

// RFC 9110 15.1: heuristically cacheable (206 left out: partial content is not stored).
bool cacheableByDefault(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

}  // namespace

void parseCacheControl(std::string_view value, CacheControl& cc) {
  while (!value.empty()) {
    // One directive: token [ "=" ( token / quoted-string ) ], up to the next comma outside quotes.
    size_t end = 0;
    bool quoted = false;
    for (; end < value.size(); ++end) {
      char c = value[end];
      if (c == '"')
        quoted = !quoted;
      else if (c == '\\' && quoted && end + 1 < value.size())
        ++end;
      else if (c == ',' && !quoted)
        break;
    }
    std::string_view item = trim(value.substr(0, end));
    value.remove_prefix(std::min(end + 1, value.size()));
    size_t eq = item.find('=');
    std::string_view name = trim(item.substr(0, eq));
    std::string_view arg =
        eq == std::string_view::npos ? std::string_view() : trim(item.substr(eq + 1));
    bool hasArg = eq != std::string_view::npos;
    if (equalsIgnoreCase(name, "no-store")) {
      cc.noStore = true;
    } else if (equalsIgnoreCase(name, "no-cache")) {
      cc.noCache = true;  // with field names too: the qualified form is treated as the whole
    } else if (equalsIgnoreCase(name, "private")) {
      cc.isPrivate = true;
    } else if (equalsIgnoreCase(name, "public")) {
      cc.isPublic = true;
    } else if (equalsIgnoreCase(name, "must-revalidate")) {
      cc.mustRevalidate = true;
    } else if (equalsIgnoreCase(name, "proxy-revalidate")) {
      cc.proxyRevalidate = true;
    } else if (equalsIgnoreCase(name, "only-if-cached")) {
      cc.onlyIfCached = true;
    } else if (equalsIgnoreCase(name, "max-age")) {
      int64_t n = hasArg ? deltaSeconds(arg) : -1;
      cc.maxAge = n < 0 ? 0 : (cc.maxAge < 0 ? n : std::min(cc.maxAge, n));
    } else if (equalsIgnoreCase(name, "s-maxage")) {
      int64_t n = hasArg ? deltaSeconds(arg) : -1;
      cc.sMaxAge = n < 0 ? 0 : (cc.sMaxAge < 0 ? n : std::min(cc.sMaxAge, n));
    } else if (equalsIgnoreCase(name, "stale-while-revalidate")) {
      if (int64_t n = hasArg ? deltaSeconds(arg) : -1; n >= 0) cc.staleWhileRevalidate = n;
    } else if (equalsIgnoreCase(name, "stale-if-error")) {
      if (int64_t n = hasArg ? deltaSeconds(arg) : -1; n >= 0) cc.staleIfError = n;
    }
  }
}

StorePlan planStore(const http::Request& req, const ResponseHead& resp, time_t requestTime,
                    time_t responseTime, const CacheRules& rules) {
  StorePlan p;
  auto no = [&p](const char* why) {
    p.reason = why;
    return p;
  };
  if (req.method != http::Method::Get && req.method != http::Method::Head) return no("not a GET");
  if (resp.status < 200 || resp.status == 206 || resp.status == 304 || resp.status > 599)
    return no("status not stored");
  CacheControl rq, cc;
  for (size_t i = 0; i < req.headerCount; ++i)
    if (equalsIgnoreCase(req.headers[i].name, "cache-control"))
      parseCacheControl(req.headers[i].value, rq);
  forEachField(resp, "cache-control", [&cc](std::string_view v) { parseCacheControl(v, cc); });
  if (rq.noStore || cc.noStore) return no("no-store");
  if (cc.isPrivate) return no("private");
  std::string vary;
  if (!varyNames(resp, vary)) return no("Vary: *");
  bool setCookie = !firstField(resp, "set-cookie").empty();
  if (setCookie && !rules.storeSetCookie) return no("Set-Cookie");
  p.stripSetCookie = setCookie;
  p.authorized = cc.isPublic || cc.sMaxAge >= 0 || cc.mustRevalidate;
  if (!req.find("authorization").empty() && !p.authorized) return no("Authorization");

  time_t date = responseTime, expires = 0, lastModified = 0;
  bool hasDate = http::parseHttpDate(firstField(resp, "date"), date);
  if (!hasDate) date = responseTime;
  std::string_view expiresField = firstField(resp, "expires");
  bool hasExpires = false;  // present but invalid (e.g. "0") means already expired
  for (size_t i = 0; i < resp.headerCount; ++i)
    if (equalsIgnoreCase(resp.headers[i].name, "expires")) hasExpires = true;
  bool expiresValid = hasExpires && http::parseHttpDate(expiresField, expires);
  bool hasLastModified = http::parseHttpDate(firstField(resp, "last-modified"), lastModified);

  // Age (4.2.3).
  int64_t ageValue = deltaSeconds(trim(firstField(resp, "age")));
  if (ageValue < 0) ageValue = 0;
  int64_t apparent = std::max<int64_t>(0, static_cast<int64_t>(responseTime) - date);
  int64_t corrected = ageValue + std::max<int64_t>(0, responseTime - requestTime);
  p.initialAge = std::max(apparent, corrected);

  // Freshness lifetime (4.2.1), shared cache order.
  if (cc.sMaxAge >= 0) {
    p.lifetime = cc.sMaxAge;
  } else if (cc.maxAge >= 0) {
    p.lifetime = cc.maxAge;
  } else if (hasExpires) {
    p.lifetime = expiresValid ? std::max<int64_t>(0, static_cast<int64_t>(expires) - date) : 0;
  } else if ((cacheableByDefault(resp.status) || cc.isPublic) && hasLastModified &&
             lastModified < date) {
    p.lifetime = std::min<int64_t>(
        rules.heuristicMax, static_cast<int64_t>((date - lastModified) * rules.heuristicFraction));
  } else if (cc.noCache && cacheableByDefault(resp.status)) {
    p.lifetime = 0;
  } else {
    return no("no freshness information");
  }
  p.noCache = cc.noCache;
  p.mustRevalidate = cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge >= 0;
  if (!p.mustRevalidate) {
    p.staleWhileRevalidate = std::max<int64_t>(0, cc.staleWhileRevalidate);
    p.staleIfError = std::max<int64_t>(0, cc.staleIfError);
  }
  p.storable = true;
  return p;
}

bool varyNames(const ResponseHead& resp, std::string& out) {
  out.clear();
  std::vector<std::string> names;
  bool star = false;
  forEachField(resp, "vary", [&](std::string_view v) {
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view n = trim(v.substr(0, comma));
      v.remove_prefix(comma == std::string_view::npos ? v.size() : comma + 1);
      if (n.empty()) continue;
      if (n == "*") star = true;
      std::string lower(n);
      for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      names.push_back(std::move(lower));
    }
  });
  if (star) return false;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& n : names) {
    if (!out.empty()) out.push_back(',');
    out.append(n);
  }
  return true;
}

void appendVaryValues(const http::Request& req, std::string_view names, std::string& out) {
  while (!names.empty()) {
    size_t comma = names.find(',');
    std::string_view name = names.substr(0, comma);
    names.remove_prefix(comma == std::string_view::npos ? names.size() : comma + 1);
    bool first = true;
    for (size_t i = 0; i < req.headerCount; ++i) {
      if (!equalsIgnoreCase(req.headers[i].name, name)) continue;
      if (!first) out.push_back(',');
      first = false;
      bool space = false;
      for (char c : trim(req.headers[i].value)) {
        if (c == ' ' || c == '\t') {
          space = true;
          continue;
        }
        if (space && c != ',' && !out.empty() && out.back() != ',') out.push_back(' ');
        space = false;
        out.push_back(c);
      }
    }
    out.push_back('\n');
  }
}

bool unstoredField(std::string_view name, bool stripSetCookie) {
  return equalsIgnoreCase(name, "age") || equalsIgnoreCase(name, "content-length") ||
         equalsIgnoreCase(name, "x-cache") ||
         (stripSetCookie &&
          (equalsIgnoreCase(name, "set-cookie") || equalsIgnoreCase(name, "set-cookie2")));
}

}  // namespace manifold::proxy
