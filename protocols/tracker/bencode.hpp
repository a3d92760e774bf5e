// Bencoding (BEP 3) for tracker responses: appenders that write into a string without
// intermediate objects, and a small decoder (for tests, tools and the fuzz target).
//   integer  i<decimal>e        string  <length>:<bytes>
//   list     l<items>e          dict    d<key><value>...e  (keys are strings, sorted)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::tracker::bencode {

void appendInt(std::string& out, int64_t value);
void appendString(std::string& out, std::string_view value);
// A dict key followed by its integer / string value.
void appendKeyInt(std::string& out, std::string_view key, int64_t value);
void appendKeyString(std::string& out, std::string_view key, std::string_view value);

// The whole failure response: d14:failure reason<len>:<text>e
std::string failure(std::string_view reason);

struct Value {
  enum class Type { Int, String, List, Dict } type = Type::Int;
  int64_t integer = 0;
  std::string string;
  std::vector<Value> list;
  std::map<std::string, Value> dict;
  const Value* get(const std::string& key) const {
    auto it = dict.find(key);
    return it == dict.end() ? nullptr : &it->second;
  }
};

// Decodes exactly one value spanning all of `in`; false on any error (depth capped at 32).
bool decode(std::string_view in, Value& out);

}  // namespace manifold::tracker::bencode
