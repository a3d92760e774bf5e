#include "protocols/http/accept_encoding.hpp"

#include "protocols/http/request.hpp"

namespace manifold::http {

namespace {

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths or -1.
int qvalue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int whole = v[0] - '0';
  if (v.size() == 1) return whole * 1000;
  if (v[1] != '.' || v.size() > 5) return -1;
  int frac = 0, scale = 100;
  for (size_t i = 2; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') return -1;
    frac += (v[i] - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && frac != 0) return -1;
  return whole * 1000 + frac;
}

}  // namespace

int parseQvalue(std::string_view params) {
  // params: *( OWS ";" OWS name "=" value ); only q matters.
  int q = 1000;
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view p = trimOws(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.empty()) continue;
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;  // a bare parameter: nothing we know
    if (!equalsIgnoreCase(trimOws(p.substr(0, eq)), "q")) continue;
    q = qvalue(trimOws(p.substr(eq + 1)));
  }
  return q;
}

bool acceptsGzip(std::string_view ae) {
  int gzipQ = -2, starQ = -2;  // -2: not listed
  while (!ae.empty()) {
    size_t comma = ae.find(',');
    std::string_view member = ae.substr(0, comma);
    ae = comma == std::string_view::npos ? std::string_view() : ae.substr(comma + 1);
    size_t semi = member.find(';');
    std::string_view coding = trimOws(member.substr(0, semi));
    if (coding.empty()) continue;
    int q = semi == std::string_view::npos ? 1000 : parseQvalue(member.substr(semi + 1));
    if (q < 0) q = 0;
    // Several mentions: the most favourable wins.
    if (equalsIgnoreCase(coding, "gzip") || equalsIgnoreCase(coding, "x-gzip")) {
      if (q > gzipQ) gzipQ = q;
    } else if (coding == "*") {
      if (q > starQ) starQ = q;
    }
  }
  if (gzipQ != -2) return gzipQ > 0;
  return starQ > 0;
}

}  // namespace manifold::http
