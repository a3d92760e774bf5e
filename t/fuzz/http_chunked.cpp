// libFuzzer target: the chunked body decoder. The input is decoded once in one piece and once
// split into pieces whose sizes come from the first input byte; both must agree on the status,
// the body and the bytes consumed, and every yielded run must lie inside the fed input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/http/chunked.hpp"
#include "t/fuzz/check.hpp"

using manifold::http::ChunkedDecoder;
using Status = ChunkedDecoder::Status;

namespace {

struct Outcome {
  Status status = Status::NeedMore;
  std::string body;
  size_t consumed = 0;
};

Outcome run(std::string_view in, size_t piece) {
  ChunkedDecoder dec;
  Outcome o;
  size_t offset = 0;
  while (offset < in.size()) {
    size_t end = std::min(in.size(), offset + piece);
    std::string_view buf = in.substr(offset, end - offset);
    for (;;) {
      size_t used;
      std::string_view data;
      Status st = dec.feed(buf, used, data);
      check(used <= buf.size());
      if (!data.empty())
        check(data.data() >= buf.data() && data.data() + data.size() <= buf.data() + used);
      o.body += data;
      buf.remove_prefix(used);
      offset += used;
      if (st != Status::NeedMore) {
        o.status = st;
        o.consumed = offset;
        // Sticky: nothing more is consumed afterwards.
        size_t again = 1;
        std::string_view d2;
        check(dec.feed(in.substr(offset), again, d2) == st && again == 0 && d2.empty());
        return o;
      }
      if (data.empty()) {
        check(buf.empty());
        break;
      }
      if (buf.empty()) break;
    }
  }
  o.consumed = offset;
  check(dec.bodyBytes() == o.body.size());
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 17;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  Outcome whole = run(in, in.size() + 1);
  Outcome split = run(in, piece);
  check(whole.status == split.status);
  if (whole.status != Status::Error) {
    check(whole.body == split.body);
    check(whole.consumed == split.consumed);
  }
  return 0;
}
