// libFuzzer target: the TFTP request/packet/OACK parsers and the netascii codec. Checks that
// every view stays inside the input, that a parsed request rebuilds into a request that parses
// to the same values, and that netascii decode(encode(x)) == x for any split.
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/tftp/filename.hpp"
#include "protocols/tftp/netascii.hpp"
#include "protocols/tftp/packet.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::tftp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Request r;
  if (parseRequest(data, size, r) == ParseResult::Ok) {
    auto* begin = reinterpret_cast<const char*>(data);
    check(r.filename.data() >= begin && r.filename.data() + r.filename.size() <= begin + size);
    check(!r.filename.empty() && r.filename.find('\0') == std::string_view::npos);
    std::string name;
    if (normalizeFilename(r.filename, size % 2, name)) {
      check(!name.empty() && name.front() != '/' && name.back() != '/');
      check(name.find("//") == std::string::npos);
      std::string wrapped = "/" + name + "/";
      check(wrapped.find("/../") == std::string::npos && wrapped.find("/./") == std::string::npos);
    }
    static uint8_t buf[4096];
    size_t n = buildRequest(buf, sizeof buf, r.opcode, r.filename, r.mode, r.options);
    if (n) {
      Request again;
      check(parseRequest(buf, n, again) == ParseResult::Ok);
      check(again.filename == r.filename && again.mode == r.mode && again.opcode == r.opcode);
      check(again.options.blksize == r.options.blksize && again.options.tsize == r.options.tsize &&
            again.options.windowsize == r.options.windowsize &&
            again.options.timeout == r.options.timeout);
    }
  }
  Packet p;
  if (parsePacket(data, size, p))
    check(p.payload >= data && p.payload + p.payloadLen <= data + size);
  Options o;
  parseOack(data, size, o);

  // netascii: encode in blocks of 1..64 bytes, decode in one piece.
  if (size > 0) {
    size_t block = 1 + data[0] % 64;
    std::string wire;
    NetasciiCursor cursor;
    std::string out(block, '\0');
    for (;;) {
      size_t n = netasciiEncode(data + cursor.offset, size - cursor.offset, cursor,
                                reinterpret_cast<uint8_t*>(out.data()), block);
      check(cursor.offset <= size);
      wire.append(out, 0, n);
      if (n < block) break;
    }
    std::string decoded(wire.size() + 1, '\0');
    NetasciiDecoder d;
    size_t m = d.decode(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                        reinterpret_cast<uint8_t*>(decoded.data()));
    m += d.finish(reinterpret_cast<uint8_t*>(decoded.data()) + m);
    check(m == size && decoded.compare(0, m, reinterpret_cast<const char*>(data), size) == 0);
  }
  return 0;
}
