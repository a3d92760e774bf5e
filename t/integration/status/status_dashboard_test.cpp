// Tier: end-to-end — the operator's dashboard of [status:NAME] (issue 20) in a real browser:
// Debian's headless Chromium, driven over the DevTools protocol by browser.py beside this file,
// loads the page from a running instance under load (wrk on HTTP, dnsperf on DNS), waits for the
// page's own polls, kills a worker and waits for the page to show its restart; the DOM is then
// checked and a screenshot kept in build/. Then the page with JavaScript off, the CSV tables,
// and the keys (off by default, its own allow list, bad values refused).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <regex>
#include <string>

#include "t/integration/lib/harness.hpp"
#include "t/integration/lib/http_client.hpp"

using namespace manifold::testing;

namespace {

constexpr const char* kScreenshot = "build/status-dashboard.png";

// HTTP with a health-checked DNS pool (one member up: the HTTP port; one down: nothing listens
// on 127.0.0.2), a proxy with a checked backend up (the HTTP port) and one down (nothing
// listens), a tracker and a TFTP server (their gauges), and the dashboard polling every second.
Instance& startInstance(Instance& m) {
  run("mkdir -p " + m.path("www"));
  writeFile(m.path("www/file"), std::string(2048, 'x'));
  writeFile(m.path("z.zone"),
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 127.0.0.1\nwww A 10.0.0.1\n");
  m.rewriteConfig(
      "[http:www]\nlisten = 127.0.0.1:{port:http}\nroot = {dir}/www\n\n"
      "[dns:main]\nlisten = 127.0.0.1:{port:dns}\nzones = z.test={dir}/z.zone\n"
      "pool.www.z.test = 127.0.0.1 127.0.0.2\n"
      "check.www.z.test = tcp:{port:http} interval=300ms timeout=1s rise=1 fall=3\n\n"
      "[proxy:front]\nlisten = 127.0.0.1:{port:proxy}\nbackend = 127.0.0.1:{port:http}\n"
      "backend = 127.0.0.1:{port:dead}\n"
      "health_check = GET /file interval=300ms timeout=1s rise=1 fall=3\n\n"
      "[tracker:swarm]\nlisten = 127.0.0.1:{port:tracker}\n\n"
      "[tftp:boot]\nlisten = 127.0.0.1:{port:tftp}\nroot = {dir}/www\n\n"
      "[status:s]\nlisten = 127.0.0.1:{port:status}\ndashboard = on\n"
      "dashboard_interval = 1s\n");
  return m;
}

std::string browser(const std::string& args, int* rc) {
  return run("BROWSER_LOG=/dev/null python3 t/integration/status/browser.py " + args + " 2>&1", rc);
}

// The <tr> of `key` in table `table` of a DOM dump ("" when absent).
std::string rowOf(const std::string& dom, const std::string& table, const std::string& key) {
  size_t t = dom.find("id=\"t-" + table + "\"");
  if (t == std::string::npos) return "";
  size_t at = dom.find("<tr data-key=\"" + key + "\"", t);
  if (at == std::string::npos) return "";
  return dom.substr(at, dom.find("</tr>", at) - at);
}

// The text of the cell of column `id` in a row.
std::string cell(const std::string& row, const std::string& id) {
  std::smatch m;
  if (!std::regex_search(row, m, std::regex("<td class=\"c-" + id + "[^\"]*\">([^<]*)</td>")))
    return "<none>";
  return m[1];
}

double leadingNumber(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

int countOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(StatusDashboard, LivePageUnderLoadShowsRatesHealthAndARestartedWorker) {
  Instance m("");
  ASSERT_TRUE(startInstance(m).start()) << m.log();
  const int http = m.port("http"), dns = m.port("dns"), status = m.port("status");
  writeFile(m.path("queries"), "www.z.test A\nz.test SOA\n");
  // Modest load (the machine is shared): the rates only have to be above zero.
  Background wrk("wrk -t1 -c2 -d90s http://127.0.0.1:" + std::to_string(http) + "/file",
                 m.path("wrk.out"));
  Background perf("dnsperf -s 127.0.0.1 -p " + std::to_string(dns) + " -d " + m.path("queries") +
                      " -l 90 -Q 1000 -c 2",
                  m.path("dnsperf.out"));
  const std::vector<pid_t> pids = m.workerPids();
  ASSERT_EQ(pids.size(), 2u);
  const pid_t victim = pids[0];

  // After two polls the test kills a worker; the page must then show a row with one restart,
  // ready again, and both services' req/s above zero.
  const std::string until =
      "[].some.call(document.querySelectorAll('#t-workers tr[data-key]'), function (r) {"
      " return r.cells[5].textContent === '1' && r.cells[4].textContent === 'ready'; }) &&"
      " ['http:www', 'dns:main'].every(function (k) {"
      " return [].some.call(document.querySelectorAll('#t-services tr[data-key]'), function (r) {"
      " return r.dataset.key === k && parseFloat(r.cells[1].textContent) > 0; }); })";
  const long long before = counter(status, "status:s", "requests");
  const auto started = Clock::now();
  int rc = -1;
  const std::string out = browser(
      "http://127.0.0.1:" + std::to_string(status) + "/ --polls 2 --then 'kill -9 " +
          std::to_string(victim) + "' --until \"" + until + "\" --hold 8 --timeout 60 --dom " +
          m.path("dom.html") + " --height 1000 --screenshot " + kScreenshot,
      &rc);
  const double seconds = secondsSince(started);
  const long long after = counter(status, "status:s", "requests");
  ASSERT_EQ(rc, 0) << out << m.log();
  const std::string dom = readFile(m.path("dom.html"));

  std::smatch polls;
  ASSERT_TRUE(std::regex_search(dom, polls, std::regex("data-polls=\"(\\d+)\""))) << dom;
  EXPECT_GE(std::stoi(polls[1]), 2);
  // Every service has its row, with a rate above zero where there is load.
  for (const char* key : {"http:www", "dns:main", "proxy:front", "status:s"})
    EXPECT_NE(rowOf(dom, "services", key), "") << key << "\n" << dom;
  const std::string web = rowOf(dom, "services", "http:www");
  const std::string names = rowOf(dom, "services", "dns:main");
  EXPECT_GT(leadingNumber(cell(web, "rps")), 0) << web;
  EXPECT_GT(leadingNumber(cell(web, "bps")), 0) << web;
  EXPECT_GT(leadingNumber(cell(names, "rps")), 0) << names;
  EXPECT_GT(std::stoll(cell(web, "requests")), 0) << web;
  EXPECT_NE(cell(web, "hits"), "-") << web;  // the file cache answered
  // The killed worker: its slot shows a new pid, one restart, ready, marked as having crashed.
  int restarted = 0;
  for (const char* slot : {"slot0", "slot1"}) {
    const std::string row = rowOf(dom, "workers", slot);
    ASSERT_NE(row, "") << dom;
    EXPECT_NE(cell(row, "pid"), std::to_string(victim)) << row;
    EXPECT_EQ(cell(row, "state"), "ready") << row;
    if (cell(row, "restarts") == "1") {
      ++restarted;
      EXPECT_NE(row.find("class=\"warn\""), std::string::npos) << row;
    }
  }
  EXPECT_EQ(restarted, 1) << dom;
  // Health: the pool's two members, one up and one down (in red).
  const std::string up = rowOf(dom, "health", "dns:main/127.0.0.1 tcp:" + std::to_string(http));
  const std::string down = rowOf(dom, "health", "dns:main/127.0.0.2 tcp:" + std::to_string(http));
  EXPECT_EQ(cell(up, "state"), "up") << dom;
  EXPECT_EQ(cell(down, "state"), "down") << dom;
  EXPECT_NE(down.find("class=\"bad\""), std::string::npos) << down;
  EXPECT_TRUE(std::regex_search(cell(up, "latency"), std::regex("^[0-9.]+ ms$"))) << up;
  EXPECT_NE(cell(up, "checked"), "-") << up;
  // The proxy's backends, in the same shape.
  const std::string backend = rowOf(dom, "health", "proxy:front/127.0.0.1:" + std::to_string(http));
  const std::string dead =
      rowOf(dom, "health", "proxy:front/127.0.0.1:" + std::to_string(m.port("dead")));
  EXPECT_EQ(cell(backend, "state"), "up") << dom;
  EXPECT_TRUE(std::regex_search(cell(backend, "latency"), std::regex("^[0-9.]+ ms$"))) << backend;
  EXPECT_NE(cell(backend, "checks"), "0") << backend;
  EXPECT_EQ(cell(dead, "state"), "down") << dom;
  EXPECT_NE(cell(dead, "changed"), "-") << dead;
  EXPECT_NE(dead.find("class=\"bad\""), std::string::npos) << dead;
  // The chart canvas of each service is there; the CPU column got a figure.
  EXPECT_NE(web.find("<canvas"), std::string::npos) << web;
  EXPECT_NE(cell(rowOf(dom, "workers", "slot0"), "cpu").find('%'), std::string::npos) << dom;

  // One request per interval per open page: the page itself, then a poll a second (two
  // readings of the counter and a possible fetch of the page when rows changed as slack).
  const long long spent = after - before;
  EXPECT_GE(spent, 3) << "the page did not poll";
  EXPECT_LE(spent, 1 + static_cast<long long>(seconds) + 3) << "in " << seconds << " s";

  // The screenshot kept for the record (README.md shows one from this test).
  const std::string png = readFile(kScreenshot);
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  wrk.wait(0);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(StatusDashboard, WithoutJavaScriptTheServerRenderedTablesAreComplete) {
  Instance m("");
  ASSERT_TRUE(startInstance(m).start()) << m.log();
  const int http = m.port("http"), status = m.port("status");
  ASSERT_EQ(curl(http, "/file").status, 200);
  int rc = -1;
  const std::string out = browser("http://127.0.0.1:" + std::to_string(status) +
                                      "/ --no-js --timeout 30 --dom " + m.path("dom.html"),
                                  &rc);
  ASSERT_EQ(rc, 0) << out;
  const std::string dom = readFile(m.path("dom.html"));
  EXPECT_NE(dom.find("data-polls=\"0\""), std::string::npos) << "the script ran";
  EXPECT_NE(dom.find("as read at page load"), std::string::npos);
  const std::string instance = rowOf(dom, "instance", "instance");
  EXPECT_EQ(cell(instance, "pid"), std::to_string(m.pid())) << instance;
  EXPECT_EQ(cell(instance, "generation"), "1") << instance;
  for (const char* slot : {"slot0", "slot1"})
    EXPECT_EQ(cell(rowOf(dom, "workers", slot), "state"), "ready") << dom;
  const std::string web = rowOf(dom, "services", "http:www");
  EXPECT_GE(std::stoll(cell(web, "requests")), 1) << web;
  EXPECT_EQ(cell(web, "rps"), "\u2026") << "rates need two readings: the script's";
  EXPECT_NE(rowOf(dom, "services", "dns:main"), "");
  // Tracker torrents and peers, TFTP sessions: the services' gauges, in "figures" and "open".
  const std::string tracker = rowOf(dom, "services", "tracker:swarm");
  EXPECT_NE(cell(tracker, "figures").find("torrents 0, peers 0"), std::string::npos) << tracker;
  const std::string tftp = rowOf(dom, "services", "tftp:boot");
  EXPECT_EQ(cell(tftp, "open"), "0") << tftp;
  EXPECT_EQ(cell(tftp, "figures"), "sessions_unverified 0") << tftp;
  EXPECT_NE(rowOf(dom, "health", "dns:main/127.0.0.1 tcp:" + std::to_string(http)), "") << dom;
  EXPECT_NE(dom.find("<tr data-key=\"stats#"), std::string::npos) << "regions: name#offset";
  // Counters collapse per service; each service has its block.
  for (const char* s : {"http:www", "dns:main", "status:s"})
    EXPECT_EQ(countOf(dom, "<details data-group=\"" + std::string(s) + "\">"), 1) << s;
  EXPECT_NE(dom.find("data-key=\"http:www/requests\""), std::string::npos);
  // Without JavaScript the page refreshes itself.
  EXPECT_NE(dom.find("http-equiv=\"refresh\""), std::string::npos);

  // Every table as CSV; the headers forbid loading anything from elsewhere.
  HttpResponse csv = curl(status, "/services.csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("Content-Type"), "text/csv; charset=utf-8; header=present");
  EXPECT_EQ(csv.body.rfind("service,open,cache hits,requests,errors,bytes,figures\r\n", 0), 0u)
      << csv.body;
  EXPECT_NE(csv.body.find("\r\nhttp:www,"), std::string::npos) << csv.body;
  for (const char* table : {"instance", "workers", "health", "regions", "counters"})
    EXPECT_EQ(curl(status, std::string("/") + table + ".csv").status, 200) << table;
  EXPECT_EQ(curl(status, "/nope.csv").status, 404);
  HttpResponse page = curl(status, "/");
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  HttpResponse json = curl(status, "/dashboard.json");
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.body.rfind("{\"now\":", 0), 0u);
  EXPECT_EQ(curl(status, "/dashboard.json", "-X POST").status, 405);
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(StatusDashboard, OffByDefaultWithItsOwnAllowListAndCheckedKeys) {
  Instance m(
      "[status:plain]\nlisten = 127.0.0.1:{port:plain}\n\n"
      "[status:hidden]\nlisten = 127.0.0.1:{port:hidden}\ndashboard = on\n"
      "dashboard_allow = 192.0.2.0/24\n\n"
      "[status:open]\nlisten = 127.0.0.1:{port:open}\nallow = 192.0.2.0/24\ndashboard = on\n"
      "dashboard_allow = 127.0.0.1\n",
      "", 1);
  ASSERT_TRUE(m.start()) << m.log();
  // Off unless asked for: / and the JSON do not exist; the metrics do.
  EXPECT_EQ(curl(m.port("plain"), "/").status, 404);
  EXPECT_EQ(curl(m.port("plain"), "/dashboard.json").status, 404);
  EXPECT_EQ(curl(m.port("plain"), "/workers.csv").status, 404);
  EXPECT_EQ(curl(m.port("plain"), "/metrics").status, 200);
  // dashboard_allow guards the page only; allow the metrics only.
  EXPECT_EQ(curl(m.port("hidden"), "/").status, 403);
  EXPECT_EQ(curl(m.port("hidden"), "/workers.csv").status, 403);
  EXPECT_EQ(curl(m.port("hidden"), "/metrics.json").status, 200);
  EXPECT_EQ(curl(m.port("open"), "/").status, 200);
  EXPECT_EQ(curl(m.port("open"), "/metrics.json").status, 403);
  EXPECT_EQ(m.stop(), 0) << m.log();

  for (const char* bad :
       {"dashboard = maybe", "dashboard_interval = 10ms", "dashboard_allow = 300.1.1.1"}) {
    m.rewriteConfig("[status:s]\nlisten = 127.0.0.1:{port:s}\n" + std::string(bad) + "\n");
    int rc = 0;
    const std::string out = run(binPath("manifold") + " -t -c " + m.configPath() + " 2>&1", &rc);
    EXPECT_NE(rc, 0) << bad;
    const std::string key = std::string(bad).substr(0, std::string(bad).find(' '));
    EXPECT_TRUE(std::regex_search(out, std::regex("manifold\\.ini:[0-9]+: " + key + ": ")))
        << bad << "\n"
        << out;
  }
}

TEST(StatusDashboard, ReloadsAndACrashLoopingWorkerShowInThePage) {
  const std::string services =
      "[status:s]\nlisten = 127.0.0.1:{port:status}\ndashboard = on\n\n"
      "[http:www]\nlisten = 127.0.0.1:{port:http}\nroot = {dir}\n";
  // One death is a crash loop here: the worker is left down at once.
  Instance m(services, "crash_loop_limit = 1", 2);
  ASSERT_TRUE(m.start()) << m.log();
  const int status = m.port("status");
  auto page = [&] { return curl(status, "/").body; };
  EXPECT_EQ(cell(rowOf(page(), "instance", "instance"), "last"), "none");

  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForGeneration(2)) << m.log();
  std::string row = rowOf(page(), "instance", "instance");
  EXPECT_EQ(cell(row, "generation"), "2") << row;
  EXPECT_EQ(cell(row, "reloads"), "1") << row;
  EXPECT_TRUE(std::regex_search(cell(row, "last"), std::regex("^\\d+s ago: applied$"))) << row;

  m.rewriteConfig(services + "bogus_key = 1\n", "crash_loop_limit = 1");
  m.signal(SIGHUP);
  ASSERT_TRUE(m.waitForLog("reload refused")) << m.log();
  row = rowOf(page(), "instance", "instance");
  EXPECT_EQ(cell(row, "failed"), "1") << row;
  EXPECT_TRUE(std::regex_search(cell(row, "last"), std::regex("^\\d+s ago: refused$"))) << row;
  EXPECT_NE(row.find("class=\"warn\""), std::string::npos) << row;

  std::vector<pid_t> pids = m.workerPids();
  for (int i = 0; i < 100 && pids.size() != 2; ++i, pids = m.workerPids()) sleepMs(100);
  ASSERT_EQ(pids.size(), 2u) << "generation 1 did not leave";
  kill(pids[0], SIGKILL);
  ASSERT_TRUE(m.waitForLog("is crash-looping")) << m.log();
  std::string html = page();
  int down = 0, ready = 0;
  for (size_t at = html.find("<tr data-key=\"slot"); at != std::string::npos;
       at = html.find("<tr data-key=\"slot", at + 1)) {
    const std::string r = html.substr(at, html.find("</tr>", at) - at);
    if (cell(r, "state") == "down (crash loop)") {
      ++down;
      EXPECT_NE(r.find("class=\"bad\""), std::string::npos) << r;
      EXPECT_EQ(cell(r, "generation"), "2") << r;
    }
    if (cell(r, "state") == "ready") ++ready;
  }
  EXPECT_EQ(down, 1) << html;
  EXPECT_EQ(ready, 1) << html;
  EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(StatusDashboard, FiftyServicesAndSixtyFourWorkersStayReadableAndPollingNeverReflows) {
  // 50 services (status sections are the cheapest) on 64 workers.
  std::string services =
      "[status:board]\nlisten = 127.0.0.1:{port:board}\ndashboard = on\n"
      "dashboard_interval = 500ms\n";
  for (int i = 1; i < 50; ++i)
    services += "\n[status:s" + std::to_string(i) + "]\nlisten = 127.0.0.1:{port:s" +
                std::to_string(i) + "}\n";
  Instance m(services, "", 64);
  ASSERT_TRUE(m.start(60000)) << m.log();
  const int board = m.port("board");
  // The page's layout (the box of every section, row and cell) after two polls is noted; after
  // each later poll it is compared (a MutationObserver on data-polls, which the script sets
  // last) and the outcome counted in data-moved / data-same, while the figures change (the
  // page's own requests are counted).
  const std::string layout =
      "[].map.call(document.querySelectorAll('section, tr, td, canvas'), function (e) {"
      " var r = e.getBoundingClientRect(); return [r.top, r.left, r.width, r.height].join(); })"
      ".join(';')";
  const std::string text = "document.getElementById('t-services').textContent";
  const std::string watch =
      "window.layout = function () { return " + layout + "; }; window.noted = [layout(), " + text +
      ", +document.body.dataset.polls]; new MutationObserver(function () {"
      " var b = document.body.dataset, moved = window.layout() !== window.noted[0];"
      " b[moved ? 'moved' : 'same'] = String(+(b[moved ? 'moved' : 'same'] || 0) + 1); })"
      ".observe(document.body, {attributes: true, attributeFilter: ['data-polls']})";
  int rc = -1;
  const std::string out =
      browser("http://127.0.0.1:" + std::to_string(board) + "/ --polls 2 --js \"" + watch +
                  "\" --until \"+document.body.dataset.polls >= window.noted[2] + 6 && " + text +
                  " !== window.noted[1]\" --timeout 60 --dom " + m.path("dom.html"),
              &rc);
  ASSERT_EQ(rc, 0) << out;
  const std::string dom = readFile(m.path("dom.html"));
  EXPECT_EQ(dom.find("data-moved="), std::string::npos) << "the layout moved while polling";
  std::smatch same;
  ASSERT_TRUE(std::regex_search(dom, same, std::regex("data-same=\"(\\d+)\""))) << dom;
  EXPECT_GE(std::stoi(same[1]), 6);
  EXPECT_EQ(countOf(dom, "<tr data-key=\"slot"), 64);
  const std::string table = dom.substr(dom.find("id=\"t-services\""));
  EXPECT_EQ(countOf(table.substr(0, table.find("</table>")), "<tr data-key=\"status:"), 50);
  // Counters collapse per service: 50 closed blocks.
  EXPECT_EQ(countOf(dom, "<details data-group=\"status:"), 50);
  EXPECT_EQ(countOf(dom, "<details open"), 0);
  EXPECT_EQ(m.stop(30000), 0) << m.log();
}

TEST(StatusDashboard, AReloadReshapesTheOpenPageAndKeepsOpenGroups) {
  Instance m(
      "[status:s]\nlisten = 127.0.0.1:{port:status}\ndashboard = on\ndashboard_interval = 500ms\n",
      "", 2);
  ASSERT_TRUE(m.start()) << m.log();
  // A new generation takes other worker slots: the page must fetch its tables again (the rows
  // changed), keep the counters group the operator opened, and go on polling.
  const std::string workers = "document.querySelectorAll('#t-workers tr[data-key]')";
  const std::string until =
      "document.querySelector('details').open && " + workers + ".length === 2 && [].every.call(" +
      workers + ", function (r) { return r.cells[3].textContent === '2' && " +
      "window.before.indexOf(r.dataset.key) < 0; }) && +document.body.dataset.polls >= " +
      "window.polls + 2";
  int rc = -1;
  const std::string out = browser(
      "http://127.0.0.1:" + std::to_string(m.port("status")) +
          "/ --polls 2 --js \"document.querySelector('details').open = true; window.before = " +
          "[].map.call(" + workers + ", function (r) { return r.dataset.key; }); " +
          "window.polls = +document.body.dataset.polls\" --then 'kill -HUP " +
          std::to_string(m.pid()) + "' --until \"" + until + "\" --timeout 60 --dom " +
          m.path("dom.html"),
      &rc);
  ASSERT_EQ(rc, 0) << out << m.log();
  const std::string dom = readFile(m.path("dom.html"));
  EXPECT_EQ(cell(rowOf(dom, "instance", "instance"), "generation"), "2") << dom;
  EXPECT_NE(dom.find("<details data-group=\"status:s\" open"), std::string::npos) << dom;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
