// What a shared cache may store and for how long (RFC 9111, RFC 5861): pure functions over a
// request and an upstream response head, unit-tested and fuzzed without a socket.
//
// Storing (RFC 9111 3): only GET responses (the proxy fetches HEAD misses as GET); a final
// status that is understood; not when the request or the response says no-store, nor for a
// response marked private (this is a shared cache), nor Vary: *; a request with Authorization
// only when the response says public, s-maxage or must-revalidate (3.5); a response with
// Set-Cookie only when the rules allow it (then the field is stripped, never stored); and only
// when it has explicit freshness (s-maxage, max-age, Expires), or is heuristically cacheable
// (RFC 9110 15.1 status list, or `public`) with a Last-Modified to derive a lifetime from
// (4.2.2: a fraction of Date - Last-Modified, bounded), or says no-cache (stored, always
// revalidated).
//
// Age (4.2.3): apparent_age = max(0, response_time - date); corrected_age_value = age +
// (response_time - request_time); corrected_initial_age = max of the two; current_age =
// corrected_initial_age + (now - response_time).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "protocols/http/request.hpp"
#include "protocols/proxy/response.hpp"

namespace manifold::proxy {

// Cache-Control directives (RFC 9111 5.2), response and request ones together. Several field
// lines accumulate; unknown directives are ignored; a malformed delta-seconds value makes the
// directive count as absent, except max-age/s-maxage which then count as 0 (stale: the safe
// reading, 4.2.1 "treat it as invalid" and 1.2.2).
struct CacheControl {
  bool noStore = false, noCache = false, isPrivate = false, isPublic = false;
  bool mustRevalidate = false, proxyRevalidate = false, onlyIfCached = false;
  int64_t maxAge = -1, sMaxAge = -1, staleWhileRevalidate = -1, staleIfError = -1;
};
void parseCacheControl(std::string_view value, CacheControl& out);

struct CacheRules {
  bool storeSetCookie = false;     // store a response with Set-Cookie (the field stripped)
  double heuristicFraction = 0.1;  // of Date - Last-Modified
  int64_t heuristicMax = 86400;    // seconds
};

// How a response is kept.
struct StorePlan {
  bool storable = false;
  const char* reason = "";  // why not, for the debug log
  int64_t lifetime = 0;     // freshness lifetime, seconds
  int64_t initialAge = 0;   // corrected_initial_age, seconds
  int64_t staleWhileRevalidate = 0, staleIfError = 0;
  bool mustRevalidate =
      false;                // no stale serving at all (must-revalidate, proxy-revalidate, s-maxage)
  bool noCache = false;     // stored, but revalidated before each use
  bool authorized = false;  // may answer requests carrying Authorization
  bool stripSetCookie = false;
};

// `requestTime`/`responseTime`: when the request went up and the head came back (seconds).
StorePlan planStore(const http::Request& req, const ResponseHead& resp, time_t requestTime,
                    time_t responseTime, const CacheRules& rules);

// The response's Vary field names, lowercased, sorted, comma-joined ("" without Vary).
// False for Vary: * (never matches a later request, so not worth storing).
bool varyNames(const ResponseHead& resp, std::string& out);

// The request's values of the comma-joined `names`, normalised (OWS trimmed, inner whitespace
// runs collapsed, several lines joined with ","), each followed by '\n': the part of the
// variant key that selects among the responses stored for one URI.
void appendVaryValues(const http::Request& req, std::string_view names, std::string& out);

// True for a response field the cache never stores: hop-by-hop ones are the caller's; these are
// the fields recomputed per answer (Age, framing) or never shared.
bool unstoredField(std::string_view name, bool stripSetCookie);

}  // namespace manifold::proxy
