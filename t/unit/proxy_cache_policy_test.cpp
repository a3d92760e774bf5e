// Tier: unit — what the proxy cache stores and for how long (protocols/proxy/cache_policy), the
// stored head (cache_fill), and the shm store with its fill locks and Vary markers (cache_store)
// on a private region.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/http/request.hpp"
#include "protocols/proxy/cache_fill.hpp"
#include "protocols/proxy/cache_policy.hpp"
#include "protocols/proxy/cache_store.hpp"
#include "protocols/proxy/response.hpp"

using namespace manifold;
using namespace manifold::proxy;

namespace {

struct Exchange {
  std::string requestText, responseText;
  http::Request req;
  ResponseHead resp;
  Exchange(const std::string& requestHeaders, const std::string& responseHeaders,
           int status = 200) {
    requestText = "GET /x HTTP/1.1\r\nHost: h\r\n" + requestHeaders + "\r\n";
    responseText = "HTTP/1.1 " + std::to_string(status) + " X\r\n" + responseHeaders +
                   "Content-Length: 0\r\n\r\n";
    EXPECT_EQ(http::parseRequest(requestText, req).status, http::ParseStatus::Complete);
    EXPECT_EQ(parseResponse(responseText, resp, false).status, ResponseStatus::Complete);
  }
  StorePlan plan(time_t now = 1000000, CacheRules rules = {}) {
    return planStore(req, resp, now, now, rules);
  }
};

const std::string kDate = "Date: Mon, 12 Jan 1970 13:46:40 GMT\r\n";  // 1000000

}  // namespace

TEST(ProxyCachePolicy, CacheControlDirectives) {
  CacheControl cc;
  parseCacheControl("public, max-age=60, s-maxage=\"120\", stale-while-revalidate=5", cc);
  EXPECT_TRUE(cc.isPublic);
  EXPECT_EQ(cc.maxAge, 60);
  EXPECT_EQ(cc.sMaxAge, 120);
  EXPECT_EQ(cc.staleWhileRevalidate, 5);
  CacheControl bad;
  parseCacheControl("max-age=abc, no-cache=\"Set-Cookie, X\", private", bad);
  EXPECT_EQ(bad.maxAge, 0);  // malformed: stale, the safe reading
  EXPECT_TRUE(bad.noCache);
  EXPECT_TRUE(bad.isPrivate);
  CacheControl two;
  parseCacheControl("max-age=100", two);
  parseCacheControl("max-age=10", two);  // a second line: the smaller wins
  EXPECT_EQ(two.maxAge, 10);
  CacheControl huge;
  parseCacheControl("max-age=99999999999999999999", huge);
  EXPECT_EQ(huge.maxAge, int64_t{1} << 31);
}

TEST(ProxyCachePolicy, FreshnessOrder) {
  EXPECT_EQ(Exchange("", kDate + "Cache-Control: max-age=60, s-maxage=5\r\n").plan().lifetime, 5);
  EXPECT_EQ(Exchange("", kDate + "Cache-Control: max-age=60\r\nExpires: Mon, 12 Jan 1970 "
                                 "13:47:40 GMT\r\n")
                .plan()
                .lifetime,
            60);
  EXPECT_EQ(Exchange("", kDate + "Expires: Mon, 12 Jan 1970 13:47:40 GMT\r\n").plan().lifetime, 60);
  StorePlan expired = Exchange("", kDate + "Expires: 0\r\n").plan();
  EXPECT_TRUE(expired.storable);  // an invalid Expires means already expired
  EXPECT_EQ(expired.lifetime, 0);
  // Heuristic: 10% of Date - Last-Modified (1000 s), bounded.
  StorePlan h = Exchange("", kDate + "Last-Modified: Mon, 12 Jan 1970 13:30:00 GMT\r\n").plan();
  EXPECT_TRUE(h.storable);
  EXPECT_EQ(h.lifetime, 100);
  CacheRules tight;
  tight.heuristicMax = 7;
  EXPECT_EQ(Exchange("", kDate + "Last-Modified: Mon, 12 Jan 1970 13:30:00 GMT\r\n")
                .plan(1000000, tight)
                .lifetime,
            7);
  // No freshness information at all, and a status not cacheable by default: not stored.
  EXPECT_FALSE(Exchange("", kDate).plan().storable);
  EXPECT_FALSE(Exchange("", kDate + "Last-Modified: Mon, 12 Jan 1970 13:30:00 GMT\r\n", 302)
                   .plan()
                   .storable);
  EXPECT_TRUE(Exchange("", kDate + "Cache-Control: max-age=9\r\n", 302).plan().storable);
  EXPECT_FALSE(Exchange("", kDate + "Cache-Control: max-age=9\r\n", 206).plan().storable);
}

TEST(ProxyCachePolicy, WhatIsNeverStored) {
  EXPECT_FALSE(Exchange("", "Cache-Control: max-age=9, no-store\r\n").plan().storable);
  EXPECT_FALSE(
      Exchange("Cache-Control: no-store\r\n", "Cache-Control: max-age=9\r\n").plan().storable);
  EXPECT_FALSE(Exchange("", "Cache-Control: private, max-age=9\r\n").plan().storable);
  EXPECT_FALSE(Exchange("", "Cache-Control: max-age=9\r\nVary: *\r\n").plan().storable);
  EXPECT_FALSE(Exchange("", "Cache-Control: max-age=9\r\nSet-Cookie: a=b\r\n").plan().storable);
  CacheRules strip;
  strip.storeSetCookie = true;
  StorePlan p =
      Exchange("", "Cache-Control: max-age=9\r\nSet-Cookie: a=b\r\n").plan(1000000, strip);
  EXPECT_TRUE(p.storable);
  EXPECT_TRUE(p.stripSetCookie);
  EXPECT_FALSE(
      Exchange("Authorization: Basic x\r\n", "Cache-Control: max-age=9\r\n").plan().storable);
  StorePlan shared = Exchange("Authorization: Basic x\r\n", "Cache-Control: s-maxage=9\r\n").plan();
  EXPECT_TRUE(shared.storable);
  EXPECT_TRUE(shared.authorized);
  EXPECT_TRUE(shared.mustRevalidate);  // s-maxage implies proxy-revalidate
}

TEST(ProxyCachePolicy, AgeAndStaleExtensions) {
  // Age 30 from upstream, 5 s in transit: corrected initial age 35.
  Exchange e("", kDate +
                     "Age: 30\r\nCache-Control: max-age=60, stale-while-revalidate=10, "
                     "stale-if-error=20\r\n");
  StorePlan p = planStore(e.req, e.resp, 1000000 - 5, 1000000, {});
  EXPECT_EQ(p.initialAge, 35);
  EXPECT_EQ(p.staleWhileRevalidate, 10);
  EXPECT_EQ(p.staleIfError, 20);
  Exchange strict("", kDate + "Cache-Control: max-age=60, must-revalidate, stale-if-error=20\r\n");
  EXPECT_EQ(strict.plan().staleIfError, 0);  // must-revalidate forbids serving stale
  ObjectMeta m{};
  m.initialAge = 35;
  m.responseTime = 1000;
  m.lifetime = 60;
  m.staleWhileRevalidate = 10;
  EXPECT_TRUE(m.fresh(1024));
  EXPECT_FALSE(m.fresh(1025));
  EXPECT_TRUE(m.staleWithin(1034, m.staleWhileRevalidate));
  EXPECT_FALSE(m.staleWithin(1035, m.staleWhileRevalidate));
}

TEST(ProxyCachePolicy, VaryNamesAndValues) {
  Exchange e("Accept-Encoding:  gzip,   br\r\nAccept-Language: de\r\n",
             "Vary: accept-encoding\r\nVary: Accept-Language, Accept-Encoding\r\n");
  std::string names;
  ASSERT_TRUE(varyNames(e.resp, names));
  EXPECT_EQ(names, "accept-encoding,accept-language");
  std::string values;
  appendVaryValues(e.req, names, values);
  EXPECT_EQ(values, "gzip,br\nde\n");
  Exchange star("", "Vary: Cookie, *\r\n");
  EXPECT_FALSE(varyNames(star.resp, names));
}

TEST(ProxyCachePolicy, StoredHeadDropsHopByHopAgeAndFraming) {
  Exchange e("",
             "Connection: X-Hop\r\nX-Hop: 1\r\nAge: 4\r\nETag: \"e1\"\r\nKeep-Alive: 5\r\n"
             "Set-Cookie: s\r\nLast-Modified: Mon, 12 Jan 1970 13:30:00 GMT\r\nX-Kept: yes\r\n");
  std::string head;
  ObjectMeta meta{};
  meta.responseTime = 1000000;
  buildStoredHead(e.resp, true, head, meta);
  EXPECT_EQ(head,
            "200 X\r\nETag: \"e1\"\r\nLast-Modified: Mon, 12 Jan 1970 13:30:00 GMT\r\n"
            "X-Kept: yes\r\nDate: Mon, 12 Jan 1970 13:46:40 GMT\r\n");  // none was sent
  EXPECT_EQ(head.substr(meta.etagOffset, meta.etagLength), "\"e1\"");
  EXPECT_EQ(meta.lastModified, 1000000 - 1000);
  EXPECT_EQ(meta.headLength, head.size());
}

TEST(ProxyCacheStore, ObjectsLocksPassMarksAndVary) {
  std::vector<uint64_t> region((4 << 20) / 8);
  CacheStore::format(region.data(), region.size() * 8);
  CacheStore store(region.data(), "");
  std::string primary;
  CacheStore::primaryKey("Example.COM:8080", "/a", "q=1", primary);
  EXPECT_EQ(primary, "example.com\n/a?q=1");

  ObjectMeta m{};
  m.kind = EntryKind::Object;
  m.lifetime = 60;
  m.responseTime = 100;
  m.headLength = 8;
  m.bodyLength = 4;
  ASSERT_TRUE(store.put(primary, m, "200 OK\r\n", "body"));
  std::string seen;
  EXPECT_TRUE(store.withObject(primary, true, 110, false,
                               [&](ObjectMeta& o, std::string_view head, std::string_view body) {
                                 EXPECT_EQ(head, "200 OK\r\n");
                                 seen.assign(body);
                                 EXPECT_EQ(o.hits, 1u);
                               }));
  EXPECT_EQ(seen, "body");

  // One fill at a time, until the holder lets go or its time runs out.
  EXPECT_TRUE(store.tryLock(primary, 1000, 500));
  EXPECT_FALSE(store.tryLock(primary, 1200, 500));
  EXPECT_TRUE(store.locked(primary, 1200));
  EXPECT_TRUE(store.tryLock(primary, 1600, 500));  // the first holder's time ran out
  store.unlock(primary);
  EXPECT_FALSE(store.locked(primary, 1600));
  store.markPass(primary, 50);
  EXPECT_TRUE(store.passMarked(primary, 49));
  EXPECT_FALSE(store.passMarked(primary, 50));

  // Vary: the marker replaces the plain object; its epoch stays while the names do.
  std::string vprimary;
  CacheStore::primaryKey("h", "/v", "", vprimary);
  uint64_t epoch = store.putVary(vprimary, "accept-encoding");
  EXPECT_EQ(store.putVary(vprimary, "accept-encoding"), epoch);
  std::string text = "GET /v HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n";
  http::Request req;
  ASSERT_EQ(http::parseRequest(text, req).status, http::ParseStatus::Complete);
  std::string key;
  auto ignore = [](ObjectMeta&, std::string_view, std::string_view) {};
  EXPECT_FALSE(store.lookup(vprimary, req, key, false, 110, ignore));
  EXPECT_NE(key, vprimary);  // the variant's key, though nothing is stored under it yet
  ASSERT_TRUE(store.put(key, m, "200 OK\r\n", "gzip"));
  std::string body;
  EXPECT_TRUE(store.lookup(vprimary, req, key, false, 110,
                           [&](ObjectMeta&, std::string_view, std::string_view b) { body = b; }));
  EXPECT_EQ(body, "gzip");
  // A purge drops the marker: the variant is unreachable (a new marker gets a new epoch).
  EXPECT_TRUE(store.purge(vprimary));
  EXPECT_NE(store.putVary(vprimary, "accept-encoding"), epoch);
  EXPECT_FALSE(store.lookup(vprimary, req, key, false, 110, ignore));
}
