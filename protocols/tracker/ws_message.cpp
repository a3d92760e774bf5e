#include "protocols/tracker/ws_message.hpp"

#include <cctype>
#include <charconv>
#include <cstring>

namespace manifold::tracker::ws {

namespace {

constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
// Whether any byte of w is '"', '\\' or below 0x20 (bytes >= 0x80 never count).
bool hasSpecial(uint64_t w) {
  auto zeroByte = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  return zeroByte(w ^ (kOnes * '"')) | zeroByte(w ^ (kOnes * '\\')) |
         ((w - kOnes * 0x20) & ~w & kHighs);
}

// Recursive descent over one JSON text, validating as it goes; nothing is copied.
class Json {
 public:
  explicit Json(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  void space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool eat(char c) {
    space();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool atEnd() {
    space();
    return p_ == end_;
  }
  char peek() {
    space();
    return p_ < end_ ? *p_ : '\0';
  }

  // A string; `raw` gets its contents between the quotes, escapes undecoded.
  bool string(std::string_view& raw) {
    if (!eat('"')) return false;
    const char* start = p_;
    while (p_ < end_) {
      // Eight bytes at a time while none is a quote, a backslash or a control character (SDP
      // texts are long and plain).
      if (end_ - p_ >= 8) {
        uint64_t w;
        std::memcpy(&w, p_, 8);
        if (!hasSpecial(w)) {
          p_ += 8;
          continue;
        }
      }
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        raw = std::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++p_ == end_) return false;
        if (*p_ == 'u') {
          if (end_ - p_ < 5) return false;
          for (int i = 1; i <= 4; ++i)
            if (!std::isxdigit(static_cast<unsigned char>(p_[i]))) return false;
          p_ += 4;
        } else if (!std::strchr("\"\\/bfnrt", *p_) || *p_ == '\0') {
          return false;
        }
      }
      ++p_;
    }
    return false;
  }

  bool number(double& v) {
    space();
    const char* s = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !std::isdigit(static_cast<unsigned char>(*p_))) return false;
    if (*p_ == '0')
      ++p_;
    else
      while (p_ < end_ && std::isdigit(static_cast<unsigned char>(*p_))) ++p_;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !std::isdigit(static_cast<unsigned char>(*p_))) return false;
      while (p_ < end_ && std::isdigit(static_cast<unsigned char>(*p_))) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !std::isdigit(static_cast<unsigned char>(*p_))) return false;
      while (p_ < end_ && std::isdigit(static_cast<unsigned char>(*p_))) ++p_;
    }
    return std::from_chars(s, p_, v).ec == std::errc();
  }

  bool literal(std::string_view word) {
    space();
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  // Any value; `raw` gets its text.
  bool value(unsigned depth, std::string_view* raw = nullptr) {
    if (depth > kMaxDepth) return false;
    space();
    const char* start = p_;
    bool ok;
    switch (peek()) {
      case '"': {
        std::string_view s;
        ok = string(s);
        break;
      }
      case '{':
        ok = members(depth + 1, [&](std::string_view) { return value(depth + 1); });
        break;
      case '[':
        ok = elements(depth + 1, [&] { return value(depth + 1); });
        break;
      case 't':
        ok = literal("true");
        break;
      case 'f':
        ok = literal("false");
        break;
      case 'n':
        ok = literal("null");
        break;
      default: {
        double d;
        ok = number(d);
      }
    }
    if (ok && raw) *raw = std::string_view(start, static_cast<size_t>(p_ - start));
    return ok;
  }

  // An object: fn(key) reads each member's value.
  template <class Fn>
  bool members(unsigned depth, Fn&& fn) {
    if (depth > kMaxDepth || !eat('{')) return false;
    if (eat('}')) return true;
    do {
      std::string_view key;
      if (!string(key) || !eat(':') || !fn(key)) return false;
    } while (eat(','));
    return eat('}');
  }

  template <class Fn>
  bool elements(unsigned depth, Fn&& fn) {
    if (depth > kMaxDepth || !eat('[')) return false;
    if (eat(']')) return true;
    do {
      if (!fn()) return false;
    } while (eat(','));
    return eat(']');
  }

 private:
  const char* p_;
  const char* end_;
};

// Decodes a string's raw contents as a 20-byte id: each character U+0000..U+00FF is one byte.
bool decodeId(std::string_view raw, uint8_t* out) {
  size_t n = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned code;
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c == '\\') {
      const char e = raw[++i];  // string() checked that an escape is complete
      if (e == 'u') {
        unsigned v = 0;
        std::from_chars(raw.data() + i + 1, raw.data() + i + 5, v, 16);
        code = v;
        i += 4;
      } else {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        code = static_cast<unsigned char>(to[std::strchr(from, e) - from]);
      }
    } else if (c < 0x80) {
      code = c;
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < raw.size() &&
               (static_cast<unsigned char>(raw[i + 1]) & 0xC0) == 0x80) {
      code = ((c & 0x1F) << 6) | (static_cast<unsigned char>(raw[++i]) & 0x3F);
    } else {
      return false;
    }
    if (code > 0xFF || n == kIdBytes) return false;
    out[n++] = static_cast<uint8_t>(code);
  }
  return n == kIdBytes;
}

bool readId(Json& j, uint8_t* out) {
  std::string_view raw;
  return j.string(raw) && decodeId(raw, out);
}

bool readInt(Json& j, int64_t& out) {
  double d;
  if (!j.number(d)) return false;
  out = d < 0 ? 0 : d > 1e15 ? static_cast<int64_t>(1e15) : static_cast<int64_t>(d);
  return true;
}

bool readObject(Json& j, std::string_view& raw) { return j.peek() == '{' && j.value(1, &raw); }

}  // namespace

const char* parseRequest(std::string_view json, Request& out) {
  Json j(json);
  const char* why = nullptr;
  bool sawAction = false;
  auto bad = [&](const char* reason) {
    if (!why) why = reason;
    return false;
  };
  auto member = [&](std::string_view key) -> bool {
    if (key == "action") {
      std::string_view a;
      if (!j.string(a)) return bad("invalid action");
      if (a == "announce")
        out.action = Action::Announce;
      else if (a == "scrape")
        out.action = Action::Scrape;
      else
        return bad("unknown action");
      sawAction = true;
      return true;
    }
    if (key == "info_hash") {
      if (j.peek() == '[') {
        return j.elements(1, [&] {
          if (out.scrapeCount == kMaxScrapeHashes) return bad("too many info hashes");
          return readId(j, out.scrapeHashes[out.scrapeCount++]) || bad("invalid info_hash");
        }) || bad("invalid info_hash");
      }
      if (!readId(j, out.infoHash)) return bad("invalid info_hash");
      out.hasInfoHash = true;
      return true;
    }
    if (key == "peer_id") return (out.hasPeerId = readId(j, out.peerId)) || bad("invalid peer_id");
    if (key == "to_peer_id")
      return (out.hasToPeerId = readId(j, out.toPeerId)) || bad("invalid to_peer_id");
    if (key == "offer_id")
      return (out.hasOfferId = readId(j, out.offerId)) || bad("invalid offer_id");
    if (key == "numwant") return readInt(j, out.numWant) || bad("invalid numwant");
    if (key == "left") {
      if (j.literal("null")) return true;
      return readInt(j, out.left) || bad("invalid left");
    }
    if (key == "event") {
      std::string_view e;
      if (!j.string(e)) return bad("invalid event");
      out.event = e == "started"     ? Event::Started
                  : e == "stopped"   ? Event::Stopped
                  : e == "completed" ? Event::Completed
                                     : Event::None;
      return true;
    }
    if (key == "answer") return readObject(j, out.answer) || bad("invalid answer");
    if (key == "offers") {
      return j.elements(1, [&] {
        Offer o{};
        bool hasId = false, hasOffer = false;
        bool ok = j.members(2, [&](std::string_view k) {
          if (k == "offer_id") return hasId = readId(j, o.offerId);
          if (k == "offer") return hasOffer = readObject(j, o.offer);
          return j.value(3);
        });
        if (!ok || !hasId || !hasOffer) return false;
        if (out.offerCount < kMaxOffersParsed) out.offers[out.offerCount++] = o;
        return true;
      }) || bad("invalid offers");
    }
    return j.value(1) || bad("invalid JSON");
  };
  if (!j.members(0, member) || !j.atEnd()) return why ? why : "invalid JSON";
  if (!sawAction) return "missing action";
  if (out.action == Action::Scrape) {
    if (out.hasInfoHash && out.scrapeCount == 0) {
      std::memcpy(out.scrapeHashes[0], out.infoHash, kIdBytes);
      out.scrapeCount = 1;
    }
    return nullptr;
  }
  if (!out.hasInfoHash) return "missing info_hash";
  if (!out.hasPeerId) return "missing peer_id";
  if (!out.answer.empty() && (!out.hasToPeerId || !out.hasOfferId))
    return "answer without to_peer_id or offer_id";
  return nullptr;
}

void appendId(std::string& out, const uint8_t* id) {
  static const char hex[] = "0123456789abcdef";
  char buf[2 + kIdBytes * 6];  // each byte takes at most 6 characters (\u00XX)
  size_t n = 0;
  buf[n++] = '"';
  for (size_t i = 0; i < kIdBytes; ++i) {
    const uint8_t b = id[i];
    if (b == '"' || b == '\\') {
      buf[n++] = '\\';
      buf[n++] = static_cast<char>(b);
    } else if (b < 0x20) {
      std::memcpy(buf + n, "\\u00", 4);
      buf[n + 4] = hex[b >> 4];
      buf[n + 5] = hex[b & 15];
      n += 6;
    } else if (b < 0x80) {
      buf[n++] = static_cast<char>(b);
    } else {
      buf[n++] = static_cast<char>(0xC0 | (b >> 6));
      buf[n++] = static_cast<char>(0x80 | (b & 0x3F));
    }
  }
  buf[n++] = '"';
  out.append(buf, n);
}

namespace {
void appendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
// `prefix` (the key with its punctuation) then the value.
void appendKey(std::string& out, std::string_view prefix, uint64_t v) {
  out += prefix;
  appendUint(out, v);
}
void appendKey(std::string& out, std::string_view prefix, const uint8_t* id) {
  out += prefix;
  appendId(out, id);
}
}  // namespace

void appendAnnounceAnswer(std::string& out, const uint8_t* infoHash, uint32_t interval,
                          uint32_t complete, uint32_t incomplete) {
  appendKey(out, "{\"action\":\"announce\",\"interval\":", interval);
  appendKey(out, ",\"info_hash\":", infoHash);
  appendKey(out, ",\"complete\":", complete);
  appendKey(out, ",\"incomplete\":", incomplete);
  out += "}";
}

void appendRelay(std::string& out, const uint8_t* infoHash, const uint8_t* fromPeerId,
                 const uint8_t* offerId, std::string_view kind, std::string_view body) {
  appendKey(out, "{\"action\":\"announce\",\"info_hash\":", infoHash);
  appendKey(out, ",\"peer_id\":", fromPeerId);
  appendKey(out, ",\"offer_id\":", offerId);
  out += ",\"";
  out += kind;
  out += "\":";
  out += body;
  out += "}";
}

void appendFailure(std::string& out, Action action, const uint8_t* infoHash,
                   std::string_view reason) {
  // Reasons are our own static ASCII strings: no escaping needed.
  out += "{\"failure reason\":\"";
  out += reason;
  out += action == Action::Scrape ? "\",\"action\":\"scrape\"" : "\",\"action\":\"announce\"";
  if (infoHash) appendKey(out, ",\"info_hash\":", infoHash);
  out += "}";
}

void appendScrapeBegin(std::string& out) { out += "{\"action\":\"scrape\",\"files\":{"; }

void appendScrapeFile(std::string& out, bool first, const uint8_t* infoHash, uint32_t complete,
                      uint32_t incomplete, uint32_t downloaded) {
  if (!first) out.push_back(',');
  appendId(out, infoHash);
  appendKey(out, ":{\"complete\":", complete);
  appendKey(out, ",\"incomplete\":", incomplete);
  appendKey(out, ",\"downloaded\":", downloaded);
  out += "}";
}

void appendScrapeEnd(std::string& out) { out += "}}"; }

}  // namespace manifold::tracker::ws
