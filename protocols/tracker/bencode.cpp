#include "protocols/tracker/bencode.hpp"

#include <charconv>

namespace manifold::tracker::bencode {

void appendInt(std::string& out, int64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.push_back('i');
  out.append(buf, r.ptr);
  out.push_back('e');
}

void appendString(std::string& out, std::string_view value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value.size());
  out.append(buf, r.ptr);
  out.push_back(':');
  out.append(value);
}

void appendKeyInt(std::string& out, std::string_view key, int64_t value) {
  appendString(out, key);
  appendInt(out, value);
}

void appendKeyString(std::string& out, std::string_view key, std::string_view value) {
  appendString(out, key);
  appendString(out, value);
}

std::string failure(std::string_view reason) {
  std::string out = "d";
  appendKeyString(out, "failure reason", reason);
  out.push_back('e');
  return out;
}

namespace {

bool parse(std::string_view in, size_t& pos, Value& out, int depth) {
  if (depth > 32 || pos >= in.size()) return false;
  const char c = in[pos];
  if (c == 'i') {
    size_t end = in.find('e', pos + 1);
    if (end == std::string_view::npos || end == pos + 1) return false;
    std::string_view digits = in.substr(pos + 1, end - pos - 1);
    if (digits == "-0" || (digits.size() > 1 && digits[0] == '0') ||
        (digits.size() > 2 && digits[0] == '-' && digits[1] == '0'))
      return false;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), out.integer);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return false;
    out.type = Value::Type::Int;
    pos = end + 1;
    return true;
  }
  if (c >= '0' && c <= '9') {
    size_t colon = in.find(':', pos);
    if (colon == std::string_view::npos || colon - pos > 10) return false;
    if (in[pos] == '0' && colon - pos > 1) return false;
    uint64_t len = 0;
    auto r = std::from_chars(in.data() + pos, in.data() + colon, len);
    if (r.ec != std::errc() || r.ptr != in.data() + colon) return false;
    if (len > in.size() - colon - 1) return false;
    out.type = Value::Type::String;
    out.string.assign(in.substr(colon + 1, len));
    pos = colon + 1 + len;
    return true;
  }
  if (c == 'l' || c == 'd') {
    out.type = c == 'l' ? Value::Type::List : Value::Type::Dict;
    ++pos;
    std::string lastKey;
    bool haveKey = false;
    while (pos < in.size() && in[pos] != 'e') {
      if (c == 'l') {
        out.list.emplace_back();
        if (!parse(in, pos, out.list.back(), depth + 1)) return false;
      } else {
        Value key;
        if (!parse(in, pos, key, depth + 1) || key.type != Value::Type::String) return false;
        if (haveKey && key.string <= lastKey) return false;  // keys sorted and unique
        lastKey = key.string;
        haveKey = true;
        Value v;
        if (!parse(in, pos, v, depth + 1)) return false;
        out.dict.emplace(key.string, std::move(v));
      }
    }
    if (pos >= in.size()) return false;
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

bool decode(std::string_view in, Value& out) {
  size_t pos = 0;
  out = Value();
  return parse(in, pos, out, 0) && pos == in.size();
}

}  // namespace manifold::tracker::bencode
