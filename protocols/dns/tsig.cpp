#include "protocols/dns/tsig.hpp"

#include <cstring>

namespace manifold::dns {

namespace {

const std::string kSha256Name("\x0bhmac-sha256\x00", 13);
const std::string kSha512Name("\x0bhmac-sha512\x00", 13);

}  // namespace

bool readName(const uint8_t* p, size_t len, size_t& pos, uint8_t* out, size_t& outLen, bool lower) {
  size_t at = pos, n = 0;
  bool jumped = false;
  for (int hops = 0; hops < 128; ++hops) {
    if (at >= len) return false;
    uint8_t l = p[at];
    if ((l & 0xC0) == 0xC0) {
      if (at + 2 > len) return false;
      if (!jumped) pos = at + 2;
      jumped = true;
      at = static_cast<size_t>(l & 0x3F) << 8 | p[at + 1];
      continue;
    }
    if (l & 0xC0) return false;
    if (n + 1 + l > kMaxName || at + 1 + l > len) return false;
    out[n] = l;
    for (size_t i = 1; i <= l; ++i) out[n + i] = lower ? lowerAscii(p[at + i]) : p[at + i];
    n += 1 + l;
    at += 1 + l;
    if (l == 0) {
      if (!jumped) pos = at;
      outLen = n;
      return true;
    }
  }
  return false;
}

namespace {

bool skipName(const uint8_t* p, size_t len, size_t& pos) {
  uint8_t scratch[kMaxName];
  size_t n;
  return readName(p, len, pos, scratch, n);
}

void put48(uint8_t* p, uint64_t v) {
  put16(p, static_cast<uint16_t>(v >> 32));
  put32(p + 2, static_cast<uint32_t>(v));
}

bool macEqual(const uint8_t* a, const uint8_t* b, size_t n) { return sodium_memcmp(a, b, n) == 0; }

}  // namespace

std::string_view TsigKey::algorithmName() const {
  return algorithm == TsigAlgorithm::HmacSha256 ? kSha256Name : kSha512Name;
}

size_t TsigKey::recordSize() const {
  // owner, type class ttl rdlength, algorithm, time fudge macsize, mac, id error otherlen
  return name.size() + 10 + algorithmName().size() + 10 + macSize() + 6;
}

bool parseTsigKey(std::string_view text, TsigKey& out, std::string& why) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(cur);
  if (words.size() != 3) {
    why = "expected NAME hmac-sha256|hmac-sha512 BASE64SECRET";
    return false;
  }
  std::string wire;
  std::string name = words[0];
  if (name.back() != '.') name += '.';
  if (!textToName(name, "", wire, why)) return false;
  out.name = lowerName(wire);
  out.text = words[0];
  if (words[1] == "hmac-sha256")
    out.algorithm = TsigAlgorithm::HmacSha256;
  else if (words[1] == "hmac-sha512")
    out.algorithm = TsigAlgorithm::HmacSha512;
  else {
    why = "algorithm '" + words[1] + "': expected hmac-sha256 or hmac-sha512";
    return false;
  }
  std::string secret(words[2].size(), '\0');
  size_t n = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(secret.data()), secret.size(),
                        words[2].data(), words[2].size(), nullptr, &n, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      n == 0) {
    why = "the secret is not base64";
    return false;
  }
  secret.resize(n);
  out.secret = std::move(secret);
  return true;
}

const TsigKey* findTsigKey(const std::vector<TsigKey>& keys, std::string_view name) {
  for (const TsigKey& k : keys)
    if (k.name == name) return &k;
  return nullptr;
}

TsigFind findTsig(const uint8_t* p, size_t len, TsigRecord& out) {
  if (len < kHeaderSize) return TsigFind::None;
  unsigned qd = get16(p + 4), rrs = get16(p + 6) + get16(p + 8), ar = get16(p + 10);
  if (ar == 0) return TsigFind::None;
  size_t pos = kHeaderSize;
  for (unsigned i = 0; i < qd; ++i) {
    if (!skipName(p, len, pos) || pos + 4 > len) return TsigFind::Malformed;
    pos += 4;
  }
  unsigned total = rrs + ar;
  for (unsigned i = 0; i < total; ++i) {
    size_t start = pos;
    uint8_t owner[kMaxName];
    size_t ownerLen = 0;
    if (!readName(p, len, pos, owner, ownerLen) || pos + 10 > len) return TsigFind::Malformed;
    uint16_t type = get16(p + pos), klass = get16(p + pos + 2);
    uint16_t rdlen = get16(p + pos + 8);
    pos += 10;
    if (pos + rdlen > len) return TsigFind::Malformed;
    if (type != kTypeTsig) {
      pos += rdlen;
      continue;
    }
    // RFC 8945 5.2: only as the last additional RR, class ANY.
    if (i + 1 != total || i < rrs || klass != kClassAny) return TsigFind::Malformed;
    size_t end = pos + rdlen;
    std::memcpy(out.keyName, owner, ownerLen);
    out.keyNameLength = ownerLen;
    out.offset = start;
    if (!readName(p, end, pos, out.algorithm, out.algorithmLength) || pos + 10 > end)
      return TsigFind::Malformed;
    out.timeSigned = static_cast<uint64_t>(get16(p + pos)) << 32 | get32(p + pos + 2);
    out.fudge = get16(p + pos + 6);
    out.macSize = get16(p + pos + 8);
    pos += 10;
    if (pos + out.macSize + 6 > end) return TsigFind::Malformed;
    out.mac = p + pos;
    pos += out.macSize;
    out.originalId = get16(p + pos);
    out.error = get16(p + pos + 2);
    out.otherLength = get16(p + pos + 4);
    pos += 6;
    // The TSIG ends the message: nothing unsigned may follow it.
    if (pos + out.otherLength != end || end != len) return TsigFind::Malformed;
    out.other = p + pos;
    return TsigFind::Found;
  }
  return TsigFind::None;
}

TsigMac::TsigMac(const TsigKey& key) : algorithm_(key.algorithm) {
  const auto* k = reinterpret_cast<const unsigned char*>(key.secret.data());
  if (algorithm_ == TsigAlgorithm::HmacSha256)
    crypto_auth_hmacsha256_init(&state_.s256, k, key.secret.size());
  else
    crypto_auth_hmacsha512_init(&state_.s512, k, key.secret.size());
}

void TsigMac::update(const void* data, size_t len) {
  const auto* d = static_cast<const unsigned char*>(data);
  if (algorithm_ == TsigAlgorithm::HmacSha256)
    crypto_auth_hmacsha256_update(&state_.s256, d, len);
  else
    crypto_auth_hmacsha512_update(&state_.s512, d, len);
}

void TsigMac::updatePriorMac(std::string_view mac) {
  uint8_t l[2];
  put16(l, static_cast<uint16_t>(mac.size()));
  update(l, 2);
  update(mac);
}

size_t TsigMac::final(uint8_t* out) {
  if (algorithm_ == TsigAlgorithm::HmacSha256) {
    crypto_auth_hmacsha256_final(&state_.s256, out);
    return 32;
  }
  crypto_auth_hmacsha512_final(&state_.s512, out);
  return 64;
}

std::string tsigVariables(const TsigKey& key, uint64_t timeSigned, uint16_t fudge, uint16_t error,
                          std::string_view other, bool timersOnly) {
  std::string v;
  uint8_t b[8];
  if (!timersOnly) {
    v += key.name;
    put16(b, kClassAny);
    put32(b + 2, 0);
    v.append(reinterpret_cast<char*>(b), 6);
    v += key.algorithmName();
  }
  put48(b, timeSigned);
  put16(b + 6, fudge);
  v.append(reinterpret_cast<char*>(b), 8);
  if (!timersOnly) {
    put16(b, error);
    put16(b + 2, static_cast<uint16_t>(other.size()));
    v.append(reinterpret_cast<char*>(b), 4);
    v += other;
  }
  return v;
}

TsigStatus verifyTsig(const uint8_t* msg, size_t len, const TsigRecord& rec,
                      const std::vector<TsigKey>& keys, std::string_view priorMac, uint64_t now,
                      bool timersOnly, std::string_view unsignedBefore) {
  const TsigKey* key = findTsigKey(keys, rec.key());
  std::string_view alg(reinterpret_cast<const char*>(rec.algorithm), rec.algorithmLength);
  if (!key || alg != key->algorithmName()) return TsigStatus::BadKey;
  // RFC 8945 5.2.2.1: a MAC cut below half the hash (or 10 bytes) is refused; longer than the
  // hash is malformed: both count as a bad signature here.
  size_t full = key->macSize();
  if (rec.macSize > full || rec.macSize < full / 2 || rec.offset > len) return TsigStatus::BadSig;
  TsigMac h(*key);
  if (!priorMac.empty()) h.updatePriorMac(priorMac);
  h.update(unsignedBefore);
  // The message as it was before signing: original ID, ARCOUNT without the TSIG.
  uint8_t head[kHeaderSize];
  std::memcpy(head, msg, kHeaderSize);
  put16(head, rec.originalId);
  put16(head + 10, static_cast<uint16_t>(get16(head + 10) - 1));
  h.update(head, kHeaderSize);
  h.update(msg + kHeaderSize, rec.offset - kHeaderSize);
  h.update(tsigVariables(*key, rec.timeSigned, rec.fudge, rec.error,
                         {reinterpret_cast<const char*>(rec.other), rec.otherLength}, timersOnly));
  uint8_t mac[kTsigMaxMac];
  h.final(mac);
  if (!macEqual(mac, rec.mac, rec.macSize)) return TsigStatus::BadSig;
  // Checked after the MAC (RFC 8945 5.2.3), so an unsigned message cannot learn our clock.
  uint64_t skew = now > rec.timeSigned ? now - rec.timeSigned : rec.timeSigned - now;
  if (skew > rec.fudge) return TsigStatus::BadTime;
  return TsigStatus::Ok;
}

size_t writeTsigRecord(uint8_t* out, size_t cap, const TsigKey& key, uint64_t timeSigned,
                       uint16_t originalId, uint16_t error, std::string_view mac,
                       std::string_view other) {
  std::string_view alg = key.algorithmName();
  size_t rdlen = alg.size() + 10 + mac.size() + 6 + other.size();
  size_t total = key.name.size() + 10 + rdlen;
  if (total > cap || rdlen > 0xFFFF) return 0;
  uint8_t* p = out;
  std::memcpy(p, key.name.data(), key.name.size());
  p += key.name.size();
  put16(p, kTypeTsig);
  put16(p + 2, kClassAny);
  put32(p + 4, 0);
  put16(p + 8, static_cast<uint16_t>(rdlen));
  p += 10;
  std::memcpy(p, alg.data(), alg.size());
  p += alg.size();
  put48(p, timeSigned);
  put16(p + 6, kTsigFudge);
  put16(p + 8, static_cast<uint16_t>(mac.size()));
  p += 10;
  std::memcpy(p, mac.data(), mac.size());
  p += mac.size();
  put16(p, originalId);
  put16(p + 2, error);
  put16(p + 4, static_cast<uint16_t>(other.size()));
  p += 6;
  std::memcpy(p, other.data(), other.size());
  return total;
}

size_t signTsig(uint8_t* msg, size_t len, size_t cap, const TsigKey& key, std::string_view priorMac,
                uint64_t timeSigned, bool timersOnly, std::string* macOut, uint16_t error,
                std::string_view other) {
  if (len < kHeaderSize) return 0;
  TsigMac h(key);
  if (!priorMac.empty()) h.updatePriorMac(priorMac);
  h.update(msg, len);
  h.update(tsigVariables(key, timeSigned, kTsigFudge, error, other, timersOnly));
  uint8_t mac[kTsigMaxMac];
  size_t macLen = h.final(mac);
  std::string_view m(reinterpret_cast<char*>(mac), macLen);
  size_t n = writeTsigRecord(msg + len, cap > len ? cap - len : 0, key, timeSigned, get16(msg),
                             error, m, other);
  if (!n) return 0;
  put16(msg + 10, static_cast<uint16_t>(get16(msg + 10) + 1));
  if (macOut) macOut->assign(m);
  return len + n;
}

size_t appendUnsignedTsig(uint8_t* msg, size_t len, size_t cap, const TsigRecord& rec,
                          uint16_t error, std::string_view other) {
  // Echo the request's key and algorithm names, whatever they are (the key may be unknown).
  size_t rdlen = rec.algorithmLength + 16 + other.size();
  size_t total = rec.keyNameLength + 10 + rdlen;
  if (len < kHeaderSize || len + total > cap) return 0;
  uint8_t* p = msg + len;
  std::memcpy(p, rec.keyName, rec.keyNameLength);
  p += rec.keyNameLength;
  put16(p, kTypeTsig);
  put16(p + 2, kClassAny);
  put32(p + 4, 0);
  put16(p + 8, static_cast<uint16_t>(rdlen));
  p += 10;
  std::memcpy(p, rec.algorithm, rec.algorithmLength);
  p += rec.algorithmLength;
  put48(p, rec.timeSigned);
  put16(p + 6, rec.fudge);
  put16(p + 8, 0);
  put16(p + 10, get16(msg));
  put16(p + 12, error);
  put16(p + 14, static_cast<uint16_t>(other.size()));
  std::memcpy(p + 16, other.data(), other.size());
  put16(msg + 10, static_cast<uint16_t>(get16(msg + 10) + 1));
  return len + total;
}

}  // namespace manifold::dns
