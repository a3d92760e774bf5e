// libFuzzer target: the age v1 header parser and the bech32 / base64 codings
// (protocols/static/age_format.hpp). Checks that views stay inside the input, that an Ok header
// is also Ok with bytes appended (the payload) and Incomplete when cut short, and that
// decode(encode(x)) == x for both codings.
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/static/age_format.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::age;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Header h;
  ParseResult r = parseHeader(in, h);
  if (r == ParseResult::Ok) {
    check(h.length <= size && h.macInputLength < h.length && !h.stanzas.empty());
    check(in[h.length - 1] == '\n');
    for (const Stanza& s : h.stanzas) {
      check(s.type.data() >= in.data() && s.type.data() + s.type.size() <= in.data() + size);
      for (std::string_view a : s.args) check(!a.empty());
    }
    std::string longer(in.substr(0, h.length));
    longer += "payload";
    Header again;
    check(parseHeader(longer, again) == ParseResult::Ok && again.length == h.length);
    check(parseHeader(in.substr(0, h.length - 1), again) == ParseResult::Incomplete);
  }
  std::string hrp, bytes;
  if (bech32Decode(in, hrp, bytes)) {
    std::string hrp2, bytes2;
    check(bech32Decode(bech32Encode(hrp, bytes), hrp2, bytes2) && hrp2 == hrp && bytes2 == bytes);
  }
  std::string decoded;
  if (base64Decode(in, decoded)) check(base64Encode(decoded) == in);
  std::string back;
  check(base64Decode(base64Encode(in), back) && back == in);
  return 0;
}
