// Per-tunnel packet compression (`compress = off | lzo | zlib`). One Compressor per endpoint
// owns its work memory (LZO dictionary, zlib streams), allocated once, so a packet costs no
// allocation. A packet whose compressed form is not smaller is sent as it is, and after a run of
// such packets (encrypted traffic inside the tunnel) the next ones are not even tried for a
// while: compressing what does not shrink is pure CPU cost.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace manifold::tunnel::warp {

enum class Compression : uint8_t { Off = 0, Lzo = 1, Zlib = 2 };

// "off" / "lzo" / "zlib" (the config values); false for anything else.
bool parseCompression(std::string_view text, Compression& out);

class Compressor {
 public:
  explicit Compressor(Compression method);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Compresses `in` into `out` (at least in.size() bytes). Returns the method used and sets
  // `written`; Off (out untouched) when compression is off, skipped, or does not shrink.
  Compression compress(std::span<const uint8_t> in, std::span<uint8_t> out, size_t& written);
  // Decompresses a payload sent with `method` into `out`. Returns the size, or 0 when the input
  // is corrupt or does not fit (a peer's bad frame: the packet is dropped).
  size_t decompress(Compression method, std::span<const uint8_t> in, std::span<uint8_t> out);

  uint64_t skipped() const { return skipped_; }

 private:
  static constexpr unsigned kFailRun = 8;    // incompressible packets in a row ...
  static constexpr unsigned kSkipNext = 64;  // ... skip trying this many
  Compression method_;
  std::unique_ptr<uint8_t[]> lzoWork_;
  z_stream deflate_{}, inflate_{};
  bool deflateReady_ = false, inflateReady_ = false;
  unsigned failRun_ = 0, skipLeft_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace manifold::tunnel::warp
