"""The conformance cases: RFC 9111 (HTTP caching) as a shared cache, and RFC 5861 (stale-*).

Modelled on the categories of http-tests/cache-tests (freshness, age, heuristics, storing,
status codes, Vary, validation, invalidation, HEAD, ranges, stale-*), written from the RFC text.

A case is a list of requests sent one after another through the cache to one origin path (the
origin, origin.py, is programmed with `responses`, one per origin request, the last repeated).
Kinds:
  must      a MUST / MUST NOT / SHOULD of the RFC: counted in the score
  expected  what a shared cache is for (a response with explicit freshness is reused; a 304
            revalidates): not a MUST in the RFC, counted, as cache-tests grades them
  may       the RFC leaves the choice (MAY, "prefers"): printed as INFO, never counted;
            `manifold` says what Manifold documents, and the t/run-suites suite (--gtest)
            counts those against Manifold's documented behaviour

Step.expect says where the answer must come from, judged by the origin's request log for the
step's path during the step and by X-Seq (the number of the origin request that produced the
stored response):
  origin     the origin got a request and the answer is that request's response
  cached     the origin got no request (background=True: one may come later) and the answer
             is a stored one (X-Seq of an earlier origin request)
  validated  the origin got exactly one conditional request and the answer keeps the stored X-Seq
  contacted  the origin got a request (a plain or a conditional one): not reused as it stood
"""

import email.utils
import re

RFC = "RFC 9111"


def R(cc=None, status=200, headers=(), **kw):
    """One origin response. `cc`: a Cache-Control value; `headers`: more fields."""
    fields = [["Cache-Control", cc]] if cc is not None else []
    fields += [list(h) for h in headers]
    spec = {"status": status, "headers": fields}
    spec.update(kw)
    return spec


def NM(*headers):
    """The conditional answer of a response: 304 with these fields."""
    return {"status": 304, "headers": [list(h) for h in headers]}


class Step:
    def __init__(self, expect=None, method="GET", path="", headers=None, wait=0, status=None,
                 checks=(), background=False, body=None):
        self.expect, self.method, self.path = expect, method, path
        self.headers = headers or {}
        self.wait, self.status, self.checks = wait, status, list(checks)
        self.background, self.body = background, body


class Case:
    def __init__(self, name, kind, ref, responses, steps, manifold=None, paths=None, note=""):
        assert kind in ("must", "expected", "may")
        self.name, self.kind, self.ref = name, kind, ref
        self.responses = responses  # for the case's own path
        self.paths = paths or {}  # suffix -> responses, for other paths of the case
        self.steps, self.manifold, self.note = steps, manifold, note


# ---- checks: functions (response, context) -> error text or None ----

def header(name, value):
    def check(r, ctx):
        got = r.getheader(name)
        return None if got == value else "%s: %r, expected %r" % (name, got, value)
    return check


def absent(name):
    def check(r, ctx):
        got = r.getheader(name)
        return None if got is None else "%s present (%r), must be absent" % (name, got)
    return check


def present(name):
    def check(r, ctx):
        return None if r.getheader(name) is not None else "no %s field" % name
    return check


def age_between(lo, hi):
    def check(r, ctx):
        age = r.getheader("Age")
        if age is None or not re.fullmatch(r"\d+", age.strip()):
            return "Age %r, expected an integer in [%d, %d]" % (age, lo, hi)
        return None if lo <= int(age) <= hi else "Age %s, expected [%d, %d]" % (age, lo, hi)
    return check


def seq(n):
    def check(r, ctx):
        got = r.getheader("X-Seq")
        return None if got == str(n) else "X-Seq %r: expected the response of origin request %d" % (got, n)
    return check


def full_body(size=None):
    """The whole stored body of the response (the origin's "PATH #n" text or `size` bytes)."""
    def check(r, ctx):
        if r.status != 200:
            return "status %d, expected 200 with the whole body" % r.status
        length = r.getheader("Content-Length")
        if size is not None and len(r.data) != size:
            return "body of %d bytes, expected %d" % (len(r.data), size)
        if size is None and not re.fullmatch(rb".*#\d+", r.data):
            return "body %r is not a whole origin body" % r.data[:60]
        if length is not None and int(length) != len(r.data):
            return "Content-Length %s for %d bytes" % (length, len(r.data))
        return None
    return check


def no_body():
    def check(r, ctx):
        return None if r.data == b"" else "a body of %d bytes" % len(r.data)
    return check


def range_or_full(first, last, size):
    """A 206 with bytes first..last of the stored body, or (Range ignored) the whole 200."""
    def check(r, ctx):
        full = ctx.full_body(size)
        if r.status == 200:
            return None if r.data == full else "200 without the whole body"
        if r.status != 206:
            return "status %d, expected 206 (or 200)" % r.status
        cr = r.getheader("Content-Range")
        if cr != "bytes %d-%d/%d" % (first, last, size):
            return "Content-Range %r" % cr
        return None if r.data == full[first:last + 1] else "wrong bytes in the 206"
    return check


def status_206():
    def check(r, ctx):
        return None if r.status == 206 else "status %d, expected 206 from the stored object" % r.status
    return check


def not_stale_200(r, ctx):
    return "the stale 200 was served" if r.status == 200 else None


def origin_saw(field, value=None):
    """The last request the origin got for this path carried `field` (= value)."""
    def check(r, ctx):
        last = ctx.last_request()
        got = last["headers"].get(field.lower()) if last else None
        if got is None:
            return "the origin's last request had no %s" % field
        if value is not None and got != value:
            return "the origin got %s: %r, expected %r" % (field, got, value)
        return None
    return check


OLD = "{date:-864000}"  # a Last-Modified ten days back
HOUR = "max-age=3600"
ETAG = ("ETag", '"v1"')


def simple(name, kind, ref, response, expect, manifold=None, note="", checks=()):
    """Store one response, then expect the second request to be `expect`."""
    return Case(name, kind, ref, [response], [Step("origin"), Step(expect, checks=checks)],
                manifold, note=note)


def status_case(status, kind="expected", manifold=None):
    extra = [("Location", "/elsewhere")] if 300 <= status < 400 else []
    return simple("status-%d-max-age" % status, kind, RFC + " 3, RFC 9110 15",
                  R(HOUR, status=status, headers=extra), "cached", manifold)


def invalidate_case(method, kind="must", manifold=None, ref=RFC + " 4.4"):
    return Case("invalidate-%s" % method.lower(), kind, ref,
                [R(HOUR), R("no-store", status=200), R(HOUR)],
                [Step("origin"), Step("cached"), Step("origin", method=method, body=b"x"),
                 Step("origin")], manifold)


def stale_error_case(name, cc, manifold=None, kind="must", ref=RFC + " 4.2.4",
                     error=None, expect_status=503):
    error = error or R("no-store", status=503)
    return Case(name, kind, ref, [R(cc, headers=[ETAG]), error],
                [Step("origin"), Step("contacted", wait=2.2, status=expect_status,
                                      checks=[not_stale_200])], manifold)


CASES = [
    # ---- freshness (4.2.1, 5.2.2, 5.3) ----
    simple("fresh-max-age", "expected", RFC + " 4.2.1", R(HOUR), "cached"),
    simple("fresh-s-maxage", "expected", RFC + " 5.2.2.10", R("s-maxage=3600"), "cached"),
    simple("fresh-s-maxage-over-max-age", "expected", RFC + " 4.2.1",
           R("max-age=0, s-maxage=3600"), "cached"),
    simple("stale-s-maxage-0-over-max-age", "must", RFC + " 4.2.1, 4.2.4",
           R("max-age=3600, s-maxage=0"), "contacted"),
    simple("stale-max-age-0", "must", RFC + " 4.2.4", R("max-age=0"), "contacted"),
    Case("stale-max-age-expired", "must", RFC + " 4.2.4", [R("max-age=1")],
         [Step("origin"), Step("contacted", wait=2.2)]),
    simple("fresh-expires", "expected", RFC + " 5.3",
           R(headers=[("Expires", "{date:+3600}")]), "cached"),
    simple("fresh-expires-rfc850-date", "must", "RFC 9110 5.6.7 (MUST accept all three)",
           R(headers=[("Expires", "{rfc850:+3600}")]), "cached"),
    simple("fresh-expires-asctime-date", "must", "RFC 9110 5.6.7 (MUST accept all three)",
           R(headers=[("Expires", "{asctime:+3600}")]), "cached"),
    simple("fresh-max-age-huge", "expected", RFC + " 1.2.2 (past 2^31: 2^31)",
           R("max-age=99999999999"), "cached"),
    simple("fresh-max-age-quoted", "may", RFC + " 5.2 (recipients \"ought to\" accept)",
           R('max-age="3600"'), "cached", manifold=True),
    simple("stale-expires-past", "must", RFC + " 5.3, 4.2.4",
           R(headers=[("Expires", "{date:-3600}")]), "contacted"),
    simple("stale-expires-invalid", "must", RFC + " 5.3 (\"0\" is in the past)",
           R(headers=[("Expires", "0")]), "contacted"),
    simple("stale-expires-relative-to-date", "must", RFC + " 4.2.1 (Expires minus Date)",
           R(headers=[("Expires", "{date:+3600}")], date=7200), "contacted",
           note="the origin's clock is 2 h ahead: the lifetime Expires - Date is negative"),
    simple("fresh-max-age-over-expires", "expected", RFC + " 4.2.1",
           R(HOUR, headers=[("Expires", "{date:-3600}")]), "cached"),
    simple("stale-max-age-0-over-expires", "must", RFC + " 4.2.1",
           R("max-age=0", headers=[("Expires", "{date:+3600}")]), "contacted"),
    simple("cc-directive-case-insensitive", "expected", RFC + " 5.2", R("MAX-AGE=3600"), "cached"),
    simple("cc-several-field-lines", "expected", RFC + " 5.2",
           R("public", headers=[("Cache-Control", HOUR)]), "cached"),
    simple("cc-no-store-on-second-line", "must", RFC + " 5.2, 5.2.2.5",
           R(HOUR, headers=[("Cache-Control", "no-store")]), "contacted"),
    simple("cc-no-store-uppercase", "must", RFC + " 5.2, 5.2.2.5",
           R("NO-STORE, max-age=3600"), "contacted"),

    # ---- age (4, 4.2.3, 5.1) ----
    simple("stale-by-upstream-age", "must", RFC + " 4.2.3",
           R(HOUR, headers=[("Age", "7200")]), "contacted"),
    simple("age-on-hit", "must", RFC + " 4 (MUST generate Age)", R(HOUR), "cached",
           checks=[age_between(0, 5)]),
    Case("age-grows-while-stored", "must", RFC + " 4.2.3, 5.1", [R(HOUR)],
         [Step("origin"), Step("cached", wait=2.2, checks=[age_between(2, 10)])]),
    simple("age-includes-upstream-age", "must", RFC + " 4.2.3",
           R(HOUR, headers=[("Age", "1800")]), "cached", checks=[age_between(1800, 1810)]),
    Case("date-added-when-missing", "must", "RFC 9110 6.6.1 (a cache MUST add Date)",
         [R(HOUR, date=None)],
         [Step("origin", checks=[present("Date")]), Step("cached", checks=[present("Date")])]),

    # ---- heuristic freshness (4.2.2) ----
    simple("heuristic-last-modified", "may", RFC + " 4.2.2", R(headers=[("Last-Modified", OLD)]),
           "cached", manifold=True, note="Manifold: 10% of Date - Last-Modified, at most 1 day"),
    simple("heuristic-404-last-modified", "may", RFC + " 4.2.2, RFC 9110 15.1",
           R(status=404, headers=[("Last-Modified", OLD)]), "cached", manifold=True),
    simple("heuristic-not-over-max-age-0", "must", RFC + " 4.2.2",
           R("max-age=0", headers=[("Last-Modified", OLD)]), "contacted"),
    simple("heuristic-not-over-expires", "must", RFC + " 4.2.2",
           R(headers=[("Last-Modified", OLD), ("Expires", "{date:-60}")]), "contacted"),
    simple("heuristic-not-for-302", "must", RFC + " 3 (not heuristically cacheable)",
           R(status=302, headers=[("Location", "/x"), ("Last-Modified", OLD)]), "contacted"),
    simple("heuristic-not-for-500", "must", RFC + " 3 (not heuristically cacheable)",
           R(status=500, headers=[("Last-Modified", OLD)]), "contacted"),

    # ---- what may be stored (3, 3.5, 5.2) ----
    simple("store-no-store", "must", RFC + " 5.2.2.5", R("no-store, max-age=3600"), "contacted"),
    Case("store-request-no-store", "must", RFC + " 5.2.1.5", [R(HOUR)],
         [Step("origin", headers={"Cache-Control": "no-store"}), Step("contacted")]),
    simple("store-private", "must", RFC + " 5.2.2.7 (shared cache)", R("private, max-age=3600"),
           "contacted"),
    simple("store-private-qualified", "must", RFC + " 5.2.2.7 (qualified form)",
           R('private="X-Secret", max-age=3600', headers=[("X-Secret", "s1")]), None,
           checks=[lambda r, ctx: None if ctx.contacted or r.getheader("X-Secret") is None
                   else "X-Secret replayed from a shared cache"],
           note="storing the rest is allowed: passes when not reused or reused without X-Secret"),
    simple("store-no-cache-qualified", "must", RFC + " 5.2.2.4 (qualified form)",
           R('no-cache="X-Token", max-age=3600', headers=[("X-Token", "t1"), ETAG],
             conditional=NM()), None,
           checks=[lambda r, ctx: None if ctx.contacted or r.getheader("X-Token") is None
                   else "X-Token sent without revalidation"]),
    Case("store-authorization", "must", RFC + " 3.5", [R(HOUR)],
         [Step("origin", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
          Step("contacted", headers={"Authorization": "Basic dXNlcjpwYXNz"})]),
    Case("store-authorization-not-leaked", "must", RFC + " 3.5", [R(HOUR)],
         [Step("origin", headers={"Authorization": "Basic dXNlcjpwYXNz"}), Step("contacted")]),
    Case("store-authorization-public", "may", RFC + " 3.5", [R("public, max-age=3600")],
         [Step("origin", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
          Step("cached", headers={"Authorization": "Basic dXNlcjpwYXNz"})], manifold=True),
    Case("store-authorization-s-maxage", "may", RFC + " 3.5", [R("s-maxage=3600")],
         [Step("origin", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
          Step("cached", headers={"Authorization": "Basic dXNlcjpwYXNz"})], manifold=True),
    simple("store-set-cookie", "may", RFC + " 3 (Set-Cookie does not forbid storing)",
           R(HOUR, headers=[("Set-Cookie", "id=1")]), "contacted", manifold=True,
           note="Manifold's default cache_set_cookie = skip: not stored"),
    simple("store-chunked-response", "expected", RFC + " 3", R(HOUR, chunked=True), "cached",
           checks=[full_body()]),
    Case("store-post-not-reused-for-get", "must", "RFC 9110 9.3.3, " + RFC + " 4",
         [R(HOUR)], [Step("origin", method="POST", body=b"x"), Step("origin")]),
    simple("store-vary-star", "must", RFC + " 4.1 (Vary: * never matches)",
           R(HOUR, headers=[("Vary", "*")]), "contacted"),
    Case("store-hop-by-hop-fields", "must", RFC + " 3.1, RFC 9110 7.6.1",
         [R(HOUR, headers=[("Connection", "X-Hop"), ("X-Hop", "1")])],
         [Step("origin", checks=[absent("X-Hop")]), Step("cached", checks=[absent("X-Hop")])]),
    Case("store-304-not-served-as-200", "must", RFC + " 3, 4.3.2",
         [R(HOUR, headers=[ETAG], conditional=NM())],
         [Step(None, headers={"If-None-Match": '"v1"'}), Step(None, checks=[full_body()])]),
    Case("client-if-none-match-on-miss", "must", "RFC 9110 13.2.1 (a cache MUST evaluate)",
         [R(HOUR, headers=[ETAG], conditional=NM())],
         [Step(None, headers={"If-None-Match": '"v1"'}, status=304)]),

    # ---- status codes ----
    status_case(203), status_case(204), status_case(301), status_case(404), status_case(410),
    status_case(302, "may", manifold=True),
    simple("status-500-max-age", "may", RFC + " 3", R(HOUR, status=500), "cached", manifold=True),

    # ---- Vary (4.1) ----
    Case("vary-same-value-reused", "expected", RFC + " 4.1",
         [R(HOUR, headers=[("Vary", "Accept-Language")])],
         [Step("origin", headers={"Accept-Language": "en"}),
          Step("cached", headers={"Accept-Language": "en"})]),
    Case("vary-other-value-not-reused", "must", RFC + " 4.1",
         [R(HOUR, headers=[("Vary", "Accept-Language")])],
         [Step("origin", headers={"Accept-Language": "en"}),
          Step("origin", headers={"Accept-Language": "fr"})]),
    Case("vary-absent-vs-present", "must", RFC + " 4.1",
         [R(HOUR, headers=[("Vary", "Accept-Language")])],
         [Step("origin"), Step("origin", headers={"Accept-Language": "en"})]),
    Case("vary-two-fields", "must", RFC + " 4.1",
         [R(HOUR, headers=[("Vary", "Accept-Language, X-Variant")])],
         [Step("origin", headers={"Accept-Language": "en", "X-Variant": "a"}),
          Step("origin", headers={"Accept-Language": "en", "X-Variant": "b"})]),
    Case("vary-variants-kept-apart", "expected", RFC + " 4.1",
         [R(HOUR, headers=[("Vary", "Accept-Language")])],
         [Step("origin", headers={"Accept-Language": "en"}),
          Step("origin", headers={"Accept-Language": "fr"}),
          Step("cached", headers={"Accept-Language": "en"}, checks=[seq(1)]),
          Step("cached", headers={"Accept-Language": "fr"}, checks=[seq(2)])]),
    Case("vary-variant-revalidated", "expected", RFC + " 4.1, 4.3",
         [R("max-age=1", headers=[("Vary", "Accept-Language"), ETAG],
            conditional=NM(("Cache-Control", HOUR)))],
         [Step("origin", headers={"Accept-Language": "en"}),
          Step("validated", wait=2.2, headers={"Accept-Language": "en"}, checks=[seq(1)]),
          Step("cached", headers={"Accept-Language": "en"}, checks=[seq(1)])]),
    Case("vary-field-name-case", "expected", RFC + " 4.1",
         [R(HOUR, headers=[("Vary", "ACCEPT-LANGUAGE")])],
         [Step("origin", headers={"Accept-Language": "en"}),
          Step("cached", headers={"Accept-Language": "en"})]),

    # ---- validation (3.2, 4.3) ----
    Case("validate-etag", "expected", RFC + " 4.3.1",
         [R("max-age=1", headers=[ETAG], conditional=NM(("Cache-Control", "max-age=1")))],
         [Step("origin"), Step("validated", wait=2.2, checks=[origin_saw("If-None-Match", '"v1"'),
                                                              full_body()])]),
    Case("validate-last-modified", "expected", RFC + " 4.3.1",
         [R("max-age=1", headers=[("Last-Modified", "{date:-3600}")],
            conditional=NM(("Cache-Control", "max-age=1")))],
         [Step("origin"), Step("validated", wait=2.2, checks=[origin_saw("If-Modified-Since"),
                                                              full_body()])]),
    Case("validate-200-replaces-stored", "expected", RFC + " 4.3.3",
         [R("max-age=1", headers=[ETAG], conditional=NM()),
          R(HOUR, headers=[("ETag", '"v2"')], conditional=NM())],
         [Step("origin"), Step("origin", wait=2.2, checks=[header("ETag", '"v2"')]),
          Step("cached", checks=[seq(2), header("ETag", '"v2"')])]),
    Case("validate-304-updates-fields", "must", RFC + " 3.2, 4.3.4",
         [R("max-age=1", headers=[ETAG, ("X-Updated", "1")],
            conditional=NM(("Cache-Control", HOUR), ("X-Updated", "2")))],
         [Step("origin"), Step("validated", wait=2.2, checks=[header("X-Updated", "2")]),
          Step("cached", checks=[header("X-Updated", "2")])]),
    Case("validate-304-keeps-other-fields", "must", RFC + " 3.2",
         [R("max-age=1", headers=[ETAG, ("X-Keep", "1")], conditional=NM(("Cache-Control", HOUR)))],
         [Step("origin"), Step("validated", wait=2.2, checks=[header("X-Keep", "1")]),
          Step("cached", checks=[header("X-Keep", "1")])]),
    Case("validate-304-content-length-ignored", "must", RFC + " 3.2 (not Content-Length)",
         [R("max-age=1", headers=[ETAG], size=200,
            conditional=NM(("Cache-Control", HOUR), ("Content-Length", "1")))],
         [Step("origin"), Step("validated", wait=2.2, checks=[full_body(200)]),
          Step("cached", checks=[full_body(200)])]),
    simple("validate-response-no-cache", "must", RFC + " 5.2.2.4",
           R("no-cache, max-age=3600", headers=[ETAG], conditional=NM()), "contacted"),
    stale_error_case("validate-must-revalidate-on-error", "max-age=1, must-revalidate",
                     ref=RFC + " 5.2.2.2"),
    stale_error_case("validate-proxy-revalidate-on-error", "max-age=1, proxy-revalidate",
                     ref=RFC + " 5.2.2.8"),
    stale_error_case("stale-not-served-on-error", "max-age=1"),
    Case("client-if-none-match-from-cache", "must", RFC + " 4.3.2 (SHOULD evaluate)",
         [R(HOUR, headers=[ETAG], conditional=NM())],
         [Step("origin"), Step("cached", headers={"If-None-Match": '"v1"'}, status=304,
                               checks=[present("ETag"), present("Cache-Control"),
                                       present("Date")])]),
    Case("client-if-modified-since-from-cache", "must", RFC + " 4.3.2 (SHOULD evaluate)",
         [R(HOUR, headers=[("Last-Modified", "{date:-3600}")], conditional=NM())],
         [Step("origin"),
          Step("cached", headers={"If-Modified-Since": email.utils.formatdate(usegmt=True)},
               status=304)]),
    Case("client-if-none-match-other-etag", "must", "RFC 9110 13.1.2", [R(HOUR, headers=[ETAG])],
         [Step("origin"), Step(None, headers={"If-None-Match": '"v2"'}, checks=[full_body()])]),

    # ---- invalidation (4.4) ----
    invalidate_case("POST"), invalidate_case("PUT"), invalidate_case("DELETE"),
    invalidate_case("FOO", ref=RFC + " 4.4 (methods of unknown safety)"),
    Case("invalidate-all-variants", "must", RFC + " 4.4 (the target URI's responses)",
         [R(HOUR, headers=[("Vary", "Accept-Language")]), R(HOUR, headers=[("Vary", "Accept-Language")]),
          R("no-store"), R(HOUR, headers=[("Vary", "Accept-Language")])],
         [Step("origin", headers={"Accept-Language": "en"}),
          Step("origin", headers={"Accept-Language": "fr"}),
          Step("origin", method="POST", body=b"x"),
          Step("origin", headers={"Accept-Language": "en"}),
          Step("origin", headers={"Accept-Language": "fr"})]),
    Case("invalidate-location", "may", RFC + " 4.4",
         [R("no-store", status=201, headers=[("Location", "{base}/b")])],
         [Step("origin", path="/b"), Step("cached", path="/b"), Step("origin", method="POST",
                                                                     body=b"x"),
          Step("origin", path="/b")], manifold=True,
         paths={"/b": [R(HOUR)]}),
    Case("invalidate-content-location", "may", RFC + " 4.4",
         [R("no-store", headers=[("Content-Location", "{base}/b")])],
         [Step("origin", path="/b"), Step("cached", path="/b"), Step("origin", method="PUT",
                                                                     body=b"x"),
          Step("origin", path="/b")], manifold=True,
         paths={"/b": [R(HOUR)]}),
    Case("invalidate-not-other-origin", "must", RFC + " 4.4 (MUST NOT for another origin)",
         [R("no-store", status=201, headers=[("Location", "http://other.example:8{base}/b")])],
         [Step("origin", path="/b", headers={"Host": "other.example:8"}),
          Step("origin", method="POST", body=b"x"),
          Step("cached", path="/b", headers={"Host": "other.example:8"})],
         paths={"/b": [R(HOUR)]}),

    # ---- HEAD ----
    Case("head-from-stored-get", "may", RFC + " 4", [R(HOUR)],
         [Step("origin"), Step("cached", method="HEAD",
                               checks=[no_body(), lambda r, ctx: header(
                                   "Content-Length", str(len("%s #1" % ctx.path)))(r, ctx)])],
         manifold=True),
    Case("get-after-head", "must", "RFC 9110 9.3.2 (a HEAD answer has no content)", [R(HOUR)],
         [Step(None, method="HEAD", checks=[no_body()]), Step(None, checks=[full_body()])]),

    # ---- ranges (3.3, 3.4; RFC 9110 14) ----
    Case("range-from-stored-object", "must", "RFC 9110 14.2, " + RFC + " 3.4", [R(HOUR, size=1000)],
         [Step("origin"), Step(None, headers={"Range": "bytes=10-19"},
                               checks=[range_or_full(10, 19, 1000)])]),
    Case("range-206-from-cache", "may", "RFC 9110 14.2", [R(HOUR, size=1000)],
         [Step("origin"), Step("cached", headers={"Range": "bytes=10-19"},
                               checks=[status_206(), range_or_full(10, 19, 1000)]),
          Step("cached", headers={"Range": "bytes=-5"},
               checks=[status_206(), range_or_full(995, 999, 1000)])], manifold=True),
    Case("range-if-range-other-etag", "must", "RFC 9110 13.1.5 (Range ignored)",
         [R(HOUR, size=1000, headers=[ETAG])],
         [Step("origin"), Step(None, headers={"Range": "bytes=10-19", "If-Range": '"v0"'},
                               checks=[full_body(1000)])]),
    Case("range-unsatisfiable", "must", "RFC 9110 15.5.17", [R(HOUR, size=1000)],
         [Step("origin"), Step(None, headers={"Range": "bytes=5000-6000"},
                               checks=[lambda r, ctx: None if r.status == 200 and r.data ==
                                       ctx.full_body(1000) or r.status == 416 and
                                       r.getheader("Content-Range") == "bytes */1000"
                                       else "status %d, expected 416 (or the whole 200)" % r.status])]),
    Case("range-partial-not-served-whole", "must", RFC + " 3.3, 3.4",
         [R(HOUR, size=1000, ranges=True)],
         [Step(None, headers={"Range": "bytes=0-9"}, checks=[range_or_full(0, 9, 1000)]),
          Step(None, checks=[full_body(1000)])]),

    # ---- stale-while-revalidate, stale-if-error (RFC 5861; RFC 9111 4.2.4) ----
    Case("stale-while-revalidate", "may", "RFC 5861 3",
         [R("max-age=1, stale-while-revalidate=60"), R(HOUR)],
         [Step("origin"), Step("cached", wait=2.2, background=True, checks=[seq(1)]),
          Step("cached", wait=1.5, checks=[seq(2)])], manifold=True),
    Case("stale-while-revalidate-window-over", "must", RFC + " 4.2.4, RFC 5861 3",
         [R("max-age=1, stale-while-revalidate=1")], [Step("origin"), Step("origin", wait=3.5)]),
    Case("stale-while-revalidate-not-with-must-revalidate", "must", RFC + " 4.2.4, 5.2.2.2",
         [R("max-age=1, must-revalidate, stale-while-revalidate=60"), R(HOUR)],
         [Step("origin"), Step("origin", wait=2.2)]),
    Case("stale-while-revalidate-not-with-s-maxage", "must", RFC + " 4.2.4, 5.2.2.10",
         [R("s-maxage=1, stale-while-revalidate=60"), R(HOUR)],
         [Step("origin"), Step("origin", wait=2.2)]),
    Case("stale-if-error", "may", "RFC 5861 4",
         [R("max-age=1, stale-if-error=60"), R("no-store", status=500)],
         [Step("origin"), Step("contacted", wait=2.2, status=200, checks=[seq(1)])], manifold=True),
    Case("stale-if-error-window-over", "must", RFC + " 4.2.4, RFC 5861 4",
         [R("max-age=1, stale-if-error=1"), R("no-store", status=500)],
         [Step("origin"), Step("contacted", wait=3.5, status=500)]),

    # ---- request directives (5.2.1) ----
    Case("request-no-cache", "may", RFC + " 5.2.1.4 (\"prefers\")", [R(HOUR)],
         [Step("origin"), Step("contacted", headers={"Cache-Control": "no-cache"})]),
    Case("request-max-age-0", "may", RFC + " 5.2.1.1", [R(HOUR)],
         [Step("origin"), Step("contacted", headers={"Cache-Control": "max-age=0"})]),
    Case("request-only-if-cached-miss", "must", RFC + " 5.2.1.7 (SHOULD 504)", [R(HOUR)],
         [Step(None, headers={"Cache-Control": "only-if-cached"}, status=504,
               checks=[lambda r, ctx: "the origin was asked" if ctx.contacted else None])]),
]
