// libFuzzer target: the upstream response head parser. Whatever the bytes, it must not read
// outside the input, a Complete parse must lie inside it with views into it and consistent
// framing, and every prefix of a complete head must be Incomplete or the same Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/proxy/response.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::proxy;

namespace {

bool inside(std::string_view in, std::string_view v) {
  return v.empty() || (v.data() >= in.data() && v.data() + v.size() <= in.data() + in.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool head = data[0] & 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  ResponseHead h;
  ResponseParse r = parseResponse(in, h, head, 4096);
  if (r.status != ResponseStatus::Complete) return 0;
  check(r.consumed <= in.size());
  check(h.status >= 200 && h.status <= 999);
  check(h.headerCount <= manifold::http::kMaxHeaders);
  for (size_t i = 0; i < h.headerCount; ++i)
    check(inside(in, h.headers[i].name) && inside(in, h.headers[i].value));
  check(inside(in, h.reason));
  if (h.framing == Framing::Length) check(h.contentLength >= 0);
  if (h.framing == Framing::Close) check(!h.keepAlive);
  if (head) check(h.framing == Framing::None);
  // The head alone parses the same; a strict prefix of it never completes.
  ResponseHead again;
  check(parseResponse(in.substr(0, r.consumed), again, head, 4096).status ==
        ResponseStatus::Complete);
  check(again.status == h.status && again.framing == h.framing);
  if (r.consumed > 0)
    check(parseResponse(in.substr(0, r.consumed - 1), again, head, 4096).status !=
          ResponseStatus::Complete);
  return 0;
}
