#include "protocols/http/h2_message.hpp"

#include <cstdio>

#include "protocols/ascii.hpp"

namespace manifold::http {

namespace {

bool safeValue(std::string_view v) {
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

nghttp2_nv field(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

bool hopByHop(std::string_view lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
         lower == "transfer-encoding" || lower == "upgrade";
}

}  // namespace

void H2RequestBuilder::reset() {
  method_.clear();
  path_.clear();
  authority_.clear();
  fields_.clear();
  hasLength_ = hasHost_ = chunked_ = false;
}

bool H2RequestBuilder::add(std::string_view name, std::string_view value) {
  if (!safeValue(name) || !safeValue(value)) return false;
  if (method_.size() + path_.size() + authority_.size() + fields_.size() + name.size() +
          value.size() >
      maxBytes_)
    return false;
  if (!name.empty() && name[0] == ':') {
    if (name == ":method") method_.assign(value);
    if (name == ":path") path_.assign(value);
    if (name == ":authority") authority_.assign(value);
    return true;  // :scheme and :protocol are not carried over
  }
  if (name == "content-length") hasLength_ = true;
  if (name == "host") hasHost_ = true;
  fields_.append(name).append(": ").append(value).append("\r\n");
  return true;
}

bool H2RequestBuilder::finish(bool hasBody, std::string& out) {
  if (method_.empty() || path_.empty()) return false;
  chunked_ = hasBody && !hasLength_;
  out.append(method_).append(" ").append(path_).append(" HTTP/1.1\r\n");
  if (!authority_.empty() && !hasHost_) out.append("host: ").append(authority_).append("\r\n");
  out.append(fields_);
  if (chunked_) out.append("transfer-encoding: chunked\r\n");
  out.append("\r\n");
  return true;
}

void encodeChunk(std::string_view data, bool last, std::string& out) {
  if (!data.empty()) {
    char size[24];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    out.append(size, n).append(data).append("\r\n");
  }
  if (last) out.append("0\r\n\r\n");
}

void responseFields(const proxy::ResponseHead& head, std::vector<nghttp2_nv>& out,
                    std::string& names) {
  out.clear();
  names.clear();
  // Names are stored first, then views taken: `names` must not reallocate in between.
  size_t total = 3;
  for (size_t i = 0; i < head.headerCount; ++i) total += head.headers[i].name.size();
  names.reserve(total);
  const int code = head.status < 100 || head.status > 999 ? 500 : head.status;
  const char status[3] = {static_cast<char>('0' + code / 100),
                          static_cast<char>('0' + code / 10 % 10),
                          static_cast<char>('0' + code % 10)};
  names.append(status, 3);
  out.push_back(field(":status", std::string_view(names.data(), 3)));
  for (size_t i = 0; i < head.headerCount; ++i) {
    const Header& h = head.headers[i];
    const size_t at = names.size();
    for (char c : h.name) names.push_back(ascii::toLower(c));
    std::string_view lower(names.data() + at, h.name.size());
    if (hopByHop(lower)) {
      names.resize(at);
      continue;
    }
    out.push_back(field(lower, h.value));
  }
}

}  // namespace manifold::http
