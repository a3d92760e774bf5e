// libFuzzer target: the LRRR token decoder (protocols/dns/lrrr.hpp). The input is the label.
// Decoding must stay inside the input, and whatever decodes must re-encode to the same label
// (lowercased): only canonical, MAC-valid tokens are accepted. The seeds hold valid tokens for
// the all-zero key (made with encodeLrrrToken) so mutations start from the accepting path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/dns/lrrr.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::dns;

namespace {
const uint8_t kKey[16] = {};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view label(reinterpret_cast<const char*>(data), size);
  ClientPrefix who;
  std::string_view suffix("\x03lrl\x03www\x00", 9);
  LrrrToken t;
  if (!decodeLrrrToken(label, kKey, who, suffix, t)) return 0;
  char again[kLrrrTokenChars];
  encodeLrrrToken(t, kKey, who, suffix, again);
  check(label.size() == kLrrrTokenChars);
  for (size_t i = 0; i < kLrrrTokenChars; ++i)
    check(static_cast<char>(lowerAscii(static_cast<uint8_t>(label[i]))) == again[i]);
  return 0;
}
