// Unit tests of TSIG (protocols/dns/tsig.*): queries signed by `dig -y` (captured bytes, key
// "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==") verified as good, and every way they go bad
// (wrong secret, unknown key, wrong algorithm, a flipped byte, outside the fudge, a TSIG that is
// not last); our own signatures on replies and streams verified back; key lines parsed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/dns/tsig.hpp"

namespace manifold::dns {
namespace {

const char kSecret[] = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";

// dig -y hmac-sha256:xfr-key:SECRET www.example.com A (EDNS, cookie), signed at 0x6b1381ad.
const std::string kQuery256(
    "\x65\x00\x01\x20\x00\x01\x00\x00\x00\x00\x00\x02\x03\x77\x77\x77\x07\x65\x78\x61\x6d\x70"
    "\x6c\x65\x03\x63\x6f\x6d\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x0c"
    "\x00\x0a\x00\x08\xa1\xca\x98\x39\x86\xcb\xb7\x58\x07\x78\x66\x72\x2d\x6b\x65\x79\x00\x00"
    "\xfa\x00\xff\x00\x00\x00\x00\x00\x3d\x0b\x68\x6d\x61\x63\x2d\x73\x68\x61\x32\x35\x36\x00"
    "\x00\x00\x6b\x13\x81\xad\x01\x2c\x00\x20\x46\xf7\xc1\x55\xc6\x17\x64\x62\xbe\x7b\x4e\x71"
    "\x1e\x81\x37\x4b\xd0\x1c\xd0\x17\x96\x61\xa0\x4c\x3d\xae\xd3\x8c\xb7\x05\x38\x75\x65\x00"
    "\x00\x00\x00\x00",
    136);
// dig +noedns -y hmac-sha512:k512.example:SECRET example.com SOA, signed at 0x6b1381b6.
const std::string kQuery512(
    "\xbd\xef\x01\x20\x00\x01\x00\x00\x00\x00\x00\x01\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x63"
    "\x6f\x6d\x00\x00\x06\x00\x01\x04\x6b\x35\x31\x32\x07\x65\x78\x61\x6d\x70\x6c\x65\x00\x00"
    "\xfa\x00\xff\x00\x00\x00\x00\x00\x5d\x0b\x68\x6d\x61\x63\x2d\x73\x68\x61\x35\x31\x32\x00"
    "\x00\x00\x6b\x13\x81\xb6\x01\x2c\x00\x40\x2d\x4c\x9b\xac\xbf\x07\xfd\xab\x09\x01\x4a\x11"
    "\x75\x43\xf7\x6b\x9e\x6d\xe5\x22\xef\x5c\x87\x77\x0e\xbc\x39\xce\x7d\x85\x62\xed\xf1\x0b"
    "\xb0\x04\x98\xcc\xaa\x05\xc7\xa6\x93\x6b\xe0\xeb\x0b\xcc\x8f\xc9\xbf\xd4\xd4\xba\x1a\xaa"
    "\x2c\x37\x4f\xa7\x8a\x6f\x72\x91\xbd\xef\x00\x00\x00\x00",
    146);
constexpr uint64_t kTime256 = 0x6b1381ad, kTime512 = 0x6b1381b6;

std::vector<TsigKey> keys(const std::string& secret = kSecret) {
  std::vector<TsigKey> out(2);
  std::string why;
  EXPECT_TRUE(parseTsigKey("xfr-key hmac-sha256 " + secret, out[0], why)) << why;
  EXPECT_TRUE(parseTsigKey("k512.example hmac-sha512 " + secret, out[1], why)) << why;
  return out;
}

TsigStatus verify(const std::string& msg, const std::vector<TsigKey>& k, uint64_t now) {
  TsigRecord rec;
  const auto* p = reinterpret_cast<const uint8_t*>(msg.data());
  EXPECT_EQ(findTsig(p, msg.size(), rec), TsigFind::Found);
  return verifyTsig(p, msg.size(), rec, k, {}, now);
}

TEST(DnsTsig, DigSignedQueriesVerify) {
  TsigRecord rec;
  ASSERT_EQ(findTsig(reinterpret_cast<const uint8_t*>(kQuery256.data()), kQuery256.size(), rec),
            TsigFind::Found);
  EXPECT_EQ(rec.key(), std::string("\7xfr-key\0", 9));
  EXPECT_EQ(rec.timeSigned, kTime256);
  EXPECT_EQ(rec.fudge, 300);
  EXPECT_EQ(rec.macSize, 32);
  EXPECT_EQ(rec.originalId, 0x6500);
  EXPECT_EQ(rec.offset, 136u - 9 - 10 - 61);  // owner, fixed fields, RDATA
  EXPECT_EQ(verify(kQuery256, keys(), kTime256), TsigStatus::Ok);
  EXPECT_EQ(verify(kQuery256, keys(), kTime256 + 300), TsigStatus::Ok);
  EXPECT_EQ(verify(kQuery512, keys(), kTime512 - 300), TsigStatus::Ok);
}

TEST(DnsTsig, BadKeyBadSigBadTime) {
  EXPECT_EQ(verify(kQuery256, keys(), kTime256 + 301), TsigStatus::BadTime);
  EXPECT_EQ(verify(kQuery512, keys(), kTime512 - 301), TsigStatus::BadTime);
  EXPECT_EQ(verify(kQuery256, keys("QUJDREVGR0g="), kTime256), TsigStatus::BadSig);
  std::vector<TsigKey> other = keys();
  other[0].name = std::string("\5other\0", 7);
  EXPECT_EQ(verify(kQuery256, other, kTime256), TsigStatus::BadKey);
  std::vector<TsigKey> wrongAlg = keys();
  wrongAlg[0].algorithm = TsigAlgorithm::HmacSha512;
  EXPECT_EQ(verify(kQuery256, wrongAlg, kTime256), TsigStatus::BadKey);
  // Any byte of the signed part changed: the ID is covered through the original ID field, the
  // question, the OPT, the time.
  for (size_t at : {size_t{2}, size_t{14}, size_t{40}, size_t{100}}) {
    std::string m = kQuery256;
    m[at] ^= 1;
    EXPECT_EQ(verify(m, keys(), kTime256), TsigStatus::BadSig) << at;
  }
  // A different message ID alone (a forwarder's) is fine: the original ID is what is signed.
  std::string m = kQuery256;
  m[0] = 0x12;
  EXPECT_EQ(verify(m, keys(), kTime256), TsigStatus::Ok);
}

TEST(DnsTsig, MalformedAndAbsent) {
  TsigRecord rec;
  const auto* p = reinterpret_cast<const uint8_t*>(kQuery256.data());
  for (size_t len = 0; len < kQuery256.size(); ++len)
    EXPECT_NE(findTsig(p, len, rec), TsigFind::Found) << len;
  std::string noTsig = kQuery256.substr(0, 64);
  noTsig[11] = 1;
  EXPECT_EQ(findTsig(reinterpret_cast<const uint8_t*>(noTsig.data()), noTsig.size(), rec),
            TsigFind::None);
  // A TSIG that is not the last RR: the OPT moved after it.
  std::string opt = kQuery256.substr(33, 31), tsig = kQuery256.substr(64);
  std::string moved = kQuery256.substr(0, 33) + tsig + opt;
  EXPECT_EQ(findTsig(reinterpret_cast<const uint8_t*>(moved.data()), moved.size(), rec),
            TsigFind::Malformed);
}

TEST(DnsTsig, SignedRepliesAndStreamsVerifyBack) {
  std::vector<TsigKey> k = keys();
  TsigRecord req;
  ASSERT_EQ(findTsig(reinterpret_cast<const uint8_t*>(kQuery512.data()), kQuery512.size(), req),
            TsigFind::Found);
  for (const TsigKey& key : k) {
    uint8_t buf[512] = {0xbd, 0xef, 0x84, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t n = 12;
    std::string mac;
    n = signTsig(buf, n, sizeof buf, key, req.macView(), 1000, false, &mac);
    ASSERT_GT(n, 12u);
    EXPECT_EQ(n, 12 + key.recordSize());
    EXPECT_EQ(get16(buf + 10), 1);
    TsigRecord rec;
    ASSERT_EQ(findTsig(buf, n, rec), TsigFind::Found);
    EXPECT_EQ(verifyTsig(buf, n, rec, k, req.macView(), 1000), TsigStatus::Ok);
    EXPECT_EQ(verifyTsig(buf, n, rec, k, {}, 1000), TsigStatus::BadSig);  // request MAC needed
    // The next message of a stream: chained to that MAC, timers only.
    uint8_t next[512] = {0xbd, 0xef, 0x84, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t m = signTsig(next, 12, sizeof next, key, mac, 1001, true);
    ASSERT_EQ(findTsig(next, m, rec), TsigFind::Found);
    EXPECT_EQ(verifyTsig(next, m, rec, k, mac, 1001, true), TsigStatus::Ok);
    EXPECT_EQ(verifyTsig(next, m, rec, k, mac, 1001, false), TsigStatus::BadSig);
    // Too small to hold the signature: nothing written.
    EXPECT_EQ(signTsig(next, 12, 12 + key.recordSize() - 1, key, {}, 1, false), 0u);
  }
}

TEST(DnsTsig, UnsignedErrorEchoesKeyAndAlgorithm) {
  TsigRecord req;
  ASSERT_EQ(findTsig(reinterpret_cast<const uint8_t*>(kQuery256.data()), kQuery256.size(), req),
            TsigFind::Found);
  uint8_t buf[512] = {0x65, 0x00, 0x80, 0x09, 0, 0, 0, 0, 0, 0, 0, 0};
  size_t n = appendUnsignedTsig(buf, 12, sizeof buf, req, kTsigBadKey);
  TsigRecord rec;
  ASSERT_EQ(findTsig(buf, n, rec), TsigFind::Found);
  EXPECT_EQ(rec.key(), req.key());
  EXPECT_EQ(rec.error, kTsigBadKey);
  EXPECT_EQ(rec.macSize, 0);
  EXPECT_EQ(rec.timeSigned, kTime256);
}

TEST(DnsTsig, KeyLines) {
  TsigKey k;
  std::string why;
  EXPECT_TRUE(parseTsigKey("Xfr.Example hmac-sha512 QUJD", k, why)) << why;
  EXPECT_EQ(k.name, std::string("\3xfr\7example\0", 13));
  EXPECT_EQ(k.secret, "ABC");
  EXPECT_EQ(k.macSize(), 64u);
  EXPECT_FALSE(parseTsigKey("k hmac-md5 QUJD", k, why));
  EXPECT_NE(why.find("hmac-md5"), std::string::npos);
  EXPECT_FALSE(parseTsigKey("k hmac-sha256 !!!", k, why));
  EXPECT_FALSE(parseTsigKey("k hmac-sha256", k, why));
}

}  // namespace
}  // namespace manifold::dns
