#include "protocols/tunnel/warp/compress.hpp"

#include <lzo/lzo1x.h>

namespace manifold::tunnel::warp {

bool parseCompression(std::string_view text, Compression& out) {
  if (text == "off")
    out = Compression::Off;
  else if (text == "lzo")
    out = Compression::Lzo;
  else if (text == "zlib")
    out = Compression::Zlib;
  else
    return false;
  return true;
}

Compressor::Compressor(Compression method) : method_(method) {
  // lzo_init() only checks the library's build; calling it for each compressor is harmless.
  if (lzo_init() != LZO_E_OK) method_ = Compression::Off;
  if (method_ == Compression::Lzo) lzoWork_ = std::make_unique<uint8_t[]>(LZO1X_1_MEM_COMPRESS);
  // Raw deflate (no zlib header: the frame flag says what it is), level 1: a tunnel wants speed.
  deflateReady_ = deflateInit2(&deflate_, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  inflateReady_ = inflateInit2(&inflate_, -15) == Z_OK;
}

Compressor::~Compressor() {
  if (deflateReady_) deflateEnd(&deflate_);
  if (inflateReady_) inflateEnd(&inflate_);
}

Compression Compressor::compress(std::span<const uint8_t> in, std::span<uint8_t> out,
                                 size_t& written) {
  written = 0;
  if (method_ == Compression::Off || in.size() < 64 || out.size() < in.size())
    return Compression::Off;
  if (skipLeft_ > 0) {
    --skipLeft_;
    ++skipped_;
    return Compression::Off;
  }
  size_t n = 0;
  if (method_ == Compression::Lzo) {
    // LZO may expand incompressible input by in/16 + 67 bytes: compress into scratch first.
    uint8_t scratch[65536 + 65536 / 16 + 128];
    if (in.size() > 65536) return Compression::Off;
    lzo_uint len = 0;
    if (lzo1x_1_compress(in.data(), in.size(), scratch, &len, lzoWork_.get()) == LZO_E_OK &&
        len < in.size()) {
      for (size_t i = 0; i < len; ++i) out[i] = scratch[i];
      n = len;
    }
  } else if (deflateReady_) {
    deflateReset(&deflate_);
    deflate_.next_in = const_cast<uint8_t*>(in.data());
    deflate_.avail_in = unsigned(in.size());
    deflate_.next_out = out.data();
    deflate_.avail_out = unsigned(in.size() - 1);  // only a smaller result is worth it
    if (deflate(&deflate_, Z_FINISH) == Z_STREAM_END) n = deflate_.total_out;
  }
  if (n == 0) {
    if (++failRun_ >= kFailRun) {
      failRun_ = 0;
      skipLeft_ = kSkipNext;
    }
    return Compression::Off;
  }
  failRun_ = 0;
  written = n;
  return method_;
}

size_t Compressor::decompress(Compression method, std::span<const uint8_t> in,
                              std::span<uint8_t> out) {
  if (method == Compression::Lzo) {
    lzo_uint len = out.size();
    if (lzo1x_decompress_safe(in.data(), in.size(), out.data(), &len, nullptr) != LZO_E_OK)
      return 0;
    return len;
  }
  if (method == Compression::Zlib && inflateReady_) {
    inflateReset(&inflate_);
    inflate_.next_in = const_cast<uint8_t*>(in.data());
    inflate_.avail_in = unsigned(in.size());
    inflate_.next_out = out.data();
    inflate_.avail_out = unsigned(out.size());
    if (inflate(&inflate_, Z_FINISH) != Z_STREAM_END) return 0;
    return inflate_.total_out;
  }
  return 0;
}

}  // namespace manifold::tunnel::warp
