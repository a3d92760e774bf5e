// libFuzzer target: the proxy cache's view of an upstream response (Cache-Control, dates, Age,
// Vary) against a request. Whatever the bytes: no crash, no read outside the input, and the plan
// is self-consistent (never negative ages or lifetimes, stale extensions only when stale may be
// served at all). The stored head never keeps a field the cache must not store.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/http/request.hpp"
#include "protocols/proxy/cache_fill.hpp"
#include "protocols/proxy/cache_policy.hpp"
#include "protocols/proxy/response.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold;
using namespace manifold::proxy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CacheControl cc;
  parseCacheControl(in, cc);
  check(cc.maxAge >= -1 && cc.sMaxAge >= -1);
  // The input is split: a request head, then a response head.
  size_t split = in.find("\r\n\r\n");
  if (split == std::string_view::npos) return 0;
  std::string request(in.substr(0, split + 4));
  std::string response(in.substr(split + 4));
  http::Request req;
  if (http::parseRequest(request, req).status != http::ParseStatus::Complete) return 0;
  ResponseHead resp;
  if (parseResponse(response, resp, false, 8192).status != ResponseStatus::Complete) return 0;
  StorePlan p = planStore(req, resp, 1000000, 1000010, CacheRules{});
  if (!p.storable) return 0;
  check(p.lifetime >= 0 && p.initialAge >= 0);
  check(!p.mustRevalidate || (p.staleWhileRevalidate == 0 && p.staleIfError == 0));
  std::string names, values;
  check(varyNames(resp, names));
  appendVaryValues(req, names, values);
  std::string head;
  ObjectMeta meta{};
  buildStoredHead(resp, p.stripSetCookie, head, meta);
  check(meta.headLength == head.size());
  check(meta.etagOffset + meta.etagLength <= head.size());
  check(head.find("\r\nContent-Length:") == std::string::npos);
  return 0;
}
