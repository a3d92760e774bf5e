#include "protocols/tunnel/keys.hpp"

#include <sodium.h>

#include <fstream>
#include <sstream>

namespace manifold::tunnel {

std::string encodeKey(const Key& key) {
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

bool decodeKey(std::string_view text, Key& out) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  if (text.size() != 44) return false;
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  return len == 32 && end == text.data() + text.size();
}

Key generatePrivateKey() {
  Key key;
  randombytes_buf(key.data(), key.size());
  key[0] &= 248;
  key[31] = (key[31] & 127) | 64;
  return key;
}

Key publicKeyOf(const Key& privateKey) {
  Key pub;
  crypto_scalarmult_base(pub.data(), privateKey.data());
  return pub;
}

bool readKeyFile(const std::string& path, Key& out, std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = "cannot read key file " + path;
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (!decodeKey(text.str(), out)) {
    why = "key file " + path + " does not hold one base64 32-byte key";
    return false;
  }
  return true;
}

}  // namespace manifold::tunnel
