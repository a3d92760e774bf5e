// libFuzzer target: the TSIG finder and verifier (protocols/dns/tsig.*). Whatever the bytes,
// finding must not read outside the input and must point inside it; verification with the keys
// (one of each algorithm, the fuzzer may guess their names) never crashes, and a message we sign
// verifies back.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "protocols/dns/tsig.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::dns;

namespace {

const std::vector<TsigKey>& keys() {
  static std::vector<TsigKey> k = [] {
    std::vector<TsigKey> out(2);
    std::string why;
    if (!parseTsigKey("xfr-key hmac-sha256 c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==", out[0],
                      why) ||
        !parseTsigKey(
            "k512.example hmac-sha512 c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==", out[1], why))
      __builtin_trap();
    return out;
  }();
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> in(data, data + size);  // exact-size copy: ASan sees any overread
  TsigRecord rec;
  if (findTsig(in.data(), in.size(), rec) == TsigFind::Found) {
    check(rec.offset >= kHeaderSize && rec.offset < size);
    check(rec.mac + rec.macSize <= in.data() + size);
    check(rec.other + rec.otherLength == in.data() + size);
    for (bool timersOnly : {false, true})
      verifyTsig(in.data(), in.size(), rec, keys(), rec.macView(), rec.timeSigned, timersOnly);
  }
  // Signing what was found before the TSIG (or the whole input) and verifying it back.
  size_t len = rec.offset ? rec.offset : size;
  if (len >= kHeaderSize && len < 4096) {
    std::vector<uint8_t> buf(in.begin(), in.begin() + static_cast<ptrdiff_t>(len));
    buf[10] = buf[11] = 0;  // nothing after the message: ARCOUNT counts only the TSIG
    buf[6] = buf[7] = buf[8] = buf[9] = 0;
    buf[4] = buf[5] = 0;
    buf.resize(kHeaderSize);
    buf.resize(kHeaderSize + 256);
    size_t n = signTsig(buf.data(), kHeaderSize, buf.size(), keys()[size & 1], {}, 77, false);
    check(n > kHeaderSize);
    TsigRecord back;
    check(findTsig(buf.data(), n, back) == TsigFind::Found);
    check(verifyTsig(buf.data(), n, back, keys(), {}, 77) == TsigStatus::Ok);
  }
  return 0;
}
