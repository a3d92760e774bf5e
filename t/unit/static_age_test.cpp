// Unit tests of the age v1 format (protocols/static/age_format.*, age_seal.*): the header
// parser on good, partial and bad input, bech32 and base64, and seal/open round trips including
// chunk boundaries, wrong keys and tampering. Interop with the age command: the integration
// tier (http_sealed_test.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/static/age_format.hpp"
#include "protocols/static/age_seal.hpp"

namespace manifold::age {
namespace {

std::string bytes(size_t n, unsigned seed = 7) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 17 + (i >> 8)) & 0xff);
  return s;
}

TEST(AgeFormat, ParsesASealedHeaderAndEveryPrefixIsIncomplete) {
  Key32 a = generateSecretKey(), b = generateSecretKey();
  std::string sealed = seal("hello", {publicKeyOf(a), publicKeyOf(b)});
  Header h;
  ASSERT_EQ(parseHeader(sealed, h), ParseResult::Ok);
  ASSERT_EQ(h.stanzas.size(), 2u);
  EXPECT_EQ(h.stanzas[0].type, "X25519");
  ASSERT_EQ(h.stanzas[0].args.size(), 1u);
  EXPECT_EQ(h.stanzas[0].args[0].size(), 43u);
  EXPECT_EQ(h.stanzas[0].body.size(), 32u);
  EXPECT_EQ(sealed.substr(h.macInputLength - 3, 4), "--- ");
  EXPECT_EQ(sealed[h.length - 1], '\n');
  EXPECT_EQ(sealed.size(), h.length + kNonceSize + 5 + kTagSize);
  for (size_t n = 0; n < h.length; ++n)
    EXPECT_EQ(parseHeader(std::string_view(sealed).substr(0, n), h), ParseResult::Incomplete) << n;
}

TEST(AgeFormat, RefusesWhatIsNotABinaryAgeHeader) {
  Header h;
  EXPECT_EQ(parseHeader("hello world\n", h), ParseResult::Invalid);
  EXPECT_EQ(parseHeader("<html>", h), ParseResult::Invalid);
  EXPECT_EQ(parseHeader("-----BEGIN AGE ENCRYPTED FILE-----\n", h), ParseResult::Invalid);
  EXPECT_EQ(parseHeader("age-encryption.org/v2\n", h), ParseResult::Invalid);
  std::string v1(kVersionLine);
  EXPECT_EQ(parseHeader(v1 + "--- " + std::string(43, 'A') + "\n", h), ParseResult::Invalid)
      << "no stanza";
  EXPECT_EQ(parseHeader(v1 + "junk\n", h), ParseResult::Invalid);
  EXPECT_EQ(parseHeader(v1 + "->  X25519\n", h), ParseResult::Invalid) << "empty argument";
  EXPECT_EQ(parseHeader(v1 + "-> X25519 a\x01\n", h), ParseResult::Invalid);
  EXPECT_EQ(parseHeader(v1 + "-> X\n" + std::string(65, 'A') + "\n", h), ParseResult::Invalid)
      << "body line over 64 columns";
  EXPECT_EQ(parseHeader(v1 + "-> X\nA\n", h), ParseResult::Invalid) << "not base64";
  EXPECT_EQ(parseHeader(v1 + "-> X\nAB\n--- short\n", h), ParseResult::Invalid);
  EXPECT_EQ(parseHeader(v1 + "-> X\n\n--- " + std::string(43, 'A') + "\n", h), ParseResult::Ok);
  // Non-canonical base64 (unused bits set) is refused, as age does.
  EXPECT_EQ(parseHeader(v1 + "-> X\nAB\n", h), ParseResult::Invalid);
  EXPECT_EQ(parseHeader(v1 + "-> X\nAA\n", h), ParseResult::Incomplete);
  // A header that never ends is cut off.
  std::string endless = v1 + "-> X\n";
  while (endless.size() < kMaxHeader + 100) endless += std::string(64, 'A') + "\n";
  EXPECT_EQ(parseHeader(endless, h), ParseResult::Invalid);
}

TEST(AgeFormat, Bech32) {
  std::string hrp, data;
  EXPECT_TRUE(bech32Decode("A12UEL5L", hrp, data));  // BIP 173 test vectors
  EXPECT_EQ(hrp, "a");
  EXPECT_EQ(data, "");
  EXPECT_TRUE(bech32Decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", hrp, data));
  EXPECT_EQ(hrp, "abcdef");
  EXPECT_FALSE(bech32Decode("A12uEL5L", hrp, data));  // mixed case
  EXPECT_FALSE(bech32Decode("a12uel5m", hrp, data));  // bad checksum
  std::string payload = bytes(32);
  std::string text = bech32Encode("age", payload);
  EXPECT_EQ(text.substr(0, 4), "age1");
  ASSERT_TRUE(bech32Decode(text, hrp, data));
  EXPECT_EQ(data, payload);
  Key32 secret = generateSecretKey(), parsed;
  std::string identity = formatIdentity(secret);
  EXPECT_EQ(identity.substr(0, 16), "AGE-SECRET-KEY-1");
  ASSERT_TRUE(parseIdentity(identity, parsed));
  EXPECT_EQ(parsed, secret);
  EXPECT_FALSE(parseRecipient(identity, parsed));
  ASSERT_TRUE(parseRecipient(formatRecipient(publicKeyOf(secret)), parsed));
  EXPECT_EQ(parsed, publicKeyOf(secret));
  std::vector<Key32> keys;
  EXPECT_TRUE(parseIdentityFile("# created: x\n# public key: age1...\n" + identity + "\n", keys));
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_FALSE(parseIdentityFile("# nothing\n", keys));
}

TEST(AgeFormat, Base64IsCanonicalWithoutPadding) {
  std::string out;
  EXPECT_EQ(base64Encode("ab"), "YWI");
  EXPECT_TRUE(base64Decode("YWI", out));
  EXPECT_EQ(out, "ab");
  EXPECT_FALSE(base64Decode("YWI=", out));
  EXPECT_FALSE(base64Decode("YWJ", out));  // unused bits set
  EXPECT_FALSE(base64Decode("Y", out));
  EXPECT_FALSE(base64Decode("YW\xffI", out));  // libsodium 1.0.18 reads 0xff as '/'
  EXPECT_TRUE(base64Decode("", out));
}

TEST(AgeSeal, RoundTripsAcrossChunkBoundaries) {
  Key32 secret = generateSecretKey();
  for (size_t n : {size_t{0}, size_t{1}, kChunkSize - 1, kChunkSize, kChunkSize + 1, 2 * kChunkSize,
                   size_t{200000}}) {
    std::string plain = bytes(n);
    std::string sealed = seal(plain, {publicKeyOf(secret)});
    size_t chunks = n == 0 ? 1 : (n + kChunkSize - 1) / kChunkSize;
    Header h;
    ASSERT_EQ(parseHeader(sealed, h), ParseResult::Ok);
    EXPECT_EQ(sealed.size(), h.length + kNonceSize + n + chunks * kTagSize) << n;
    std::string out, why;
    ASSERT_TRUE(open(sealed, {secret}, out, &why)) << n << ": " << why;
    EXPECT_TRUE(out == plain) << n;
    // Streaming in odd pieces gives the same.
    Opener opener({secret});
    std::string streamed;
    for (size_t at = 0; at < sealed.size(); at += 7777)
      ASSERT_TRUE(opener.update(std::string_view(sealed).substr(at, 7777), streamed));
    ASSERT_TRUE(opener.finish(streamed)) << opener.why();
    EXPECT_TRUE(streamed == plain) << n;
  }
}

TEST(AgeSeal, RefusesWrongKeysTamperingAndTruncation) {
  Key32 secret = generateSecretKey(), other = generateSecretKey();
  std::string plain = bytes(150000);
  std::string sealed = seal(plain, {publicKeyOf(secret)});
  std::string out, why;
  EXPECT_FALSE(open(sealed, {other}, out, &why));
  EXPECT_EQ(why, "no identity matches a recipient of the file");
  EXPECT_TRUE(open(sealed, {other, secret}, out, &why)) << why;

  Header h;
  ASSERT_EQ(parseHeader(sealed, h), ParseResult::Ok);
  std::string tampered = sealed;
  tampered[h.length + kNonceSize + 100] ^= 1;
  EXPECT_FALSE(open(tampered, {secret}, out, &why));
  std::string mac = sealed;
  mac[h.length - 5] = mac[h.length - 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(open(mac, {secret}, out, &why));
  // Cut after the first full chunk: the missing last chunk is detected.
  std::string cut = sealed.substr(0, h.length + kNonceSize + kChunkSize + kTagSize);
  EXPECT_FALSE(open(cut, {secret}, out, &why));
  EXPECT_FALSE(open(sealed.substr(0, sealed.size() - 1), {secret}, out, &why));
  EXPECT_FALSE(open(sealed.substr(0, h.length + 3), {secret}, out, &why));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace manifold::age
