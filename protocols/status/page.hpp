// The dashboard's three renderings of a Board (board.hpp). Pure functions: no shm, no I/O.
//
//   GET /               renderHtml: one self-contained page (style and script inline, no
//                       external resource) whose tables are filled on the server, so it reads
//                       the same without JavaScript; the script then polls /dashboard.json.
//   GET /dashboard.json renderJson: {"now":ms,"interval":ms,"tables":[{"id":..,"columns":
//                       [{"id":..,"rate":"none|ps|bps|pct|chart","watch":bool}],"rows":
//                       [{"key":..,"cls":..,"cells":[..],"totals":[..]}]}]}
//   GET /NAME.csv       renderCsv: one table, RFC 4180 (CRLF, quoted where needed), without
//                       the rate and chart columns; grouped tables lead with a "service" column.
#pragma once

#include <string>

#include "protocols/status/board.hpp"

namespace manifold::status {

void renderHtml(const Board& board, unsigned intervalMs, std::string& out);
void renderJson(const Board& board, unsigned intervalMs, std::string& out);
void renderCsv(const Table& table, std::string& out);

// The page's style and script (assets.cpp).
extern const char* const kDashboardCss;
extern const char* const kDashboardJs;

}  // namespace manifold::status
