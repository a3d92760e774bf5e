// libFuzzer target: the tunnel's message parser and the inner-packet address reader. Checks
// that a parsed message has the exact size of its type, that its index and counter are the
// bytes at their offsets, and that inner addresses are read only from whole headers.
#include <cstddef>
#include <cstdint>

#include "protocols/tunnel/inner.hpp"
#include "protocols/tunnel/packet.hpp"
#include "protocols/tunnel/replay.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::tunnel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Message m;
  if (parseMessage({data, size}, m)) {
    check(m.bytes.data() == data && m.bytes.size() == size);
    check(m.index == loadLe32(data + 4));
    switch (m.type) {
      case MessageType::Initiation:
        check(size == kInitiationSize);
        break;
      case MessageType::Response:
        check(size == kResponseSize);
        break;
      case MessageType::CookieReply:
        check(size == kCookieReplySize);
        break;
      case MessageType::Data:
        check(size >= kMinDataSize && m.counter == loadLe64(data + data::kCounter));
        break;
    }
  }
  manifold::net::PeerAddress src, dst;
  if (innerAddresses({data, size}, src, dst))
    check(size >= 20 && (src.family == AF_INET ? size >= 20 : size >= 40));
  // The replay window never accepts a counter twice, whatever the order.
  ReplayWindow w;
  for (size_t i = 0; i + 2 <= size && i < 64; i += 2) {
    uint64_t c = (uint64_t(data[i]) << 8 | data[i + 1]) * 37;
    bool first = w.accept(c);
    if (first) check(!w.accept(c));
  }
  return 0;
}
