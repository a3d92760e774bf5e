// libFuzzer target: the tunnel's message parser, the inner-packet address reader and the
// tun read splitter (gso.hpp) and the tun write coalescer (gro.hpp). Checks
// that a parsed message has the exact size of its type, that its index and counter are the
// bytes at their offsets, and that inner addresses are read only from whole headers.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "protocols/tunnel/gro.hpp"
#include "protocols/tunnel/gso.hpp"
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
  // A tun read (vnet header + maybe a super-packet) splits into packets that fit and stay inside.
  TunRead read;
  if (read.parse({data, size})) {
    static uint8_t out[2048];
    size_t total = 0;
    for (size_t i = 0; i < read.count() && i < 100; ++i) {
      size_t n = read.segment(i, out, sizeof out);
      check(n <= sizeof out);
      total += n;
    }
    (void)total;
  }
  // Peer packets coalesced for the tun: every write is a header and something non-empty.
  {
    TunWriteBatch batch([](std::span<const uint8_t> h, std::span<const uint8_t> p) {
      check(h.size() == kVnetHeaderSize && !p.empty() && p.size() <= 65535);
    });
    size_t at = 0;
    while (at < size) {
      size_t n = std::min<size_t>(size - at, 1 + data[at] * 7u);
      batch.add({data + at, n});
      at += n;
    }
    batch.flush();
  }
  // The replay window never accepts a counter twice, whatever the order.
  ReplayWindow w;
  for (size_t i = 0; i + 2 <= size && i < 64; i += 2) {
    uint64_t c = (uint64_t(data[i]) << 8 | data[i + 1]) * 37;
    bool first = w.accept(c);
    if (first) check(!w.accept(c));
  }
  return 0;
}
