#include "protocols/static/age_format.hpp"

#include <sodium.h>

#include <cstring>

namespace manifold::age {

namespace {

constexpr size_t kColumns = 64;  // body lines are wrapped here

bool isArgChar(char c) { return c >= 33 && c <= 126; }  // VCHAR

// Splits "a b c" into non-empty arguments; false on empty arguments or bad characters.
bool splitArgs(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    size_t space = line.find(' ', start);
    std::string_view arg =
        line.substr(start, space == std::string_view::npos ? line.npos : space - start);
    if (arg.empty()) return false;
    for (char c : arg)
      if (!isArgChar(c)) return false;
    out.push_back(arg);
    if (space == std::string_view::npos) return true;
    start = space + 1;
  }
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
  size_t room = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  std::string out(room, '\0');
  sodium_bin2base64(out.data(), room, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out.resize(strlen(out.c_str()));
  return out;
}

// Our own decoder: libsodium 1.0.18's takes byte 0xff for '/'.
bool base64Decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0) {
      out.clear();
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (acc & ((1u << bits) - 1)) {  // canonical: the unused low bits are zero
    out.clear();
    return false;
  }
  return true;
}

ParseResult parseHeader(std::string_view data, Header& out) {
  out = Header{};
  // The version line: a prefix of it is incomplete, anything else is not age.
  size_t n = std::min(data.size(), kVersionLine.size());
  if (data.compare(0, n, kVersionLine.substr(0, n)) != 0) return ParseResult::Invalid;
  if (data.size() < kVersionLine.size()) return ParseResult::Incomplete;
  size_t pos = kVersionLine.size();
  auto incompleteOrTooLong = [&] {
    return data.size() >= kMaxHeader ? ParseResult::Invalid : ParseResult::Incomplete;
  };
  // Reads the next line (without '\n') into `line`; false when no full line is there yet.
  std::string_view line;
  auto nextLine = [&]() {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos || nl >= kMaxHeader) return false;
    line = data.substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string piece;
  for (;;) {
    size_t lineStart = pos;
    if (!nextLine()) {
      // A partial line must still be a prefix of "-> " or "--- ".
      std::string_view rest = data.substr(pos, 3);
      if (!rest.empty() &&
          rest.compare(0, rest.size(), std::string_view("-> ").substr(0, rest.size())) != 0 &&
          rest.compare(0, rest.size(), std::string_view("---").substr(0, rest.size())) != 0)
        return ParseResult::Invalid;
      return incompleteOrTooLong();
    }
    if (line.substr(0, 4) == "--- ") {
      if (out.stanzas.empty()) return ParseResult::Invalid;
      std::string mac;
      if (line.size() != 4 + 43 || !base64Decode(line.substr(4), mac) || mac.size() != 32)
        return ParseResult::Invalid;
      memcpy(out.mac, mac.data(), 32);
      out.macInputLength = lineStart + 3;
      out.length = pos;
      return ParseResult::Ok;
    }
    if (line.substr(0, 3) != "-> ") return ParseResult::Invalid;
    Stanza stanza;
    if (!splitArgs(line.substr(3), stanza.args)) return ParseResult::Invalid;
    stanza.type = stanza.args.front();
    stanza.args.erase(stanza.args.begin());
    // Body lines: full ones are exactly 64 columns; the first shorter one ends the body.
    for (;;) {
      if (!nextLine()) return incompleteOrTooLong();
      if (line.size() > kColumns) return ParseResult::Invalid;
      if (!base64Decode(line, piece)) return ParseResult::Invalid;
      stanza.body.append(piece);
      if (line.size() < kColumns) break;
    }
    out.stanzas.push_back(std::move(stanza));
  }
}

// ---- bech32 (BIP 173) ----

namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

uint32_t polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint8_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i)
      if ((top >> i) & 1) chk ^= kGen[i];
  }
  return chk;
}

std::vector<uint8_t> expandHrp(std::string_view hrp) {
  std::vector<uint8_t> out;
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) & 31);
  return out;
}

// Regroups bits; `pad` for 8->5, strict (no padding beyond 4 zero bits) for 5->8.
bool convertBits(const uint8_t* in, size_t size, int from, int to, bool pad,
                 std::vector<uint8_t>& out) {
  uint32_t acc = 0;
  int bits = 0;
  const uint32_t maxv = (1u << to) - 1;
  for (size_t i = 0; i < size; ++i) {
    acc = (acc << from) | in[i];
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back((acc >> bits) & maxv);
    }
  }
  if (pad) {
    if (bits) out.push_back((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv)) {
    return false;
  }
  return true;
}

}  // namespace

std::string bech32Encode(std::string_view hrp, std::string_view data) {
  std::string lower(hrp);
  for (char& c : lower) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  std::vector<uint8_t> values;
  convertBits(reinterpret_cast<const uint8_t*>(data.data()), data.size(), 8, 5, true, values);
  std::vector<uint8_t> check = expandHrp(lower);
  check.insert(check.end(), values.begin(), values.end());
  check.insert(check.end(), 6, 0);
  uint32_t mod = polymod(check) ^ 1;
  std::string out = lower + "1";
  for (uint8_t v : values) out.push_back(kCharset[v]);
  for (int i = 0; i < 6; ++i) out.push_back(kCharset[(mod >> (5 * (5 - i))) & 31]);
  return out;
}

bool bech32Decode(std::string_view text, std::string& hrp, std::string& data) {
  bool lower = false, upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return false;
    lower |= c >= 'a' && c <= 'z';
    upper |= c >= 'A' && c <= 'Z';
  }
  if (lower && upper) return false;
  size_t sep = text.rfind('1');
  if (sep == std::string_view::npos || sep == 0 || sep + 7 > text.size()) return false;
  hrp.clear();
  for (char c : text.substr(0, sep))
    hrp.push_back(static_cast<char>(tolower(static_cast<unsigned char>(c))));
  std::vector<uint8_t> values;
  for (char c : text.substr(sep + 1)) {
    size_t v = kCharset.find(static_cast<char>(tolower(static_cast<unsigned char>(c))));
    if (v == std::string_view::npos) return false;
    values.push_back(static_cast<uint8_t>(v));
  }
  std::vector<uint8_t> check = expandHrp(hrp);
  check.insert(check.end(), values.begin(), values.end());
  if (polymod(check) != 1) return false;
  std::vector<uint8_t> bytes;
  if (!convertBits(values.data(), values.size() - 6, 5, 8, false, bytes)) return false;
  data.assign(bytes.begin(), bytes.end());
  return true;
}

}  // namespace manifold::age
