#include "protocols/http/date.hpp"

#include <cstdint>

#include "protocols/http/request.hpp"

namespace manifold::http {

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr int64_t kMinTime = -62135596800LL;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTime = 253402300799LL;  // 9999-12-31T23:59:59Z

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int y, int m) {
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDaysIn[m - 1];
}

inline void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Reads exactly `n` digits at s[pos..], advancing pos.
bool digitsAt(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool literalAt(std::string_view s, size_t& pos, std::string_view lit) {
  if (s.substr(pos, lit.size()) != lit) return false;
  pos += lit.size();
  return true;
}

bool monthAt(std::string_view s, size_t& pos, int& month) {
  if (pos + 3 > s.size()) return false;
  for (int m = 0; m < 12; ++m) {
    if (equalsIgnoreCase(s.substr(pos, 3), kMonths[m])) {
      month = m + 1;
      pos += 3;
      return true;
    }
  }
  return false;
}

// "hh:mm:ss"
bool timeAt(std::string_view s, size_t& pos, int& h, int& mi, int& sec) {
  return digitsAt(s, pos, 2, h) && literalAt(s, pos, ":") && digitsAt(s, pos, 2, mi) &&
         literalAt(s, pos, ":") && digitsAt(s, pos, 2, sec);
}

}  // namespace

void formatHttpDate(time_t t, char out[29]) {
  int64_t v = static_cast<int64_t>(t);
  if (v < kMinTime) v = kMinTime;
  if (v > kMaxTime) v = kMaxTime;
  time_t clamped = static_cast<time_t>(v);
  struct tm tm;
  if (gmtime_r(&clamped, &tm) == nullptr) {  // cannot happen in range; keep output defined
    clamped = 0;
    gmtime_r(&clamped, &tm);
  }
  const char* day = kDays[tm.tm_wday];
  const char* mon = kMonths[tm.tm_mon];
  int year = tm.tm_year + 1900;
  out[0] = day[0];
  out[1] = day[1];
  out[2] = day[2];
  out[3] = ',';
  out[4] = ' ';
  put2(out + 5, tm.tm_mday);
  out[7] = ' ';
  out[8] = mon[0];
  out[9] = mon[1];
  out[10] = mon[2];
  out[11] = ' ';
  put2(out + 12, year / 100);
  put2(out + 14, year % 100);
  out[16] = ' ';
  put2(out + 17, tm.tm_hour);
  out[19] = ':';
  put2(out + 20, tm.tm_min);
  out[22] = ':';
  put2(out + 23, tm.tm_sec);
  out[25] = ' ';
  out[26] = 'G';
  out[27] = 'M';
  out[28] = 'T';
}

bool parseHttpDate(std::string_view s, time_t& out) {
  size_t pos = 0;
  while (pos < s.size() && ((s[pos] >= 'a' && s[pos] <= 'z') || (s[pos] >= 'A' && s[pos] <= 'Z')))
    ++pos;
  std::string_view dayName = s.substr(0, pos);
  bool shortName = false, longName = false;
  for (int d = 0; d < 7; ++d) {
    shortName = shortName || equalsIgnoreCase(dayName, kDays[d]);
    longName = longName || equalsIgnoreCase(dayName, kLongDays[d]);
  }
  if (!shortName && !longName) return false;

  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (literalAt(s, pos, ", ")) {
    if (!digitsAt(s, pos, 2, day)) return false;
    if (shortName && literalAt(s, pos, " ")) {  // IMF-fixdate
      if (!monthAt(s, pos, month) || !literalAt(s, pos, " ") || !digitsAt(s, pos, 4, year) ||
          !literalAt(s, pos, " ") || !timeAt(s, pos, hour, minute, second) ||
          !literalAt(s, pos, " GMT"))
        return false;
    } else if (longName && literalAt(s, pos, "-")) {  // RFC 850
      if (!monthAt(s, pos, month) || !literalAt(s, pos, "-") || !digitsAt(s, pos, 2, year) ||
          !literalAt(s, pos, " ") || !timeAt(s, pos, hour, minute, second) ||
          !literalAt(s, pos, " GMT"))
        return false;
      year += year < 70 ? 2000 : 1900;
    } else {
      return false;
    }
  } else if (shortName && literalAt(s, pos, " ")) {  // asctime
    if (!monthAt(s, pos, month) || !literalAt(s, pos, " ")) return false;
    if (pos < s.size() && s[pos] == ' ') {
      ++pos;
      if (!digitsAt(s, pos, 1, day)) return false;
    } else if (!digitsAt(s, pos, 2, day)) {
      return false;
    }
    if (!literalAt(s, pos, " ") || !timeAt(s, pos, hour, minute, second) ||
        !literalAt(s, pos, " ") || !digitsAt(s, pos, 4, year))
      return false;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  if (year < 1 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 ||
      second > 60)
    return false;
  if (second == 60) second = 59;
  int64_t t =
      daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second;
  if constexpr (sizeof(time_t) < 8) {
    if (t > INT32_MAX || t < INT32_MIN) return false;
  }
  out = static_cast<time_t>(t);
  return true;
}

}  // namespace manifold::http
