#include "protocols/status/page.hpp"

#include "protocols/http/path.hpp"
#include "protocols/status/metrics.hpp"

namespace manifold::status {

namespace {

const char* rateName(Rate rate) {
  switch (rate) {
    case Rate::PerSecond:
      return "ps";
    case Rate::BytesPerSecond:
      return "bps";
    case Rate::Percent:
      return "pct";
    case Rate::Chart:
      return "chart";
    case Rate::None:
      break;
  }
  return "none";
}

std::string escaped(std::string_view text) { return http::htmlEscape(text); }

void appendHead(const Table& t, std::string& out) {
  out += "<thead><tr>";
  for (const Column& c : t.columns)
    out += std::string("<th class=\"c-") + c.id + (c.numeric ? " n" : "") + "\">" +
           escaped(c.title) + "</th>";
  out += "</tr></thead>";
}

void appendRow(const Table& t, const Row& r, std::string& out) {
  out += "<tr data-key=\"" + escaped(r.key) + "\"" +
         (r.cls.empty() ? "" : " class=\"" + escaped(r.cls) + "\"") + ">";
  for (size_t c = 0; c < t.columns.size() && c < r.cells.size(); ++c) {
    const Column& col = t.columns[c];
    out += std::string("<td class=\"c-") + col.id + (col.numeric ? " n" : "") + "\">";
    if (col.rate == Rate::Chart)
      out += "<canvas width=\"180\" height=\"22\"></canvas>";
    else if (col.rate != Rate::None && r.cells[c].empty())
      out += "&#8230;";  // needs two readings: the script fills it
    else
      out += escaped(r.cells[c]);
    out += "</td>";
  }
  out += "</tr>";
}

void appendTable(const Table& t, std::string& out) {
  out += "<section id=\"s-" + t.id + "\"><h2>" + escaped(t.title) + " <a class=\"csv\" href=\"" +
         t.id + ".csv\">CSV</a></h2>";
  if (!t.grouped) {
    out += "<table id=\"t-" + t.id + "\">";
    appendHead(t, out);
    out += "<tbody>";
    for (const Row& r : t.rows) appendRow(t, r, out);
    out += "</tbody></table></section>";
    return;
  }
  // One collapsible block per group (a service's counters), closed at first.
  out += "<div id=\"t-" + t.id + "\">";
  for (size_t i = 0; i < t.rows.size();) {
    size_t end = i;
    while (end < t.rows.size() && t.rows[end].group == t.rows[i].group) ++end;
    out += "<details data-group=\"" + escaped(t.rows[i].group) + "\"><summary>" +
           escaped(t.rows[i].group) + " <span>" + std::to_string(end - i) +
           "</span></summary><table>";
    appendHead(t, out);
    out += "<tbody>";
    for (; i < end; ++i) appendRow(t, t.rows[i], out);
    out += "</tbody></table></details>";
  }
  out += "</div></section>";
}

void appendCsvField(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(text);
    return;
  }
  out.push_back('"');
  for (char ch : text) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
}

}  // namespace

void renderHtml(const Board& board, unsigned intervalMs, std::string& out) {
  const std::string name = escaped(board.instance);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>Manifold: " +
      name + "</title><style>";
  out += kDashboardCss;
  // Without the script the page still refreshes itself; charts need it, so they go away.
  out += "</style><noscript><meta http-equiv=\"refresh\" content=\"" +
         std::to_string((intervalMs + 999) / 1000 * 5) +
         "\"><style>.c-chart{display:none}</style></noscript></head>\n<body data-interval=\"" +
         std::to_string(intervalMs) + "\" data-now=\"" + std::to_string(board.nowMs) +
         "\" data-polls=\"0\"><header><h1>Manifold <span>" + name +
         "</span></h1><p id=\"live\">as read at page load</p></header><main>";
  for (const Table& t : board.tables) appendTable(t, out);
  out += "</main><script>";
  out += kDashboardJs;
  out += "</script></body></html>\n";
}

void renderJson(const Board& board, unsigned intervalMs, std::string& out) {
  out += "{\"now\":" + std::to_string(board.nowMs) + ",\"interval\":" + std::to_string(intervalMs) +
         ",\"tables\":[";
  for (size_t t = 0; t < board.tables.size(); ++t) {
    const Table& table = board.tables[t];
    out += t ? ",{\"id\":" : "{\"id\":";
    appendJsonString(out, table.id);
    out += ",\"columns\":[";
    bool rates = false;
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const Column& col = table.columns[c];
      rates = rates || col.rate != Rate::None;
      out += c ? ",{\"id\":" : "{\"id\":";
      appendJsonString(out, col.id);
      out += std::string(",\"rate\":\"") + rateName(col.rate) +
             "\",\"watch\":" + (col.watch ? "true}" : "false}");
    }
    out += "],\"rows\":[";
    for (size_t r = 0; r < table.rows.size(); ++r) {
      const Row& row = table.rows[r];
      out += r ? ",{\"key\":" : "{\"key\":";
      appendJsonString(out, row.key);
      out += ",\"cls\":";
      appendJsonString(out, row.cls);
      out += ",\"cells\":[";
      for (size_t c = 0; c < row.cells.size(); ++c) {
        if (c) out.push_back(',');
        appendJsonString(out, row.cells[c]);
      }
      out += "]";
      if (rates) {
        out += ",\"totals\":[";
        for (size_t c = 0; c < row.totals.size(); ++c)
          out += (c ? "," : "") + std::to_string(row.totals[c]);
        out += "]";
      }
      out += "}";
    }
    out += "]}";
  }
  out += "]}\n";
}

void renderCsv(const Table& table, std::string& out) {
  std::vector<size_t> shown;
  for (size_t c = 0; c < table.columns.size(); ++c)
    if (table.columns[c].rate == Rate::None) shown.push_back(c);
  if (table.grouped) out += "service,";
  for (size_t i = 0; i < shown.size(); ++i) {
    if (i) out.push_back(',');
    appendCsvField(out, table.columns[shown[i]].title);
  }
  out += "\r\n";
  for (const Row& row : table.rows) {
    if (table.grouped) {
      appendCsvField(out, row.group);
      out.push_back(',');
    }
    for (size_t i = 0; i < shown.size(); ++i) {
      if (i) out.push_back(',');
      if (shown[i] < row.cells.size()) appendCsvField(out, row.cells[shown[i]]);
    }
    out += "\r\n";
  }
}

}  // namespace manifold::status
