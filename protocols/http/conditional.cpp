#include "protocols/http/conditional.hpp"

#include "protocols/http/date.hpp"

namespace manifold::http {

namespace {

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // with its quotes
};

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE at s[pos..]; advances pos past it.
bool parseEntityTag(std::string_view s, size_t& pos, EntityTag& tag) {
  tag.weak = false;
  if (s.substr(pos, 2) == "W/") {
    tag.weak = true;
    pos += 2;
  }
  if (pos >= s.size() || s[pos] != '"') return false;
  size_t start = pos++;
  while (pos < s.size() && s[pos] != '"') {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x21 || c == 0x7f) return false;  // etagc = %x21 / %x23-7E / obs-text
    ++pos;
  }
  if (pos >= s.size()) return false;
  ++pos;
  tag.opaque = s.substr(start, pos - start);
  return true;
}

bool parseOwnTag(std::string_view etag, EntityTag& tag) {
  size_t pos = 0;
  return parseEntityTag(etag, pos, tag) && pos == etag.size();
}

bool tagsMatch(const EntityTag& a, const EntityTag& b, bool strong) {
  if (strong && (a.weak || b.weak)) return false;
  return a.opaque == b.opaque;
}

// Calls fn(value) for the parsed field (if set) and every other line of header `name`, until
// fn returns true; returns whether it did. `present` tells whether there was any line at all.
template <typename Fn>
bool anyValue(const Request& req, std::string_view name, std::string_view field, bool& present,
              Fn fn) {
  present = false;
  if (!field.empty()) {
    present = true;
    if (fn(field)) return true;
  }
  for (size_t i = 0; i < req.headerCount; ++i) {
    const Header& h = req.headers[i];
    if (h.value.empty() || h.value.data() == field.data() || !equalsIgnoreCase(h.name, name))
      continue;
    present = true;
    if (fn(h.value)) return true;
  }
  return false;
}

void appendHex(std::string& out, uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[16];
  int n = 0;
  do {
    buf[n++] = kHex[v & 15];
    v >>= 4;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

}  // namespace

bool etagListMatches(std::string_view list, std::string_view etag, bool strong) {
  EntityTag own;
  bool haveOwn = parseOwnTag(etag, own);
  size_t pos = 0;
  while (pos < list.size()) {
    if (isOws(list[pos]) || list[pos] == ',') {
      ++pos;
      continue;
    }
    if (list[pos] == '*') {
      ++pos;
      if (!etag.empty()) return true;  // "*": any current representation
      continue;
    }
    EntityTag tag;
    if (!parseEntityTag(list, pos, tag)) return false;
    if (haveOwn && tagsMatch(tag, own, strong)) return true;
    while (pos < list.size() && isOws(list[pos])) ++pos;
    if (pos < list.size() && list[pos] != ',') return false;
  }
  return false;
}

Precondition evaluatePreconditions(const Request& req, std::string_view etag, time_t lastModified,
                                   time_t now) {
  bool present = false;
  // 1. If-Match (strong); 2. otherwise If-Unmodified-Since.
  bool matched = anyValue(req, "if-match", req.ifMatch, present,
                          [&](std::string_view v) { return etagListMatches(v, etag, true); });
  if (present) {
    if (!matched) return Precondition::Failed;
  } else if (!req.ifUnmodifiedSince.empty() && lastModified >= 0) {
    time_t since;
    if (parseHttpDate(req.ifUnmodifiedSince, since) && lastModified > since)
      return Precondition::Failed;
  }

  // 3. If-None-Match (weak); 4. otherwise If-Modified-Since, GET/HEAD only.
  matched = anyValue(req, "if-none-match", req.ifNoneMatch, present,
                     [&](std::string_view v) { return etagListMatches(v, etag, false); });
  if (present) {
    if (matched) return req.isHeadOrGet() ? Precondition::NotModified : Precondition::Failed;
  } else if (req.isHeadOrGet() && !req.ifModifiedSince.empty() && lastModified >= 0) {
    time_t since;
    if (parseHttpDate(req.ifModifiedSince, since) && (now < 0 || since <= now) &&
        lastModified <= since)
      return Precondition::NotModified;
  }
  return Precondition::Proceed;
}

bool ifRangeAllows(std::string_view ifRange, std::string_view etag, time_t lastModified) {
  if (ifRange.empty()) return false;
  if (ifRange[0] == '"' || ifRange.substr(0, 2) == "W/") {
    EntityTag theirs, own;
    size_t pos = 0;
    return parseEntityTag(ifRange, pos, theirs) && pos == ifRange.size() &&
           parseOwnTag(etag, own) && tagsMatch(theirs, own, true);
  }
  time_t date;
  return lastModified >= 0 && parseHttpDate(ifRange, date) && date == lastModified;
}

void makeEtag(uint64_t mtimeNs, uint64_t size, uint64_t ino, std::string& out) {
  const uint64_t sec = mtimeNs / 1000000000u, nsec = mtimeNs % 1000000000u;
  out.clear();
  out.push_back('"');
  appendHex(out, sec);
  out.push_back('-');
  appendHex(out, size);
  if (nsec != 0 || ino != 0) {
    uint64_t z = ino * 0x9e3779b97f4a7c15ULL ^ nsec;
    z = (z ^ (z >> 29)) * 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 32;
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('-');
    for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(z >> shift) & 15]);
  }
  out.push_back('"');
}

}  // namespace manifold::http
