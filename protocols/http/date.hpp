// HTTP-date (RFC 9110 5.6.7): formatting IMF-fixdate, parsing all three historic forms.
#pragma once

#include <ctime>
#include <string_view>

namespace manifold::http {

constexpr size_t kHttpDateLength = 29;

// Writes exactly 29 chars, "Sun, 06 Nov 1994 08:49:37 GMT", no NUL. Locale-independent
// (gmtime_r and tables, no strftime). Times outside years 0001-9999 are clamped.
void formatHttpDate(time_t t, char out[29]);

// Accepts, with exact spacing (day and month names case-insensitive):
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"   (yy < 70 is 20yy, else 19yy)
//   asctime      "Sun Nov  6 08:49:37 1994"         (day as " 6" or "06")
// The weekday must be a weekday name but is not checked against the date. Fields are range
// checked (Feb 30 fails; a leap second :60 counts as :59). Returns false and leaves `out`
// alone on anything else, including trailing bytes.
bool parseHttpDate(std::string_view s, time_t& out);

}  // namespace manifold::http
