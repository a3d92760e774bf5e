// Tier: integration — HTTP/1.0 and 1.1 protocol behaviour of the static web server, virtual hosts,
// request errors, and the status endpoint, against the real binary on loopback.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

// One instance for the read-only protocol tests: [http:www] (webdav off, max_request_line = 1k),
// [http:dav] (webdav on), [status:m].
class HttpProtocol : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    instance = new Instance(httpSection("www", "{dir}/www", "max_request_line = 1k") +
                            httpSection("dav", "{dir}/dav", "webdav = on") + statusSection());
    run("mkdir -p " + instance->path("www/sub") + " " + instance->path("dav"));
    writeFile(instance->path("www/index.html"), "<html><body>home</body></html>\n");
    writeFile(instance->path("www/style.css"), "body { color: red; }\n");
    png = std::string("\x89PNG\r\n\x1a\n", 8) + pattern(3000, 7);
    writeFile(instance->path("www/pic.png"), png);
    writeFile(instance->path("www/one.txt"), "first\n");
    writeFile(instance->path("www/two.txt"), "second!\n");
    writeFile(instance->path("www/three.txt"), "third!!!\n");
    writeFile(instance->path("www/head.txt"), "head test body\n");
    big = pattern(300 * 1024, 3);  // above xcache_max_file: sent with sendfile
    mid = pattern(20 * 1024, 4);   // from the xcache
    writeFile(instance->path("www/mid.txt"), mid);
    writeFile(instance->path("www/empty.txt"), "");
    writeFile(instance->path("www/big.bin"), big);
    ASSERT_TRUE(instance->start()) << instance->log();
    www = instance->port("www");
    dav = instance->port("dav");
    status = instance->port("status");
  }
  static void TearDownTestSuite() {
    delete instance;
    instance = nullptr;
  }
  static Instance* instance;
  static int www, dav, status;
  static std::string png, big, mid;
};
Instance* HttpProtocol::instance = nullptr;
int HttpProtocol::www = 0;
int HttpProtocol::dav = 0;
int HttpProtocol::status = 0;
std::string HttpProtocol::png;
std::string HttpProtocol::big;
std::string HttpProtocol::mid;

namespace {
const std::regex kImfDate(
    "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    "[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT");

// Date, Server and a Content-Length that matches the body.
void expectCommonHeaders(const Reply& r, bool head = false) {
  EXPECT_TRUE(std::regex_match(r.header("Date"), kImfDate)) << r.head;
  EXPECT_EQ(r.header("Server"), "manifold") << r.head;
  ASSERT_EQ(r.all("Content-Length").size(), 1u) << r.head;
  if (!head) {
    EXPECT_EQ(r.header("Content-Length"), str(r.body.size())) << r.head;
  }
}
}  // namespace

TEST_F(HttpProtocol, GetSendsDateServerTypeAndLength) {
  for (int round = 0; round < 2; ++round) {  // cold, then from the xcache
    Reply html = one(www, getClose("/index.html"));
    EXPECT_EQ(html.statusLine(), "HTTP/1.1 200 OK");
    EXPECT_EQ(html.body, "<html><body>home</body></html>\n");
    EXPECT_EQ(html.header("Content-Type"), "text/html");
    expectCommonHeaders(html);

    Reply css = one(www, getClose("/style.css"));
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.body, "body { color: red; }\n");
    EXPECT_EQ(css.header("Content-Type"), "text/css");
    expectCommonHeaders(css);

    Reply image = one(www, getClose("/pic.png"));
    EXPECT_EQ(image.status, 200);
    EXPECT_EQ(image.body, png);
    EXPECT_EQ(image.header("Content-Type"), "image/png");
    expectCommonHeaders(image);
  }
  Reply large = one(www, getClose("/big.bin"));
  EXPECT_EQ(large.status, 200);
  EXPECT_TRUE(large.body == big) << "body of " << large.body.size() << " bytes differs";
  EXPECT_EQ(large.header("Content-Type"), "application/octet-stream");
  expectCommonHeaders(large);

  for (int round = 0; round < 2; ++round) {
    Reply empty = one(www, getClose("/empty.txt"));
    EXPECT_EQ(empty.status, 200);
    EXPECT_EQ(empty.header("Content-Length"), "0");
    EXPECT_EQ(empty.body, "");
  }

  // "/" serves the index; errors carry a length too.
  Reply root = one(www, getClose("/"));
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, "<html><body>home</body></html>\n");
  Reply missing = one(www, getClose("/missing.html"));
  EXPECT_EQ(missing.statusLine(), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(missing.header("Content-Type"), "text/html");
  EXPECT_NE(missing.body.find("404 Not Found"), std::string::npos);
  expectCommonHeaders(missing);
}

namespace {
// Header lines other than Date, in order.
std::vector<std::string> headersWithoutDate(const Reply& r) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at != std::string::npos) {
    size_t end = r.head.find("\r\n", at);
    std::string line = r.head.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (line.rfind("Date:", 0) != 0) lines.push_back(line);
    at = end == std::string::npos ? end : end + 2;
  }
  return lines;
}
}  // namespace

TEST_F(HttpProtocol, HeadHasTheHeadersOfGetAndNoBody) {
  // HEAD first (the cold path builds the cached head), then GET, then HEAD from the cache; then
  // a large file (sendfile path) and an error page.
  for (std::string path : {"/head.txt", "/big.bin", "/missing.txt"}) {
    std::string headRequest = "HEAD " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    std::string rawHead = rawExchange(www, headRequest);
    size_t end = rawHead.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos) << path;
    EXPECT_EQ(rawHead.size(), end + 4) << path << ": HEAD answer carries a body";
    Reply head;
    parseReply(rawHead, head, true);
    Reply full = one(www, getClose(path));
    Reply again;
    std::string rawAgain = rawExchange(www, headRequest);
    parseReply(rawAgain, again, true);
    EXPECT_EQ(rawAgain.size(), rawAgain.find("\r\n\r\n") + 4) << path;
    EXPECT_EQ(headersWithoutDate(head), headersWithoutDate(full)) << path;
    EXPECT_EQ(headersWithoutDate(again), headersWithoutDate(full)) << path;
    EXPECT_EQ(head.header("Content-Length"), str(full.body.size())) << path;
    expectCommonHeaders(head, true);
  }
}

TEST_F(HttpProtocol, OptionsListsAllowAndDav) {
  Reply plain = one(www, "OPTIONS /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_FALSE(plain.has("DAV"));
  EXPECT_EQ(plain.header("Content-Length"), "0");
  EXPECT_EQ(plain.body, "");

  Reply star = one(www, "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(star.status, 200);
  EXPECT_EQ(star.header("Allow"), "GET, HEAD, OPTIONS");

  Reply webdav = one(dav, "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(webdav.status, 200);
  EXPECT_EQ(webdav.header("Allow"), "GET, HEAD, OPTIONS, PUT, DELETE, MKCOL");
  EXPECT_EQ(webdav.header("DAV"), "1");
  EXPECT_EQ(webdav.header("Content-Length"), "0");
}

TEST_F(HttpProtocol, KeepAliveServesSeveralRequestsOnOneConnection) {
  RawClient client(www);
  ASSERT_TRUE(client.ok());
  for (int round = 0; round < 2; ++round) {
    Reply first = client.exchange(get("/one.txt"));
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.body, "first\n");
    EXPECT_FALSE(first.has("Connection")) << first.head;
    Reply second = client.exchange(get("/two.txt"));
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, "second!\n");
    EXPECT_FALSE(second.has("Connection")) << second.head;
  }
  // An error that does not break framing keeps the connection too.
  Reply missing = client.exchange(get("/nope"));
  EXPECT_EQ(missing.status, 404);
  Reply after = client.exchange(get("/three.txt"));
  EXPECT_EQ(after.body, "third!!!\n");
  EXPECT_FALSE(client.waitClosed(200)) << "connection closed while keep-alive";

  // The same through rawExchange: the second request asks to close, and the server does.
  auto start = Clock::now();
  std::string raw =
      rawExchange(www, get("/one.txt") + getClose("/two.txt"), 3000, /*halfClose=*/false);
  EXPECT_LT(msSince(start), 2000) << "the server did not close after Connection: close";
  auto replies = parseReplies(raw);
  ASSERT_EQ(replies.size(), 2u) << raw;
  EXPECT_EQ(replies[0].body, "first\n");
  EXPECT_FALSE(replies[0].has("Connection"));
  EXPECT_EQ(replies[1].body, "second!\n");
  EXPECT_EQ(replies[1].header("Connection"), "close");
}

TEST_F(HttpProtocol, Http10ClosesUnlessKeepAliveAsked) {
  for (std::string path :
       {"/one.txt", "/one.txt", "/big.bin", "/nope"}) {  // miss, hit, sendfile, error
    RawClient client(www);
    client.send("GET " + path + " HTTP/1.0\r\n\r\n");
    Reply r;
    ASSERT_TRUE(client.read(r)) << path;
    EXPECT_EQ(r.statusLine().substr(0, 9), "HTTP/1.0 ") << path;
    EXPECT_EQ(r.header("Connection"), "close") << path;
    EXPECT_TRUE(client.waitClosed(1000)) << path << ": HTTP/1.0 connection left open";
  }
  for (std::string path : {"/two.txt", "/two.txt", "/big.bin", "/nope"}) {
    RawClient client(www);
    Reply r = client.exchange("GET " + path + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(r.statusLine().substr(0, 9), "HTTP/1.0 ") << path;
    EXPECT_EQ(r.header("Connection"), "keep-alive") << path;
    EXPECT_FALSE(client.waitClosed(150)) << path;
    Reply next = client.exchange("GET /three.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(next.status, 200) << path;
    EXPECT_EQ(next.body, "third!!!\n") << path;
    Reply last = client.exchange("GET /one.txt HTTP/1.0\r\n\r\n");
    EXPECT_EQ(last.body, "first\n");
    EXPECT_EQ(last.header("Connection"), "close");
    EXPECT_TRUE(client.waitClosed(1000));
  }
}

TEST_F(HttpProtocol, PipelinedRequestsAreAnsweredInOrder) {
  // Small ones (some cached by now, some not), a sendfile body in the middle, a HEAD and an error.
  std::string batch = get("/one.txt") + get("/two.txt") + get("/three.txt");
  RawClient client(www);
  ASSERT_TRUE(client.send(batch));
  Reply a, b, c;
  ASSERT_TRUE(client.read(a));
  ASSERT_TRUE(client.read(b));
  ASSERT_TRUE(client.read(c));
  EXPECT_EQ(a.body, "first\n");
  EXPECT_EQ(b.body, "second!\n");
  EXPECT_EQ(c.body, "third!!!\n");

  std::string mixed = get("/three.txt") + get("/big.bin") +
                      "HEAD /two.txt HTTP/1.1\r\nHost: x\r\n\r\n" + get("/nope") +
                      getClose("/one.txt");
  std::string raw = rawExchange(www, mixed, 5000, false);
  auto replies = parseReplies(raw, {false, false, true, false, false});
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[0].body, "third!!!\n");
  EXPECT_EQ(replies[1].status, 200);
  EXPECT_TRUE(replies[1].body == big);
  EXPECT_EQ(replies[2].status, 200);
  EXPECT_EQ(replies[2].header("Content-Length"), "8");
  EXPECT_EQ(replies[2].body, "");
  EXPECT_EQ(replies[3].status, 404);
  EXPECT_EQ(replies[4].body, "first\n");

  // A long batch whose answers (about 4 MB) far exceed the socket buffers: all of them, in order.
  std::string many;
  for (int i = 0; i < 200; ++i) many += get(i % 10 == 9 ? "/big.bin" : "/mid.txt?n=" + str(i));
  RawClient longer(www);
  ASSERT_TRUE(longer.send(many));
  for (int i = 0; i < 200; ++i) {
    Reply r;
    ASSERT_TRUE(longer.read(r, 5000)) << "answer " << i;
    ASSERT_EQ(r.status, 200) << i;
    if (i % 10 == 9) {
      ASSERT_TRUE(r.body == big) << i;
    } else {
      ASSERT_TRUE(r.body == mid) << i;
    }
  }
  EXPECT_EQ(longer.exchange(get("/one.txt")).body, "first\n");
}

TEST_F(HttpProtocol, BadRequestsGetExactErrors) {
  struct Case {
    std::string request;
    int status;
    bool closes;
  };
  std::string longPath = "/" + std::string(2000, 'a');
  std::string hugeHeader = "X-Big: " + std::string(40000, 'b') + "\r\n";
  std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400, true},
      {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400, true},
      {"GET / HTTP/1.1\r\n\r\n", 400, true},  // HTTP/1.1 without Host
      {"GET " + longPath + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, true},
      {"GET / HTTP/1.1\r\nHost: x\r\n" + hugeHeader + "\r\n", 431, true},
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, true},
      {"BREW /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 501, true},
      {"POST /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, true},
  };
  for (auto& c : cases) {
    std::string raw = rawExchange(www, c.request, 3000, false);
    Reply r;
    ASSERT_GT(parseReply(raw, r, false, true), 0u) << c.request.substr(0, 40) << " -> " << raw;
    EXPECT_EQ(r.status, c.status) << c.request.substr(0, 40);
    EXPECT_EQ(r.header("Content-Type"), "text/html");
    expectCommonHeaders(r);
    EXPECT_NE(r.body.find(str(c.status)), std::string::npos);
    if (c.closes) {
      EXPECT_EQ(r.header("Connection"), "close") << c.request.substr(0, 40);
    }
    if (c.status == 405) {
      EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");
    }
  }
  // A request line at the limit is fine; the limit is the configured 1k, not the default 8k.
  std::string atLimit = "/" + std::string(1024 - 13 - 1, 'a');  // "GET " + path + " HTTP/1.1"
  EXPECT_EQ(one(www, "GET " + atLimit + " HTTP/1.1\r\nHost: x\r\n\r\n").status, 404);
  EXPECT_EQ(one(www, "GET " + atLimit + "a HTTP/1.1\r\nHost: x\r\n\r\n").status, 414);

  // 405 and 501 keep the connection; a small body sent with the POST is skipped.
  RawClient client(www);
  Reply post =
      client.exchange("POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD, OPTIONS");
  Reply brew = client.exchange("BREW / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(brew.status, 501);
  Reply next = client.exchange(get("/one.txt"));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "first\n");
}

// Several [http] sections on one address, chosen by Host.
TEST(HttpVhosts, HostSelectsTheVirtualServer) {
  // Three virtual hosts share one address: one {port:vhosts}, spelled out.
  auto site = [](const std::string& name, const std::string& extra) {
    return "[http:" + name + "]\nlisten = 127.0.0.1:{port:vhosts}\nroot = {dir}/" + name + "\n" +
           extra + "\n";
  };
  Instance m(site("a", "server_name = a.example.com") + site("b", "server_name = *.example.com") +
             site("c", "server_name = www.other.test other.test\ndefault_server = on"));
  for (std::string site : {"a", "b", "c"}) {
    run("mkdir -p " + m.path(site));
    writeFile(m.path(site + "/who.txt"), "site " + site + "\n");
  }
  ASSERT_TRUE(m.start()) << m.log();
  const int port = m.port("vhosts");
  struct Case {
    std::string host;
    std::string site;
  };
  std::vector<Case> cases = {
      {"a.example.com", "a"},       // exact
      {"A.Example.COM:8080", "a"},  // case and port ignored
      {"a.example.com.", "a"},      // trailing dot
      {"x.example.com", "b"},       // wildcard
      {"deep.x.example.com", "b"},  // wildcard, several labels
      {"example.com", "c"},         // "*.example.com" needs a label: default
      {"www.other.test", "c"},      // exact, second section listing two names
      {"other.test", "c"},
      {"unknown.org", "c"},  // default_server, although it is the last section
      {"127.0.0.1", "c"},
  };
  for (auto& c : cases) {
    Reply r =
        one(port, "GET /who.txt HTTP/1.1\r\nHost: " + c.host + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 200) << c.host;
    EXPECT_EQ(r.body, "site " + c.site + "\n") << c.host;
  }
  // HTTP/1.0 without Host goes to the default server; absolute-form overrides Host.
  EXPECT_EQ(one(port, "GET /who.txt HTTP/1.0\r\n\r\n").body, "site c\n");
  EXPECT_EQ(one(port,
                "GET http://a.example.com/who.txt HTTP/1.1\r\nHost: zz.example.com\r\n"
                "Connection: close\r\n\r\n")
                .body,
            "site a\n");
  // Each request on a keep-alive connection is routed on its own.
  RawClient client(port);
  EXPECT_EQ(client.exchange(get("/who.txt", "", "q.example.com")).body, "site b\n");
  EXPECT_EQ(client.exchange(get("/who.txt", "", "a.example.com")).body, "site a\n");
  EXPECT_EQ(client.exchange(get("/who.txt", "", "nowhere")).body, "site c\n");
  // With curl too.
  EXPECT_EQ(curl(port, "/who.txt", "-H 'Host: z.example.com'").body, "site b\n");
}

TEST_F(HttpProtocol, StatusEndpointServesMetrics) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(one(www, getClose("/one.txt")).status, 200);
  Reply prom = one(status, getClose("/metrics"));
  EXPECT_EQ(prom.status, 200);
  EXPECT_EQ(prom.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(prom.body.find("# TYPE manifold_http_requests_total counter\n"), std::string::npos);
  std::smatch match;
  std::regex line("\nmanifold_http_requests_total\\{service=\"http:www\"\\} ([0-9]+)\n");
  ASSERT_TRUE(std::regex_search(prom.body, match, line)) << prom.body;
  EXPECT_GE(std::stoll(match[1]), 3);
  EXPECT_TRUE(std::regex_search(
      prom.body, std::regex("\nmanifold_http_connections_open\\{service=\"http:dav\"\\} 0\n")))
      << prom.body;
  EXPECT_NE(prom.body.find("# TYPE manifold_http_connections_open gauge\n"), std::string::npos);
  EXPECT_NE(prom.body.find("\nmanifold_workers_ready 2\n"), std::string::npos) << prom.body;

  Reply json = one(status, getClose("/metrics.json"));
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.header("Content-Type"), "application/json");
  writeFile(instance->path("metrics.json"), json.body);
  int rc = -1;
  std::string checked =
      run("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
          "s={x[\"title\"]: x for x in d[\"services\"]}; "
          "print(len(d[\"workers\"]), s[\"http:www\"][\"protocol\"], "
          "s[\"http:www\"][\"counters\"][\"requests\"] >= 3, "
          "\"cache_hits\" in s[\"http:dav\"][\"counters\"], s[\"status:m\"][\"protocol\"])' " +
              instance->path("metrics.json"),
          &rc);
  EXPECT_EQ(rc, 0) << json.body;
  EXPECT_EQ(checked, "2 http True True status\n") << json.body;
  EXPECT_NE(json.body.find("\"title\":\"http:www\",\"protocol\":\"http\""), std::string::npos);
  EXPECT_GE(counter(status, "http:www", "requests"), 3);

  EXPECT_EQ(one(status, getClose("/")).status, 404);
  EXPECT_EQ(one(status, getClose("/metrics/x")).status, 404);
  EXPECT_EQ(one(status, getClose("/metrics.json?x=1")).status, 200);
  Reply post = one(status, "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  std::string head =
      rawExchange(status, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.size(), head.find("\r\n\r\n") + 4) << "HEAD /metrics has a body";
}
