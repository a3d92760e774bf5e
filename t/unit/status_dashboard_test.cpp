// The dashboard's pure pieces: /proc/PID/stat parsing, and the HTML, JSON and CSV renderings of
// a hand-built Board (escaping, row keys, rate columns left for the script, CSV quoting).
#include <gtest/gtest.h>

#include <string>

#include "protocols/status/board.hpp"
#include "protocols/status/page.hpp"

namespace {

using namespace manifold::status;

TEST(StatusProcStat, ReadsCpuAndRssAfterTheLastParenthesis) {
  ProcStat s;
  ASSERT_TRUE(parseProcStat(
      "25910 (manifold) S 1 25910 1 34816 25910 4194560 1161 0 0 0 12 7 0 0 20 0 1 0 5290123 "
      "20340736 1130 18446744073709551615 1 1 0\n",
      s));
  EXPECT_EQ(s.cpuTicks, 19u);
  EXPECT_EQ(s.rssPages, 1130u);
  // A command name with spaces and parentheses does not shift the fields.
  ASSERT_TRUE(parseProcStat("7 (a b) c)) R 1 2 3 4 5 6 7 8 9 10 100 200 0 0 20 0 1 0 5 6 77", s));
  EXPECT_EQ(s.cpuTicks, 300u);
  EXPECT_EQ(s.rssPages, 77u);
}

TEST(StatusProcStat, RefusesWhatIsNotAStatLine) {
  ProcStat s;
  EXPECT_FALSE(parseProcStat("", s));
  EXPECT_FALSE(parseProcStat("no parenthesis 1 2 3", s));
  EXPECT_FALSE(parseProcStat("1 (x) S 1 2 3", s));  // too short
  EXPECT_FALSE(parseProcStat("1 (x) S 1 2 3 4 5 6 7 8 9 10 x 2 0 0 20 0 1 0 5 6 7", s));  // utime
}

Board sample() {
  Board b;
  b.instance = "demo<1>";
  b.nowMs = 1000;
  Table t{"services",
          "Services",
          {{"service", "service"},
           {"rps", "req/s", true, Rate::PerSecond},
           {"chart", "chart", false, Rate::Chart},
           {"note", "note, \"quoted\""}},
          {}};
  Row r;
  r.key = "http:<www>";
  r.cls = "bad";
  r.cells = {"http:<www>", "", "", "a,b \"c\""};
  r.totals = {0, 42, 0, 0};
  t.rows.push_back(r);
  b.tables.push_back(t);
  Table g{"counters", "Counters", {{"counter", "counter"}, {"value", "value", true}}, {}, true};
  for (const char* group : {"a:x", "a:x", "b:y"}) {
    Row c;
    c.key = std::string(group) + "/n";
    c.group = group;
    c.cells = {"n", "1"};
    c.totals = {0, 0};
    g.rows.push_back(c);
  }
  b.tables.push_back(g);
  return b;
}

TEST(StatusDashboardPage, HtmlEscapesAndLeavesRatesToTheScript) {
  std::string html;
  renderHtml(sample(), 1500, html);
  EXPECT_NE(html.find("<title>Manifold: demo&lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<body data-interval=\"1500\""), std::string::npos);
  EXPECT_NE(html.find("<table id=\"t-services\">"), std::string::npos);
  EXPECT_NE(html.find("<tr data-key=\"http:&lt;www&gt;\" class=\"bad\">"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"c-rps n\">&#8230;</td>"), std::string::npos);
  EXPECT_NE(html.find("<canvas width=\"180\" height=\"22\"></canvas>"), std::string::npos);
  EXPECT_NE(html.find("a,b &quot;c&quot;"), std::string::npos);
  EXPECT_NE(html.find("href=\"services.csv\""), std::string::npos);
  // Grouped: one <details> per run of rows of one group.
  EXPECT_NE(html.find("<details data-group=\"a:x\"><summary>a:x <span>2</span>"),
            std::string::npos);
  EXPECT_NE(html.find("<details data-group=\"b:y\"><summary>b:y <span>1</span>"),
            std::string::npos);
  // Self-contained: nothing is loaded from elsewhere.
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(StatusDashboardPage, JsonCarriesKeysCellsAndTotals) {
  std::string json;
  renderJson(sample(), 1500, json);
  EXPECT_EQ(json.rfind("{\"now\":1000,\"interval\":1500,\"tables\":[{\"id\":\"services\",", 0), 0u)
      << json;
  EXPECT_NE(json.find("{\"id\":\"rps\",\"rate\":\"ps\",\"watch\":false}"), std::string::npos);
  EXPECT_NE(json.find("{\"key\":\"http:<www>\",\"cls\":\"bad\",\"cells\":[\"http:<www>\",\"\",\"\","
                      "\"a,b \\\"c\\\"\"],\"totals\":[0,42,0,0]}"),
            std::string::npos)
      << json;
  // A table without rate columns sends no totals.
  EXPECT_NE(json.find("{\"key\":\"a:x/n\",\"cls\":\"\",\"cells\":[\"n\",\"1\"]}"),
            std::string::npos)
      << json;
}

TEST(StatusDashboardPage, CsvQuotesAndDropsRateColumns) {
  Board b = sample();
  std::string csv;
  renderCsv(b.tables[0], csv);
  EXPECT_EQ(csv, "service,\"note, \"\"quoted\"\"\"\r\nhttp:<www>,\"a,b \"\"c\"\"\"\r\n");
  csv.clear();
  renderCsv(b.tables[1], csv);
  EXPECT_EQ(csv, "service,counter,value\r\na:x,n,1\r\na:x,n,1\r\nb:y,n,1\r\n");
  EXPECT_EQ(b.find("counters"), &b.tables[1]);
  EXPECT_EQ(b.find("nope"), nullptr);
}

}  // namespace
