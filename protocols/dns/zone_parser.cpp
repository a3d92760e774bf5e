#include "protocols/dns/zone_parser.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "protocols/dns/rdata_text.hpp"
#include "protocols/dns/wire.hpp"

namespace manifold::dns {

namespace {

constexpr int kMaxIncludeDepth = 8;

using Token = RdataToken;

// One logical entry: the tokens of one line, or of several when parentheses span them.
struct Entry {
  std::vector<Token> tokens;
  bool ownerBlank = false;  // the entry starts with whitespace: owner inherited
  int line = 0;
};

// Splits master-file text into entries. Returns false with `why`/`line` on unbalanced quotes or
// parentheses.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  // False at the end of input (entry untouched) or on error (why_ set).
  bool next(Entry& entry) {
    for (;;) {
      if (pos_ >= text_.size()) return false;
      entry.tokens.clear();
      entry.line = line_;
      entry.ownerBlank = text_[pos_] == ' ' || text_[pos_] == '\t';
      int depth = 0;
      bool lineDone = false;
      while (!lineDone) {
        if (pos_ >= text_.size()) {
          if (depth > 0) return fail("unbalanced '(' opened in this entry", entry.line);
          break;
        }
        char c = text_[pos_];
        if (c == '\n') {
          ++line_;
          ++pos_;
          if (depth == 0) lineDone = true;
        } else if (c == ' ' || c == '\t' || c == '\r') {
          ++pos_;
        } else if (c == ';') {
          while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        } else if (c == '(') {
          ++depth;
          ++pos_;
        } else if (c == ')') {
          if (depth == 0) return fail("')' without '('", line_);
          --depth;
          ++pos_;
        } else if (c == '"') {
          Token t;
          t.quoted = true;
          ++pos_;
          bool closed = false;
          while (pos_ < text_.size()) {
            char d = text_[pos_];
            if (d == '\\' && pos_ + 1 < text_.size()) {
              t.text.push_back(d);
              t.text.push_back(text_[pos_ + 1]);
              if (text_[pos_ + 1] == '\n') ++line_;
              pos_ += 2;
              continue;
            }
            if (d == '"') {
              closed = true;
              ++pos_;
              break;
            }
            if (d == '\n') ++line_;
            t.text.push_back(d);
            ++pos_;
          }
          if (!closed) return fail("unterminated quoted string", entry.line);
          entry.tokens.push_back(std::move(t));
        } else {
          Token t;
          while (pos_ < text_.size()) {
            char d = text_[pos_];
            if (d == '\\' && pos_ + 1 < text_.size()) {
              t.text.push_back(d);
              t.text.push_back(text_[pos_ + 1]);
              pos_ += 2;
              continue;
            }
            if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == ';' || d == '(' ||
                d == ')' || d == '"')
              break;
            t.text.push_back(d);
            ++pos_;
          }
          entry.tokens.push_back(std::move(t));
        }
      }
      if (!entry.tokens.empty()) return true;
    }
  }

  const std::string& why() const { return why_; }
  int errorLine() const { return errorLine_; }
  bool failed() const { return !why_.empty(); }

 private:
  bool fail(const std::string& why, int line) {
    why_ = why;
    errorLine_ = line;
    pos_ = text_.size();
    return false;
  }
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  std::string why_;
  int errorLine_ = 0;
};

bool isClass(std::string_view t, uint16_t& klass) {
  auto eq = [&](const char* s) {
    std::string_view n(s);
    if (n.size() != t.size()) return false;
    for (size_t i = 0; i < n.size(); ++i)
      if (toupper(static_cast<unsigned char>(t[i])) != n[i]) return false;
    return true;
  };
  if (eq("IN"))
    klass = kClassIn;
  else if (eq("CH"))
    klass = kClassCh;
  else if (eq("HS"))
    klass = 4;
  else if (eq("CS"))
    klass = 2;
  else
    return false;
  return true;
}

class Parser {
 public:
  Parser(const IncludeReader& reader, ZoneParseResult& result) : reader_(reader), result_(result) {}

  bool parse(std::string_view text, const std::string& file, std::string origin, int depth) {
    Tokenizer tok(text);
    Entry entry;
    // The origin and the last owner are per file: an $INCLUDE does not change the includer's.
    std::string lastOwner;
    std::string originWire;
    std::string why;
    if (!origin.empty() && !textToName(origin, "", originWire, why))
      return fail(file, 0, "bad origin: " + why);
    while (tok.next(entry)) {
      auto& t = entry.tokens;
      auto err = [&](const std::string& w) { return fail(file, entry.line, w); };
      if (!t[0].quoted && t[0].text.size() > 0 && t[0].text[0] == '$' && !entry.ownerBlank) {
        std::string directive = t[0].text;
        for (auto& c : directive) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
        if (directive == "$ORIGIN") {
          if (t.size() != 2) return err("$ORIGIN takes one name");
          std::string o;
          if (!textToName(t[1].text, originWire, o, why)) return err(why);
          originWire = o;
        } else if (directive == "$TTL") {
          if (t.size() != 2) return err("$TTL takes one value");
          uint32_t v;
          if (!parseTtl(t[1].text, v)) return err("bad $TTL '" + t[1].text + "'");
          defaultTtl_ = v;
          haveDefaultTtl_ = true;
        } else if (directive == "$INCLUDE") {
          if (t.size() < 2 || t.size() > 3)
            return err("$INCLUDE takes a file and an optional origin");
          if (depth >= kMaxIncludeDepth) return err("$INCLUDE nested too deeply");
          std::string path = t[1].text;
          if (!path.empty() && path[0] != '/') {
            size_t slash = file.rfind('/');
            if (slash != std::string::npos) path = file.substr(0, slash + 1) + path;
          }
          std::string incOrigin = nameToText(originWire);
          if (originWire.empty()) incOrigin.clear();
          if (t.size() == 3) {
            std::string o;
            if (!textToName(t[2].text, originWire, o, why)) return err(why);
            incOrigin = nameToText(o);
          }
          std::string content;
          if (!reader_(path, content, why)) return err("$INCLUDE " + path + ": " + why);
          if (!parse(content, path, incOrigin, depth + 1)) return false;
        } else {
          return err("unknown directive " + t[0].text);
        }
        continue;
      }
      // [owner] [ttl] [class] type rdata  (ttl and class in either order)
      size_t i = 0;
      ZoneRecord rec;
      rec.file = file;
      rec.line = entry.line;
      if (entry.ownerBlank) {
        if (lastOwner.empty()) return err("no owner name and no previous owner");
        rec.owner = lastOwner;
      } else {
        if (!textToName(t[0].text, originWire, rec.owner, why)) return err(why);
        ++i;
      }
      bool haveTtl = false, haveClass = false;
      uint16_t type = 0;
      for (; i < t.size(); ++i) {
        uint32_t ttl;
        uint16_t klass;
        if (!haveTtl && !t[i].quoted && isdigit(static_cast<unsigned char>(t[i].text[0])) &&
            parseTtl(t[i].text, ttl)) {
          rec.ttl = ttl;
          haveTtl = true;
        } else if (!haveClass && !t[i].quoted && isClass(t[i].text, klass)) {
          rec.klass = klass;
          haveClass = true;
        } else if (!t[i].quoted && parseTypeName(t[i].text, type)) {
          ++i;
          break;
        } else {
          return err("expected a TTL, class or type, got '" + t[i].text + "'");
        }
      }
      if (type == 0) return err("missing record type");
      if (haveClass && rec.klass != kClassIn) return err("only class IN is served");
      rec.klass = kClassIn;
      rec.type = type;
      std::vector<Token> rdata(t.begin() + static_cast<long>(i), t.end());
      if (!parseRdata(type, rdata, originWire, rec.rdata, why))
        return err(typeName(type) + ": " + why);
      if (!haveTtl) {
        if (haveDefaultTtl_)
          rec.ttl = defaultTtl_;
        else if (type == kTypeSoa)
          rec.ttl =
              get32(reinterpret_cast<const uint8_t*>(rec.rdata.data()) + rec.rdata.size() - 4);
        else if (haveLastTtl_)
          rec.ttl = lastTtl_;
        else
          return err("no TTL given and no $TTL before it");
      }
      lastTtl_ = rec.ttl;
      haveLastTtl_ = true;
      lastOwner = rec.owner;
      result_.records.push_back(std::move(rec));
    }
    if (tok.failed()) return fail(file, tok.errorLine(), tok.why());
    return true;
  }

 private:
  bool fail(const std::string& file, int line, const std::string& why) {
    result_.error = file + ":" + std::to_string(line) + ": " + why;
    return false;
  }

  const IncludeReader& reader_;
  ZoneParseResult& result_;
  uint32_t defaultTtl_ = 0;
  bool haveDefaultTtl_ = false;
  uint32_t lastTtl_ = 0;
  bool haveLastTtl_ = false;
};

}  // namespace

bool parseTtl(std::string_view text, uint32_t& out) {
  if (text.empty()) return false;
  uint64_t total = 0, cur = 0;
  bool digits = false, units = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + static_cast<uint64_t>(c - '0');
      if (cur > 0xffffffffull) return false;
      digits = true;
      continue;
    }
    if (!digits) return false;
    uint64_t mult;
    switch (tolower(static_cast<unsigned char>(c))) {
      case 's':
        mult = 1;
        break;
      case 'm':
        mult = 60;
        break;
      case 'h':
        mult = 3600;
        break;
      case 'd':
        mult = 86400;
        break;
      case 'w':
        mult = 604800;
        break;
      default:
        return false;
    }
    total += cur * mult;
    if (total > 0xffffffffull) return false;
    cur = 0;
    digits = false;
    units = true;
  }
  if (digits) {
    total += cur;
  } else if (!units) {
    return false;
  }
  if (total > 0xffffffffull) return false;
  out = static_cast<uint32_t>(total);
  return true;
}

ZoneParseResult parseZoneText(std::string_view text, const std::string& fileName,
                              const std::string& origin, const IncludeReader& reader) {
  ZoneParseResult result;
  Parser parser(reader, result);
  result.ok = parser.parse(text, fileName, origin, 0);
  if (!result.ok) result.records.clear();
  return result;
}

ZoneParseResult parseZoneFile(const std::string& path, const std::string& origin) {
  IncludeReader reader = [](const std::string& p, std::string& content, std::string& why) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      why = "cannot open";
      return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    content = ss.str();
    return true;
  };
  std::string content, why;
  if (!reader(path, content, why)) {
    ZoneParseResult r;
    r.error = path + ":0: " + why;
    return r;
  }
  return parseZoneText(content, path, origin, reader);
}

}  // namespace manifold::dns
